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
            """Registers the {title} architecture and loss (torch loads only when one is built)."""

            from ganzoo import hookimpl


            @hookimpl
            def register_generators(register):
                register("{component}", "{package}.networks:Generator", "The {title} generator: an MLP.")


            @hookimpl
            def register_discriminators(register):
                register("{component}", "{package}.networks:Discriminator", "The {title} discriminator.")


            @hookimpl
            def register_losses(register):
                register("{component}", "{package}.losses:SoftHinge", "The {title} loss: a soft hinge.")


            # Once you have trained a generator worth sharing, ship it with the package (a folder
            # that ganzoo's scripts/ship_pretrained.py writes, listed in pyproject.toml's package
            # data) and users sample it by name: `ganzoo generate {component}-mnist -o grid.png`.
            # @hookimpl
            # def register_pretrained(register):
            #     register("{component}-mnist", "{package}:pretrained/{component}-mnist", "On MNIST.")
            ''',
        f"{package}/networks.py": f'''
            """The {title} GAN: edit these two classes to make it yours.

            Their hyperparameters are their constructors' keyword arguments (``hidden``): ganzoo reads
            them from there, so ``--set generator.hidden=512`` reaches the generator. Both can train
            class-conditional GANs (``--conditional`` on data with classes): then they are built for a
            ``data`` whose ``classes`` are the data's, and called with each sample's label.
            """

            from torch import nn

            from ganzoo.components import Discriminator as BaseDiscriminator
            from ganzoo.components import Generator as BaseGenerator
            from ganzoo.layers import Projection


            class Generator(BaseGenerator):
                """z → Linear → ReLU → Linear → ReLU → Linear → tanh, reshaped to the data's shape; in a
                conditional run a learned vector per class is added to the first layer's output."""

                modalities = ("image", "sequence")  # the data it serves
                output = "tanh"  # ganzoo maps the data into [-1, 1] for it
                conditional = True  # it can take class labels
                # Training settings it trains best with, by their names (ganzoo train --help).
                train_defaults = {{"latent_dim": 64, "lr_g": 2e-4, "betas_g": [0.5, 0.999], "batch_size": 64}}

                def __init__(self, data, latent_dim, hidden=256):
                    super().__init__(data, latent_dim)
                    self.first = nn.Linear(latent_dim, hidden)
                    self.rest = nn.Sequential(
                        nn.ReLU(),
                        nn.Linear(hidden, hidden),
                        nn.ReLU(),
                        nn.Linear(hidden, data.size),
                        nn.Tanh(),
                    )
                    # data.classes is empty unless the run is conditional: then one vector a class.
                    self.embed = nn.Embedding(len(data.classes), hidden) if data.classes else None

                def forward(self, z, labels=None):
                    h = self.first(z)
                    if self.embed is not None:
                        h = h + self.embed(labels).to(h.dtype)
                    return self.rest(h).view(z.shape[0], *self.data.shape)


            class Discriminator(BaseDiscriminator):
                """Flatten → Linear → LeakyReLU → Linear: one logit per sample (no sigmoid); in a
                conditional run plus the projection of its features on the label's embedding."""

                modalities = ("image", "sequence")
                conditional = True
                train_defaults = {{"lr_d": 0.0002, "betas_d": [0.5, 0.999]}}

                def __init__(self, data, hidden=256):
                    super().__init__(data)
                    self.features = nn.Sequential(
                        nn.Flatten(), nn.Linear(data.size, hidden), nn.LeakyReLU(0.2)
                    )
                    self.head = nn.Linear(hidden, 1)
                    self.projection = Projection(hidden, len(data.classes)) if data.classes else None

                def forward(self, x, labels=None):
                    h = self.features(x)
                    out = self.head(h).view(-1)
                    if self.projection is not None:
                        out = out + self.projection(h, labels)
                    return out
            ''',
        f"{package}/losses.py": f'''
            """The {title} loss: edit it, or delete it (and its hook) if the built-in losses will do."""

            import torch.nn.functional as F

            from ganzoo.components import Loss


            class SoftHinge(Loss):
                """A hinge whose margin is softened: D pushes real logits above +margin and fake ones
                below -margin through softplus; G raises D's logits on its samples. Its hyperparameter
                ``margin`` (``--set loss.margin=2``) is its constructor's keyword argument; it adds one
                penalty of its own, logged as ``logit_size``."""

                train_defaults = {{"d_update": "joint"}}  # training settings it trains best with

                def __init__(self, margin=1.0, size_weight=0.001):
                    super().__init__(margin=margin, size_weight=size_weight)
                    self.margin, self.size_weight = float(margin), float(size_weight)

                def d_real(self, logits):
                    return F.softplus(self.margin - logits.float()).mean()

                def d_fake(self, logits):
                    return F.softplus(self.margin + logits.float()).mean()

                def g(self, logits):
                    return -logits.float().mean()

                def penalties(self, discriminator, real, fake):
                    """Extra terms for D's loss, by name: each is logged (metrics.jsonl) under its key."""
                    return {{"logit_size": self.size_weight * discriminator(real).float().square().mean()}}
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
                assert load_generator(run).module.first.out_features == 32


            def test_it_trains_a_conditional_gan_with_its_own_loss(ganzoo_register, ganzoo_train):
                from ganzoo.api import load_generator

                ganzoo_register({package}, name="{component}", dist="{dist}")
                run = ganzoo_train("{component}", iterations=4, loss="{component}", conditional=True,
                                   sets=["loss.margin=2", "log_every=2"])
                rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
                assert all(r["logit_size"] >= 0 for r in rows if "g_loss" in r)  # its penalty, logged
                g = load_generator(run)
                assert g.classes == ("falling", "rising")  # the test dataset's two classes
                assert g.sample(4, seed=0, labels="rising").shape == (4, 1, 28, 28)
            ''',
        "README.md": f"""
            # {dist}

            A {title} GAN for [ganzoo](https://pypi.org/project/ganzoo/).

            ```bash
            pip install -e '.[test]'
            pytest                                  # trains on ganzoo's tiny test dataset
            ganzoo list generators                  # shows {component}, registered by {dist}
            ganzoo train {component} mnist --iterations 2000
            ganzoo train {component} mnist --conditional --loss {component} --iterations 2000
            ```

            Edit `{package}/networks.py` (a generator and a discriminator that can also train
            class-conditional GANs) and `{package}/losses.py` (a loss with a hyperparameter and a
            penalty of its own). ganzoo finds the package through the `ganzoo` entry point in
            `pyproject.toml`; see ganzoo's docs/plugins.md for the hooks and what each component
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
