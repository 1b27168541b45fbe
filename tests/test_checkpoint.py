from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ganzoo import checkpoint
from ganzoo.errors import RunDirError
from ganzoo.files import damage, read_metadata


def test_weights_carry_their_config(tmp_path: Path) -> None:
    net = torch.nn.Linear(3, 2)
    path = tmp_path / "generator.safetensors"
    checkpoint.save_weights(path, net, "generator", {"run": {"generator": "x"}, "seed": 4})
    tensors, config = checkpoint.load_weights(path, "generator")
    assert config == {"run": {"generator": "x"}, "seed": 4}
    assert torch.equal(tensors["weight"], net.weight.detach())
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_a_foreign_safetensors_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(RunDirError, match="not a ganzoo generator"):
        checkpoint.load_weights(path, "generator")


@pytest.mark.parametrize(
    "content", [b"", b"garbage!", b"\xff" * 64, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}"]
)
def test_a_file_that_is_not_safetensors_is_named(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "generator.safetensors"
    path.write_bytes(content)
    with pytest.raises(RunDirError, match="is not a safetensors file"):
        checkpoint.load_weights(path, "generator")


def test_a_truncated_weights_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "generator.safetensors"
    checkpoint.save_weights(path, torch.nn.Linear(50, 50), "generator", {})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(RunDirError, match="damaged"):
        checkpoint.load_weights(path, "generator")


def test_checkpoint_round_trip_restores_optimizer_state(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 1)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        net(torch.randn(8, 4)).pow(2).mean().backward()
        opt.step()
    checkpoint.save_checkpoint(
        tmp_path, {"net": net}, {"net": opt}, {"noise": torch.arange(3.0)}, {"step": 3}
    )

    net2 = torch.nn.Linear(4, 1)
    opt2 = torch.optim.Adam(net2.parameters(), lr=0.5)
    extra, state = checkpoint.load_checkpoint(tmp_path, {"net": net2}, {"net": opt2})
    assert state == {"step": 3}
    assert torch.equal(extra["noise"], torch.arange(3.0))
    assert torch.equal(net2.weight, net.weight)
    assert opt2.param_groups[0]["lr"] == 0.01
    s1, s2 = opt.state_dict()["state"][0], opt2.state_dict()["state"][0]
    assert torch.equal(s1["exp_avg"], s2["exp_avg"]) and float(s1["step"]) == float(s2["step"]) == 3


def test_damage_tells_a_weights_file_cut_short_or_grown_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "generator.safetensors"
    checkpoint.save_weights(path, torch.nn.Linear(50, 50), "generator", {})
    whole = path.read_bytes()
    assert damage(path) is None
    path.write_bytes(whole[:-100])
    n = len(whole)
    assert (
        damage(path)
        == f"{path} is damaged: it is cut short ({n - 100} of the {n} bytes its header declares)."
    )
    with pytest.raises(RunDirError, match="cut short"):  # its metadata alone is not to be trusted either
        read_metadata(path)
    path.write_bytes(whole + b"junk")
    assert damage(path) == (
        f"{path} is damaged: it holds {len(whole) + 4} bytes, more than the {len(whole)} its header declares."
    )
    path.write_bytes(b"\x05")
    assert damage(path) == f"{path} is not a safetensors file (it is only 1 bytes long)."
