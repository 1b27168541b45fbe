"""``ganzoo new-plugin NAME``: a complete, pip-installable plugin package that passes its own tests."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from ganzoo import __version__
from ganzoo.errors import UsageError
from ganzoo.files import atomic_write_text
from ganzoo.registry import Registry

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def names(name: str) -> tuple[str, str, str]:
    """(distribution, import package, component name) for ``name`` ("ganzoo-wide-mlp" or "wide-mlp")."""
    if not NAME.match(name):
        raise UsageError(
            f"'{name}' is not a plugin name: use lower-case words joined by hyphens, like ganzoo-wide-mlp."
        )
    component = name.removeprefix("ganzoo-") or name
    dist = name if name.startswith("ganzoo-") else f"ganzoo-{name}"
    return dist, dist.replace("-", "_"), component


def files(name: str) -> dict[str, str]:
    dist, package, component = names(name)
    major_minor = ".".join(__version__.split(".")[:2])
    title = component.replace("-", " ")
    return {
        "pyproject.toml": f'''
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{dist}"
            version = "0.1.0"
            description = "A {title} GAN for ganzoo."
            requires-python = ">=3.10"
            # Hooks only ever gain arguments: a plugin written against {major_minor} keeps working.
            dependencies = ["ganzoo>={major_minor}"]

            [project.optional-dependencies]
            test = ["pytest>=7.4"]

            # How ganzoo finds the plugin: the `ganzoo` entry-point group.
            [project.entry-points.ganzoo]
            {component} = "{package}"

            [tool.setuptools]
            packages = ["{package}"]
            ''',
        f"{package}/__init__.py": f'''
            """Registers the {title} architecture with ganzoo; the torch code loads only when it is built."""

            from ganzoo import hookimpl


            @hookimpl
            def register_generators(register):
                register("{component}", "{package}.networks:Generator", "The {title} generator: an MLP.")


            @hookimpl
            def register_discriminators(register):
                register("{component}", "{package}.networks:Discriminator", "The {title} discriminator.")
            ''',
        f"{package}/networks.py": f'''
            """The {title} GAN: edit these two classes (and their defaults) to make it yours."""

            from torch import nn

            from ganzoo.components import Discriminator as BaseDiscriminator
            from ganzoo.components import Generator as BaseGenerator


            class Generator(BaseGenerator):
                """z → Linear → ReLU → Linear → ReLU → Linear → tanh, reshaped to the data's shape."""

                modalities = ("image", "sequence")  # the data it serves
                output = "tanh"  # ganzoo maps the data into [-1, 1] for it
                defaults = {{"hidden": 256}}  # reachable as --set generator.hidden=512
                train_defaults = {{"latent_dim": 64, "lr": 0.0002, "betas": [0.5, 0.999], "batch_size": 64}}

                def __init__(self, data, latent_dim, hidden=256):
                    super().__init__(data, latent_dim)
                    self.net = nn.Sequential(
                        nn.Linear(latent_dim, hidden),
                        nn.ReLU(),
                        nn.Linear(hidden, hidden),
                        nn.ReLU(),
                        nn.Linear(hidden, data.size),
                        nn.Tanh(),
                    )

                def forward(self, z):
                    return self.net(z).view(z.shape[0], *self.data.shape)


            class Discriminator(BaseDiscriminator):
                """Flatten → Linear → LeakyReLU → Linear: one logit per sample (no sigmoid)."""

                modalities = ("image", "sequence")
                defaults = {{"hidden": 256}}
                train_defaults = {{"lr": 0.0002, "betas": [0.5, 0.999]}}

                def __init__(self, data, hidden=256):
                    super().__init__(data)
                    self.net = nn.Sequential(
                        nn.Flatten(), nn.Linear(data.size, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
                    )

                def forward(self, x):
                    return self.net(x).view(-1)
            ''',
        f"tests/test_{package}.py": f'''
            """Uses the fixtures ganzoo gives every pytest run (ganzoo.pytest_plugin)."""

            import json

            import {package}


            def test_it_trains_and_samples(ganzoo_register, ganzoo_train):
                ganzoo_register({package}, name="{component}", dist="{dist}")
                run = ganzoo_train("{component}", iterations=5)
                assert json.loads((run / "config.json").read_text())["result"]["steps"] == 5
                assert (run / "generator.safetensors").is_file()


            def test_a_hyperparameter_reaches_the_generator(ganzoo_register, ganzoo_train):
                from ganzoo.api import load_generator

                ganzoo_register({package}, name="{component}", dist="{dist}")
                run = ganzoo_train("{component}", iterations=2, sets=["generator.hidden=32"])
                assert load_generator(run).module.net[0].out_features == 32
            ''',
        "README.md": f"""
            # {dist}

            A {title} GAN for [ganzoo](https://pypi.org/project/ganzoo/).

            ```bash
            pip install -e '.[test]'
            pytest                                  # trains on ganzoo's tiny test dataset
            ganzoo list generators                  # shows {component}, registered by {dist}
            ganzoo train {component} mnist --iterations 2000
            ```

            Edit `{package}/networks.py`. ganzoo finds the package through the `ganzoo` entry point
            in `pyproject.toml`; see ganzoo's docs/plugins.md for the hooks and what each component
            declares.
            """,
    }


def check_free(name: str, registry: Registry) -> None:
    """Refuse a component name something installed already registers: the new package's
    architecture would make that short name ambiguous for every user (and for its own tests)."""
    component = names(name)[2]
    holders = [e for e in registry.entries() if e.name == component]
    if holders:
        held = ", ".join(f"a {e.kind} of {e.plugin.dist} {e.plugin.version}" for e in holders)
        raise UsageError(
            f"'{component}' is already registered ({held}); choose a name nothing registers "
            "(see `ganzoo list`)."
        )


def new_plugin(name: str, parent: Path, registry: Registry | None = None) -> Path:
    """Write the package into ``parent/DIST``; refuses to touch an existing folder, and (given the
    ``registry``) a component name already registered."""
    dist = names(name)[0]
    if registry is not None:
        check_free(name, registry)
    root = Path(parent) / dist
    if root.exists():
        raise UsageError(f"{root} already exists; choose another name or --dir.")
    for rel, text in files(name).items():
        atomic_write_text(root / rel, textwrap.dedent(text).lstrip("\n"))
    return root
