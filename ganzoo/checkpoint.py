"""safetensors in and out: final weights with their config, and atomic resumable checkpoints.

No pickle is ever loaded: tensors live in safetensors files and everything else in JSON
(in the files' metadata), so a checkpoint cannot run code and survives torch upgrades.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ganzoo.errors import RunDirError
from ganzoo.files import atomic_path, read_metadata

FORMAT = "ganzoo.weights.v1"
CHECKPOINT_FORMAT = "ganzoo.checkpoint.v1"
CHECKPOINT_FILE = "state.safetensors"
_KERNEL_FLAGS = ("fused", "foreach", "capturable", "differentiable")


def save_weights(path: Path, module: torch.nn.Module, role: str, config: dict[str, Any]) -> None:
    """Write a module's weights with the run's config in the metadata, so the file rebuilds itself."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
    metadata = {"format": FORMAT, "role": role, "config": json.dumps(config, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def load_weights(path: Path, role: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and run config from a file written by :func:`save_weights` for ``role``."""
    metadata = read_metadata(path)
    if metadata.get("format") != FORMAT or metadata.get("role") != role or "config" not in metadata:
        raise RunDirError(
            f"{path} is a safetensors file but not a ganzoo {role} (its metadata lacks ganzoo's)."
        )
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise RunDirError(f"{path} is damaged: {exc}.") from exc
    try:
        config = json.loads(metadata["config"])
    except ValueError as exc:
        raise RunDirError(f"{path} is damaged: the run record in its metadata is not JSON.") from exc
    if not isinstance(config, dict):
        raise RunDirError(f"{path} is damaged: the run record in its metadata is not a JSON object.")
    return tensors, config


# -- checkpoints -----------------------------------------------------------------------------


def _flatten_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> dict:
    sd = opt.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}/{idx}/{key}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(prefix: str, meta: dict, tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "/"):
            _, idx, key = name.split("/", 2)
            state.setdefault(int(idx), {})[key] = value
    for idx, scalars in meta["scalars"].items():
        state.setdefault(int(idx), {}).update(scalars)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    directory: Path,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    extra_tensors: dict[str, torch.Tensor],
    state: dict[str, Any],
    keep: int = 1,
) -> Path:
    """Write one self-contained checkpoint file atomically: a kill leaves the previous one whole."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"{name}/{key}"] = value.detach().contiguous().cpu()
    optim_meta = {name: _flatten_optimizer(f"optim.{name}", opt, tensors) for name, opt in optimizers.items()}
    for name, value in extra_tensors.items():
        tensors[f"extra/{name}"] = value.detach().contiguous().cpu()
    metadata = {"format": CHECKPOINT_FORMAT, "state": json.dumps(state), "optimizers": json.dumps(optim_meta)}
    path = Path(directory) / CHECKPOINT_FILE
    if keep > 1 and path.is_file():
        _keep_previous(path, keep)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def _keep_previous(path: Path, keep: int) -> None:
    """Keep the checkpoint about to be replaced as ``state-STEP.safetensors``; drop all but K - 1 of those.

    A hard link costs no copy and leaves ``path`` in place, so a kill at any moment still finds a
    whole latest checkpoint (a copy is the fallback where links are not allowed).
    """
    try:
        step = int(json.loads(read_metadata(path)["state"])["step"])
    except (RunDirError, KeyError, ValueError):
        return  # not ours to keep
    kept = path.with_name(f"state-{step:07d}.safetensors")
    if not kept.exists():
        try:
            os.link(path, kept)
        except OSError:
            shutil.copy2(path, kept)
    for old in sorted(path.parent.glob("state-*.safetensors"))[: -(keep - 1)]:
        old.unlink()


def _match_layouts(opt: torch.optim.Optimizer) -> None:
    """Give each restored state tensor (Adam's moments) its parameter's memory layout.

    safetensors stores tensors contiguous; a channels-last weight's moments came back NCHW. The
    fused Adam kernel walks parameter, gradient and moments in memory order, so mismatched
    layouts pair the wrong elements: a channels-last run resumed 0.004 away from its straight run
    after two steps (measured on dcgan mnist) instead of bit for bit.
    """
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state.get(p, {})
            for key, value in state.items():
                if (
                    isinstance(value, torch.Tensor)
                    and value.shape == p.shape
                    and value.stride() != p.stride()
                ):
                    state[key] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def load_checkpoint(
    directory: Path,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Restore modules and optimizers in place; returns the extra tensors and the JSON state."""
    path = Path(directory) / CHECKPOINT_FILE
    metadata = read_metadata(path)
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise RunDirError(f"{path} is not a ganzoo checkpoint.")
    try:
        # Fresh (aligned) copies: kernels take other code paths on unaligned memory, and a resumed
        # run must compute bit for bit what the uninterrupted run would have.
        tensors = {k: v.clone() for k, v in load_file(str(path)).items()}
    except (SafetensorError, OSError) as exc:
        raise RunDirError(f"{path} is damaged: {exc}.") from exc
    for name, module in modules.items():
        prefix = name + "/"
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    optim_meta = json.loads(metadata["optimizers"])
    for name, opt in optimizers.items():
        saved = _unflatten_optimizer(f"optim.{name}", optim_meta[name], tensors)
        # Keep the live optimiser's kernel choice (fused / foreach): the file may come from a
        # torch or device that chose otherwise, and the saved flags would silently slow it down.
        for group, live in zip(saved["param_groups"], opt.param_groups, strict=True):
            group.update({k: live[k] for k in _KERNEL_FLAGS if k in live})
        opt.load_state_dict(saved)
        _match_layouts(opt)
    extra = {k[len("extra/") :]: v for k, v in tensors.items() if k.startswith("extra/")}
    return extra, json.loads(metadata["state"])
