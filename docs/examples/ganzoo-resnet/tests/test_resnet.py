"""Uses the fixtures every pytest run gets once ganzoo is installed (ganzoo.pytest_plugin)."""

import json

import pytest

import ganzoo_resnet


def test_it_trains_with_the_hinge_loss_it_declares(ganzoo_register, ganzoo_train):
    ganzoo_register(ganzoo_resnet, name="resnet", dist="ganzoo-resnet")
    run = ganzoo_train("resnet", iterations=3, sets=["generator.channels=16", "discriminator.channels=16"])
    config = json.loads((run / "config.json").read_text())
    assert config["run"]["loss"] == "hinge" and config["result"]["steps"] == 3


def test_it_refuses_sides_that_are_not_a_multiple_of_four(ganzoo_register):
    from ganzoo.components import DataSpec
    from ganzoo.errors import IncompatibleError
    from ganzoo_resnet.networks import Generator

    with pytest.raises(IncompatibleError, match="multiple of 4"):
        Generator.check(DataSpec((3, 30, 30), "image", (0.0, 1.0)))
