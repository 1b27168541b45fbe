"""A loaded generator walks its latent space on the sphere; a damaged record in its file is one sentence."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ganzoo.errors import RunDirError
from ganzoo.loaded import from_file


def test_slerp_stays_on_the_sphere_between_its_ends() -> None:
    from ganzoo.loaded import slerp

    a, b = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    path = slerp(a, b, torch.linspace(0, 1, 5))[0]
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 3.0), atol=1e-5)
    assert torch.allclose(path[0], a[0]) and torch.allclose(path[-1], b[0], atol=1e-6)


def _with_config(src: Path, dest: Path, config: str) -> Path:
    """A copy of a weights file whose metadata's run record is replaced by ``config``."""
    with safe_open(str(src), "pt") as f:
        metadata = dict(f.metadata())
    metadata["config"] = config
    save_file(load_file(str(src)), str(dest), metadata=metadata)
    return dest


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["run"]["train"].update(latent_dim="x"),
            "run.train.latent_dim must be a positive whole number",
        ),
        (lambda d: d["data"].update(value_range=[0]), "data.value_range must be two numbers, got [0]."),
        (lambda d: d.pop("run"), "run is missing."),
    ],
)
def test_a_weights_file_whose_record_has_the_wrong_shape_names_file_and_key(
    run: Any, tmp_path: Path, edit: Any, message: str
) -> None:
    src = run.file("generator.safetensors")
    with safe_open(str(src), "pt") as f:
        doc = json.loads(f.metadata()["config"])
    edit(doc)
    path = _with_config(src, tmp_path / "generator.safetensors", json.dumps(doc))
    with pytest.raises(RunDirError) as err:
        from_file(path)
    assert str(err.value).startswith(f"The run record in {path}'s metadata is damaged: ")
    assert message in str(err.value)


def test_a_weights_file_whose_record_is_not_json_names_the_file(run: Any, tmp_path: Path) -> None:
    path = _with_config(run.file("generator.safetensors"), tmp_path / "g.safetensors", '{"run": {')
    with pytest.raises(
        RunDirError, match=re.escape(f"{path} is damaged: the run record in its metadata is not JSON")
    ):
        from_file(path)


def test_a_record_whose_hyperparameters_no_longer_build_is_a_damaged_file(run: Any, tmp_path: Path) -> None:
    """A generator file whose record names a hyperparameter the network does not take (a flipped
    byte in a key, as the fuzzer found; or a plugin changed since) is the file's fault: exit 1 and
    one sentence naming the file, not a usage error about options the user never typed."""
    src = run.file("generator.safetensors")
    with safe_open(str(src), "pt") as f:
        doc = json.loads(f.metadata()["config"])
    doc["run"]["params"]["generator"]["oegative_slope"] = 0.01
    path = _with_config(src, tmp_path / "g.safetensors", json.dumps(doc))
    with pytest.raises(RunDirError, match=r"does not build its generator: .*oegative_slope") as err:
        from_file(path)
    assert str(err.value).startswith(f"The run record in {path}'s metadata") and err.value.exit_code == 1
