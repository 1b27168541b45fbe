"""``ganzoo compare``: several runs in one table, from their files alone (no torch).

Each run is a row: the settings that differ between the runs (only those), how far it got, its
wall time, its last training figures and its last eval figures (``ganzoo eval RUN``'s, kept in
RUN/eval.json, or ``--eval-every``'s) with how they were measured. Where a column
has a better direction (less time, a lower FD, a higher recall) its best value is marked; training
losses have none (a GAN's losses do not say which run is better).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganzoo import figures
from ganzoo.errors import UsageError

#: Eval figures and which way is better (the rest of a run's figures are not ranked).
BETTER: dict[str, str] = {
    "seconds": "lower",
    "fd": "lower",
    "kid": "lower",
    "class_kl": "lower",
    "mmd": "lower",
    "class_fd_mean": "lower",
    "precision": "higher",
    "recall": "higher",
    "classifier_score": "higher",
    "inception_score": "higher",
    "classes_covered": "higher",
    "cond_accuracy": "higher",
}
#: Eval figures left out of the table: lists and spreads, not headline values.
UNRANKED_EVAL = ("class_shares", "class_fd", "kid_std")


def settings_of(record: Any) -> dict[str, Any]:
    """A run's settings flattened to ``key: value`` (``generator``, ``train.lr_g``,
    ``params.generator.hidden``, ``seed``): what a difference between two runs can be."""
    config = record.config.to_json()
    out: dict[str, Any] = {k: config[k] for k in ("generator", "discriminator", "dataset", "loss", "recipe")}
    out["seed"] = record.seed
    for kind, params in sorted(config["params"].items()):
        for key, value in sorted(params.items()):
            out[f"params.{kind}.{key}"] = value
    for key, value in config["train"].items():
        if key not in ("seed",):  # the record's own seed (drawn when not given) is the one that ran
            out[f"train.{key}"] = value
    return out


def compare(runs: list[Path]) -> dict[str, Any]:
    """The comparison ``ganzoo compare`` prints: ``runs`` (name, path, status), ``columns`` (in
    order: differing settings, then steps, seconds, training figures, eval figures), ``rows`` (one
    dict a run) and ``best`` (column → the row index of its best value, where a column has one)."""
    from ganzoo.commands.show import show
    from ganzoo.rundir import Run

    if len(runs) < 2:
        raise UsageError("compare needs at least two runs, RUN RUN...; `ganzoo show RUN` shows one.")
    resolved = [Path(r).resolve() for r in runs]
    twice = next((r for i, r in enumerate(runs) if resolved[i] in resolved[:i]), None)
    if twice is not None:
        raise UsageError(f"{twice} is given twice; compare different runs.")
    infos = [show(r) for r in runs]
    settings = [settings_of(Run.open(Path(r)).record) for r in runs]
    keys = list(dict.fromkeys(k for s in settings for k in s))
    differ = [k for k in keys if len({repr(s.get(k)) for s in settings}) > 1]
    names = _names(runs)
    training = [k for k in figures.HEADLINE if any(k in info.last for info in infos)]
    evals: list[str] = []
    for info in infos:
        for key in info.eval or {}:
            if key not in evals and key not in UNRANKED_EVAL:
                evals.append(key)
    measured = [info.eval_by for info in infos]
    rows = []
    for name, info, s in zip(names, infos, settings, strict=True):
        row: dict[str, Any] = {"run": name}
        row.update({k: s.get(k) for k in differ})
        row["steps"] = info.steps
        row["seconds"] = info.seconds
        row.update({k: info.last.get(k) for k in training})
        if evals:
            row["eval_by"] = info.eval_by
        row.update({f"eval.{k}": (info.eval or {}).get(k) for k in evals})
        rows.append(row)
    eval_columns = ["eval_by", *(f"eval.{k}" for k in evals)] if evals else []
    columns = ["run", *differ, "steps", "seconds", *training, *eval_columns]
    best = best_rows(rows, columns)
    out: dict[str, Any] = {
        "runs": [
            {"name": n, "run_dir": info.run_dir, "status": info.status}
            for n, info in zip(names, infos, strict=True)
        ],
        "columns": columns,
        "rows": rows,
        "best": best,
    }
    present = {m for m in measured if m is not None}
    if len(present) > 1:  # figures of different protocols rank nothing
        out["best"] = {k: v for k, v in best.items() if not k.startswith("eval.")}
        out["note"] = "The eval figures were measured differently (the eval row), so none is marked best."
    return out


def best_rows(rows: list[dict[str, Any]], columns: list[str]) -> dict[str, int]:
    """For each column with a better direction and numbers in two rows or more, the index of the
    row holding its best value (the first of a tie)."""
    best = {}
    for column in columns:
        direction = BETTER.get(column.removeprefix("eval."))
        values = [(i, r[column]) for i, r in enumerate(rows) if _is_number(r.get(column))]
        if direction is None or len(values) < 2:
            continue
        pick = min if direction == "lower" else max
        best[column] = pick(values, key=lambda iv: iv[1])[0]
    return best


def label(column: str) -> str:
    """How the table heads a column."""
    if column == "seconds":
        return "wall s"
    if column == "eval_by":
        return "eval"
    if column.startswith("eval."):
        key = column.removeprefix("eval.")
        return figures.EVAL_HEADLINE.get(key) or figures.label(key)
    if column in figures.TRAINING:
        return figures.TRAINING[column]
    return column.removeprefix("train.")


def _names(runs: list[Path]) -> list[str]:
    """Each run's folder name, or its whole path where two runs share a name."""
    names = [Path(r).name or str(r) for r in runs]
    return [n if names.count(n) == 1 else str(r) for n, r in zip(names, runs, strict=True)]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def side_by_side(runs: list[Path], n: int, seed: int, out: Path, device: str = "cpu") -> Path:
    """``compare -o grid.png``: ``n`` samples of each run for the same noise seed, a row a run.

    Runs with the same prior and latent size get the very same noise vectors; a conditional run
    draws the classes in order, as its grids do. Image runs of one sample shape only.
    """
    import torch

    from ganzoo.rundir import load_generator
    from ganzoo.sampling import save_grid

    if n < 1:
        raise UsageError(f"-n must be a positive whole number, got {n}.")
    if Path(out).suffix.lower() != ".png":
        raise UsageError(f"-o {out}: compare draws a .png grid.")
    generators = [load_generator(r, device=device) for r in runs]
    shapes = {tuple(g.spec.shape) for g in generators}
    if any(g.spec.modality != "image" for g in generators):
        raise UsageError("compare -o draws images side by side; these runs include sequence data.")
    if len(shapes) > 1:
        listed = ", ".join("x".join(map(str, s)) for s in sorted(shapes))
        raise UsageError(f"compare -o puts samples of one shape side by side; these runs make {listed}.")
    rows = [g.sample(n, seed=seed).cpu() for g in generators]
    save_grid(torch.cat(rows), Path(out), columns=n)
    return Path(out)
