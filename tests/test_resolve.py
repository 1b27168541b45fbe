"""One run configuration from its layers: defaults < recipe < settings file < environment < command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ganzoo
from ganzoo import build
from ganzoo.errors import RecipeError, UsageError
from ganzoo.manager import get_manager
from ganzoo.recipes import load_recipes, parse_zoo
from ganzoo.resolve import Request, parse_value
from ganzoo.resolve import resolve as resolve_request


def resolve(
    arch: str,
    dataset: str,
    find: Any,
    recipe_name: str | None = None,
    options: dict[str, Any] | None = None,
    sets: Any = (),
    recipes: Any = None,
    **names: Any,
) -> Any:
    request = Request(arch, dataset, recipe_name, options=options or {}, sets=tuple(sets), **names)
    return resolve_request(request, find, recipes)


def lookup(kind: str, name: str) -> Any:
    return build.lookup(get_manager(), kind, name)


def test_the_pair_runs_its_default_recipe_and_the_source_recipe_by_name() -> None:
    cfg = resolve("vanilla-mlp", "mnist", lookup)
    assert cfg.recipe == "vanilla-mlp-mnist"
    assert cfg.params["loss"]["r1"] > 0 and cfg.train.ema and cfg.train.betas_g[0] == 0.5
    cfg = resolve("vanilla-mlp", "mnist", lookup, recipe_name="seed-002-vanilla-mlp-mnist")
    t = cfg.train
    assert cfg.recipe == "seed-002-vanilla-mlp-mnist"
    assert (t.iterations, t.batch_size, t.latent_dim, t.prior) == (20000, 128, 100, "normal")
    assert (t.optimizer_g, t.lr_g, t.optimizer_d, t.lr_d) == ("adam", 0.001, "adam", 0.001)
    assert t.d_update == "split"
    assert cfg.params["generator"] == {"hidden": 128, "negative_slope": 0.01}
    assert cfg.loss == "bce"


def test_options_override_the_recipe_and_set_overrides_everything() -> None:
    cfg = resolve(
        "vanilla-mlp",
        "mnist",
        lookup,
        "seed-002-vanilla-mlp-mnist",
        options={"batch_size": 64, "lr_g": None},
        sets=["generator.hidden=256", "lr_g=0.0005", "loss.label_smoothing=0.1", "negative_slope=0.2"],
    )
    assert cfg.train.batch_size == 64
    assert cfg.train.lr_g == 0.0005
    assert cfg.params["generator"]["hidden"] == 256
    assert cfg.params["discriminator"]["hidden"] == 128
    assert cfg.params["loss"]["label_smoothing"] == 0.1
    # a bare key reaches every component that declares it
    assert cfg.params["generator"]["negative_slope"] == cfg.params["discriminator"]["negative_slope"] == 0.2


@pytest.mark.parametrize(
    ("sets", "options", "message"),
    [
        (["hiden=3"], {}, "no training setting or component hyperparameter"),
        (["generator.nope=3"], {}, "no training setting"),
        (["noequals"], {}, "KEY=VALUE"),
        ([], {"batch_size": 0}, "--batch-size must be a positive whole number"),
        ([], {"iterations": -5}, "--iterations must be a positive whole number"),
        ([], {"lr_d": 0.0}, "--lr-d must be a positive number"),
        (["prior=cauchy"], {}, "prior must be one of"),
        (["d_update=sideways"], {}, "d_update must be one of"),
    ],
)
def test_impossible_values_are_refused_with_a_sentence(
    sets: list[str], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        resolve("vanilla-mlp", "mnist", lookup, options=options, sets=sets)


def test_unknown_recipe_suggests_one() -> None:
    with pytest.raises(UsageError, match="Did you mean 'seed-002-vanilla-mlp-mnist'"):
        resolve("vanilla-mlp", "mnist", lookup, recipe_name="seed-002-vanilla-mlp-mnst")


def test_set_values_parse_like_toml() -> None:
    assert parse_value("3") == 3
    assert parse_value("0.5") == 0.5
    assert parse_value("true") is True
    assert parse_value("[0.5, 0.9]") == [0.5, 0.9]
    assert parse_value("adam") == "adam"


def test_every_recipe_in_the_zoo_resolves_against_the_registered_components() -> None:
    recipes = load_recipes()
    sources = {r.source for r in recipes.values() if r.source}
    assert sources == {"000", "001", "002", "003", "004"}
    for recipe in recipes.values():
        c = recipe.components
        cfg = resolve(c["generator"], c["dataset"], lookup, recipe_name=recipe.name)
        assert cfg.recipe == recipe.name
        g, d = lookup("generator", cfg.generator), lookup("discriminator", cfg.discriminator)
        spec_cls = lookup("dataset", cfg.dataset)
        if cfg.dataset != "image-folder":  # its shape comes from the user's folder and --set
            spec = spec_cls(None, **cfg.params["dataset"]).spec()
            g.check(spec)
            d.check(spec)


FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


def _resolved(tmp_path: Path, **options: Any) -> dict[str, Any]:
    """The settings a run would record, without training: its config.json after 1 iteration."""
    out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    r = ganzoo.train("vanilla-mlp", "mnist", out=out, data_dir=FIXTURE, iterations=1, seed=0, **options)
    return dict(r.config["run"]["train"])


def test_precedence_cli_over_env_over_config_file_over_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GANZOO_HOME", str(home))
    runs = tmp_path / "runs"
    runs.mkdir()
    assert _resolved(runs)["batch_size"] == 128  # the recipe
    (home / "config.toml").write_text('[train]\nbatch_size = 32\ndevice = "auto"\nsample_every = 7\n')
    train = _resolved(runs)
    assert train["batch_size"] == 32 and train["sample_every"] == 7 and train["device"] == "auto"
    monkeypatch.setenv("GANZOO_DEVICE", "cpu")
    assert _resolved(runs)["device"] == "cpu"  # the environment beats the file
    assert _resolved(runs, batch_size=16)["batch_size"] == 16  # the command line beats both
    monkeypatch.setenv("GANZOO_DEVICE", "tpu")
    with pytest.raises(UsageError, match="--device must be auto, cpu"):
        _resolved(runs)
    assert _resolved(runs, device="cpu")["device"] == "cpu"


def test_iterations_on_the_command_line_override_a_recipe_counted_in_epochs(tmp_path: Path) -> None:
    from ganzoo import build
    from ganzoo.errors import UsageError
    from ganzoo.manager import get_manager
    from ganzoo.resolve import Request, resolve

    def lookup(kind: str, name: str) -> Any:
        return build.lookup(get_manager(), kind, name)

    zoo = tmp_path / "zoo.toml"
    zoo.write_text(
        '[epochs]\ngenerator = "vanilla-mlp"\ndiscriminator = "vanilla-mlp"\ndataset = "mnist"\n'
        "[epochs.train]\nepochs = 3\n"
    )
    recipes = parse_zoo(zoo)
    cfg = resolve(Request("vanilla-mlp", "mnist"), lookup, recipes)
    assert cfg.train.epochs == 3
    cfg = resolve(Request("vanilla-mlp", "mnist", options={"iterations": 50}), lookup, recipes)
    assert (cfg.train.iterations, cfg.train.epochs) == (50, None)
    with pytest.raises(UsageError, match="not both"):
        resolve(Request("vanilla-mlp", "mnist", options={"iterations": 50}, sets=("epochs=3",)), lookup)


def test_a_recipe_param_the_component_lacks_is_refused(tmp_path: Path) -> None:
    zoo = tmp_path / "zoo.toml"
    zoo.write_text(
        '[a]\ngenerator = "vanilla-mlp"\ndiscriminator = "vanilla-mlp"\ndataset = "mnist"\n'
        "[a.params.generator]\nwidth = 3\n"
    )
    with pytest.raises(RecipeError, match="declares no such hyperparameter"):
        resolve("vanilla-mlp", "mnist", lookup, recipes=parse_zoo(zoo))


@pytest.mark.parametrize(
    ("options", "sets", "recipe"),
    [
        ({"conditional": True}, (), "dcgan-mnist-conditional"),
        ({}, ("conditional=true",), "dcgan-mnist-conditional"),
        ({}, ("train.conditional = true",), "dcgan-mnist-conditional"),
        ({}, ("conditional=true", "conditional=false"), "dcgan-mnist"),
        ({"conditional": False}, ("conditional=true",), "dcgan-mnist"),
        ({}, (), "dcgan-mnist"),
    ],
)
def test_asking_for_a_conditional_run_picks_the_pairs_conditional_recipe(
    options: dict[str, Any], sets: tuple[str, ...], recipe: str
) -> None:
    assert resolve("dcgan", "mnist", lookup, options=options, sets=sets).recipe == recipe


def test_the_settings_file_can_ask_for_conditional_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    (config / "ganzoo").mkdir(parents=True)
    (config / "ganzoo" / "config.toml").write_text("[train]\nconditional = true\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    cfg = resolve("dcgan", "mnist", lookup)
    assert cfg.recipe == "dcgan-mnist-conditional" and cfg.train.conditional


def test_train_defaults_speak_the_settings_names_and_refuse_others() -> None:
    """A network may write ``lr`` (its side's lr_g / lr_d, as before 0.3) or the setting's own name;
    a loss the settings' names; a key that is no setting is refused naming the class, not dropped."""
    from typing import ClassVar

    from ganzoo.components import Discriminator, Generator, Loss
    from ganzoo.errors import PluginError
    from ganzoo.resolve import component_training

    class G(Generator):
        train_defaults: ClassVar[dict[str, Any]] = {"lr": 1e-3, "betas_g": [0.0, 0.9], "loss": "hinge"}

    class D(Discriminator):
        train_defaults: ClassVar[dict[str, Any]] = {"lr": 4e-3, "d_steps": 2}

    class L(Loss):
        train_defaults: ClassVar[dict[str, Any]] = {"d_update": "joint", "lr_d": 1e-4}

    class Typo(Loss):
        train_defaults: ClassVar[dict[str, Any]] = {"d_updates": "joint"}

    assert component_training("generator", G) == {"lr_g": 1e-3, "betas_g": [0.0, 0.9]}
    assert component_training("discriminator", D) == {"lr_d": 4e-3, "d_steps": 2}
    assert component_training("loss", L) == {"d_update": "joint", "lr_d": 1e-4}
    with pytest.raises(PluginError, match=r"Typo declares train_defaults\['d_updates'\], which is not a "
                       r"training setting \(did you mean 'd_update'"):  # fmt: skip
        component_training("loss", Typo)
