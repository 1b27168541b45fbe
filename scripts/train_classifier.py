"""Train the feature classifier ganzoo ships for a dataset, reproducibly from a seed.

    python scripts/train_classifier.py mnist --seed 0 --epochs 6 \\
        --out ganzoo/assets/classifier-mnist.safetensors
    python scripts/train_classifier.py fashion-mnist --seed 0 --epochs 8 \\
        --out ganzoo/assets/classifier-fashion-mnist.safetensors

(the commands that made the shipped files; MNIST must be fetched first: ``ganzoo data fetch mnist``).

The real data comes through ganzoo's own dataset plugins, so the classifier sees exactly the
images (and value range) that ``ganzoo eval`` will later compare generated samples with. The
weights are written with safetensors, with metadata saying how they were made; the script prints
the test accuracy and the file's sha256, which go into ``CLASSIFIERS`` in ``ganzoo/classifier.py``.
It refuses to write a classifier below its accuracy target (unless ``--no-check``), because
features of a poor classifier make every metric built on them meaningless.

Same seed, same torch build and same thread count give the same weights: the shuffling, the
augmentation and dropout all draw from seeded generators, and deterministic algorithms are
requested. Training runs on the CPU with 2 threads (a few minutes per epoch on a loaded machine).
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo.classifier import Classifier
from ganzoo.data.idx_dataset import IdxDataset
from ganzoo.files import atomic_write_bytes, sha256_file
from ganzoo.plugins.fashion_mnist import FashionMNIST
from ganzoo.plugins.mnist import MNIST

DATASETS: dict[str, type[IdxDataset]] = {"mnist": MNIST, "fashion-mnist": FashionMNIST}
#: The least test accuracy worth shipping: what a small CNN reaches easily on each dataset.
TARGETS = {"mnist": 0.990, "fashion-mnist": 0.900}
THREADS = 2
EVAL_BATCH = 1000


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``max_shift`` pixels each way, filling with black (0).

    Small shifts are the one augmentation that helps here: digits and clothes are centred by
    their centre of mass, and a classifier robust to a pixel or two of offset also gives
    generated images, which are never centred exactly, features that are not dominated by position.
    """
    if max_shift <= 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, :, None]  # (n, h, 1)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, :]  # (n, 1, w)
    return padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


@torch.inference_mode()
def accuracy(model: Classifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of ``x`` classified as ``y``, with the model in eval mode."""
    model.eval()
    correct = 0
    for i in range(0, len(x), EVAL_BATCH):
        correct += int((model(x[i : i + EVAL_BATCH]).argmax(1) == y[i : i + EVAL_BATCH]).sum())
    return correct / len(x)


def train(args: argparse.Namespace) -> tuple[Classifier, float]:
    """Train on the whole training split for ``args.epochs``, and measure on the test split."""
    dataset = DATASETS[args.dataset]()
    x_train, y_train = dataset.load("train"), dataset.labels("train")
    x_test, y_test = dataset.load("test"), dataset.labels("test")
    print(f"{args.dataset}: {len(x_train)} training and {len(x_test)} test images", flush=True)

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    # The normalisation is stored with the weights, so callers keep passing [0, 1].
    model = Classifier(mean=float(x_train.mean()), std=float(x_train.std()))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    # One cycle (warm-up, then cosine decay to almost zero) reaches a good optimum in few epochs.
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch
    )
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for i in range(0, len(x_train), args.batch_size):
            idx = order[i : i + args.batch_size]
            batch = random_shift(x_train[idx], args.shift, generator)
            # No label smoothing: the classifier score reads these softmax probabilities as they are.
            loss = F.cross_entropy(model(batch), y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        elapsed = time.perf_counter() - start
        acc = accuracy(model, x_test, y_test)
        print(
            f"epoch {epoch}/{args.epochs}: loss {total / len(x_train):.4f}, "
            f"test accuracy {acc:.4f} ({elapsed:.0f} s)",
            flush=True,
        )
    return model, accuracy(model, x_test, y_test)


def save(model: Classifier, path: Path, metadata: dict[str, str]) -> None:
    """Write the weights as safetensors (no pickle), atomically: a kill leaves no half file."""
    from safetensors.torch import save

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    # Serialised in memory (under 1 MB) and written by ganzoo: safetensors' own save_file makes the
    # file private (0600), which a wheel would then carry.
    atomic_write_bytes(path, canonical_safetensors(save(tensors, metadata=metadata)))


def canonical_safetensors(blob: bytes) -> bytes:
    """The same safetensors file with its JSON header's keys sorted, so equal weights give equal bytes.

    safetensors writes the header from a hash map, in an order that changes from run to run; the
    sha256 recorded in ``CLASSIFIERS`` should only change when the weights or metadata do. Tensor
    offsets count from the end of the header, so re-encoding it moves no data.
    """
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header with spaces to 8-byte alignment
    return struct.pack("<Q", len(text)) + text + blob[8 + size :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3, help="the peak learning rate of the one cycle")
    parser.add_argument("--shift", type=int, default=2, help="random shifts of up to this many pixels")
    parser.add_argument("--out", type=Path, required=True, help="the .safetensors file to write")
    parser.add_argument("--no-check", action="store_true", help="write the file even below the target")
    args = parser.parse_args(argv)

    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    start = time.perf_counter()
    model, acc = train(args)
    target = TARGETS[args.dataset]
    print(f"test accuracy: {acc:.4f} (target {target:.3f}); {time.perf_counter() - start:.0f} s in all")
    if acc < target and not args.no_check:
        print(
            f"error: test accuracy {acc:.4f} is below the {target:.3f} target for {args.dataset}, "
            f"so {args.out} was not written (train longer, or pass --no-check).",
            file=sys.stderr,
        )
        return 1
    metadata = {
        "dataset": args.dataset,
        "seed": str(args.seed),
        "epochs": str(args.epochs),
        "batch_size": str(args.batch_size),
        "lr": str(args.lr),
        "shift": str(args.shift),
        "test_accuracy": f"{acc:.4f}",
        "torch": torch.__version__,
        "threads": str(THREADS),
        "script": "scripts/train_classifier.py",
    }
    save(model, args.out, metadata)
    print(f"wrote {args.out}")
    print(f"sha256: {sha256_file(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
