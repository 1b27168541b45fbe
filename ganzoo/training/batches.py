"""Where the trainer's real batches come from: a tensor on the device, or a stream for large data.

Orders (the ``data_order`` training setting):
- ``random``: each batch is drawn by random index, with replacement (``np.random.randint`` in
  Langr & Bok, "GANs in Action", 2019, chapter 3: source 002; and source 003);
- ``shuffle``: a new permutation every epoch, batches taken from it in turn;
- ``sequential``: the data in stored order, batch after batch (Gildenblat's keras-dcgan, 2016:
  source 000).
"""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.sampling import rescale


class TensorBatches:
    """Batches by index from one tensor held on the device, already in the generator's range.

    With ``world`` > 1 (torchrun) every rank holds the same generator state and draws the same
    global batch of ``world × size`` indices; rank r takes the r-th slice. The ranks' batches are
    therefore disjoint within a step, and together they are the batch one process would draw at
    ``world × size``. ``labels``: the class label of each sample (int64, (N,)) for a conditional run,
    drawn with the same indices, so no random number more is drawn than without them.
    """

    def __init__(
        self,
        data: torch.Tensor,
        order: str,
        rng: torch.Generator,
        rank: int = 0,
        world: int = 1,
        labels: torch.Tensor | None = None,
    ) -> None:
        self.data, self.order, self.rng = data, order, rng
        self.labels = None if labels is None else labels.to(data.device)
        self.rank, self.world = rank, world
        self.n = data.shape[0]
        nhwc = data.ndim == 4 and data.is_contiguous(memory_format=torch.channels_last)
        self.channels_last = nhwc and not data.is_contiguous()
        self.device = data.device
        self.perm = torch.arange(self.n, device=self.device)
        self.cursor = self.n  # start a new epoch on the first draw

    def next(self, size: int) -> torch.Tensor:
        return self.draw(size)[0]

    def draw(self, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch and, when the data has them, its class labels (the same indices)."""
        mine = slice(self.rank * size, (self.rank + 1) * size)
        if self.order == "random":
            idx = torch.randint(self.n, (size * self.world,), generator=self.rng, device=self.device)
            return self._take(idx[mine] if self.world > 1 else idx)
        if self.cursor + size * self.world > self.n:  # the last partial batch of an epoch is dropped
            self.cursor = 0
            if self.order == "shuffle":
                self.perm = torch.randperm(self.n, generator=self.rng, device=self.device)
        start, self.cursor = self.cursor + mine.start, self.cursor + size * self.world
        if self.order == "sequential":
            labels = None if self.labels is None else self.labels[start : start + size]
            return self.data[start : start + size], labels
        return self._take(self.perm[start : start + size])

    def _take(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        # index_select returns NCHW whatever its input; indexing keeps a channels-last layout.
        x = self.data[idx] if self.channels_last else self.data.index_select(0, idx)
        return x, None if self.labels is None else self.labels.index_select(0, idx)

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {"perm": self.perm}, {"cursor": self.cursor}

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> str | None:
        """Continue exactly where the checkpoint left the draws; nothing to tell the user."""
        if "perm" in tensors:
            self.perm = tensors["perm"].to(self.device)
        self.cursor = int(state.get("cursor", self.n))
        return None


class StreamBatches:
    """Batches from a map-style torch Dataset too large to hold in memory, through a DataLoader.

    Batches are drawn at random with replacement whatever the order asked for; a resumed run
    continues with new draws rather than the exact batches an uninterrupted run would have seen.
    ``labels``: each sample's class label for a conditional run, loaded with it by the workers.
    """

    def __init__(
        self,
        dataset: Any,
        value_range: tuple[float, float],
        out_range: tuple[float, float],
        seed: int,
        device: torch.device,
        batch_size: int,
        channels_last: bool = False,
        labels: torch.Tensor | None = None,
    ) -> None:
        self.n = len(dataset)
        self.labeled = labels is not None
        if labels is not None:
            dataset = Labeled(dataset, labels)
        self.value_range, self.out_range, self.device = value_range, out_range, device
        self.channels_last = channels_last
        self.dataset, self.seed, self.batch_size = dataset, seed, batch_size
        self.drawn = 0  # batches taken so far, over the whole run (a resume goes on counting)
        self.loader = self._loader(seed)
        self.it = iter(self.loader)

    def _loader(self, seed: int) -> Any:
        from torch.utils.data import DataLoader, RandomSampler

        sampler_rng = torch.Generator()
        sampler_rng.manual_seed(seed)
        sampler = RandomSampler(self.dataset, replacement=True, num_samples=1 << 62, generator=sampler_rng)
        return DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=min(4, max(1, (torch.get_num_threads() or 2) - 1)),
            pin_memory=self.device.type == "cuda",
            drop_last=True,
            persistent_workers=True,
        )

    def next(self, size: int) -> torch.Tensor:
        return self.draw(size)[0]

    def draw(self, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch and, in a conditional run, its class labels."""
        batch = next(self.it)
        self.drawn += 1
        labels = None
        if isinstance(batch, (list, tuple)):
            if self.labeled:
                labels = batch[1][:size].to(self.device, non_blocking=True)
            batch = batch[0]
        batch = batch[:size].to(self.device, non_blocking=True).float()
        batch = rescale(batch, self.value_range, self.out_range)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch, labels

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {}, {"drawn": self.drawn}

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> str | None:
        """A resumed run draws fresh batches from a sampler seeded by the seed and the batches drawn
        so far (the loader's workers had fetched ahead of the checkpoint: its exact continuation is
        gone): repeatable, not bit for bit. Returns the note saying so."""
        self.drawn = int(state.get("drawn", 0))
        self.loader = self._loader(self.seed + STREAM_RESEED * self.drawn)
        self.it = iter(self.loader)
        return (
            "note: this run streams its data from disk, so the resumed run draws fresh batches (seeded "
            "by the run's seed and the batches drawn so far): repeatable, but not the batches the run "
            "would have drawn had it not stopped."
        )


#: Spreads the sampler seeds of a resumed streamed run away from the first one's.
STREAM_RESEED = 1_000_033


class Labeled:
    """A map-style dataset's samples paired with their class labels, for the loader's workers."""

    def __init__(self, dataset: Any, labels: torch.Tensor) -> None:
        self.dataset, self.labels = dataset, labels

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[Any, torch.Tensor]:
        item = self.dataset[i]
        if isinstance(item, (list, tuple)):  # a dataset whose items are (sample, ...) pairs
            item = item[0]
        return item, self.labels[i]
