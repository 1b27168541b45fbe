"""Calibrate eval's conditional figures with real images: `python scripts/conditional_floor.py mnist`.

Three samplers stand in for a conditional generator, each asked for class i mod 10 for sample i,
and are measured exactly as `ganzoo eval` measures one (10,000 samples against the test split):
real training images of the class asked for (the floor), of the next class (every label wrong),
and of any class (a generator that ignores its label). Prints a Markdown table.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch

from ganzoo.evaluate import Evaluator
from ganzoo.manager import get_manager


def main(name: str) -> None:
    ds = get_manager().registry.get("dataset", name).load()()
    images, labels = ds.load("train"), ds.labels("train")
    classes = len(ds.class_names())
    pools = [images[labels == k] for k in range(classes)]

    def pick(shift: int | None) -> Callable[[int, torch.Generator, torch.Tensor], torch.Tensor]:
        def sample(count: int, gen: torch.Generator, asked: torch.Tensor) -> torch.Tensor:
            out = []
            for k in asked.tolist():
                pool = images if shift is None else pools[(k + shift) % classes]
                out.append(pool[torch.randint(len(pool), (1,), generator=gen)])
            return torch.cat(out)

        return sample

    print("| sampler | fd | cond_accuracy | class_fd_mean |")
    print("|---|---|---|---|")
    for what, shift in (("the class asked for (the floor)", 0), ("the next class", 1), ("any class", None)):
        m = Evaluator(ds, name, torch.device("cpu"), n=10_000).evaluate(pick(shift), classes=classes)
        row = f"{m['fd']:.4g} | {m['cond_accuracy']:.4g} | {m['class_fd_mean']:.4g}"
        print(f"| real training images of {what} | {row} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "mnist")
