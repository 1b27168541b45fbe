"""Ships the top-level zoo.toml inside the wheel as ganzoo/zoo.toml (all else is in pyproject.toml)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithZoo(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "ganzoo" / "zoo.toml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(__file__).parent / "zoo.toml", target)


setup(cmdclass={"build_py": BuildWithZoo})
