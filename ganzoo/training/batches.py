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
    ``world × size``.
    """

    def __init__(
        self, data: torch.Tensor, order: str, rng: torch.Generator, rank: int = 0, world: int = 1
    ) -> None:
        self.data, self.order, self.rng = data, order, rng
        self.rank, self.world = rank, world
        self.n = data.shape[0]
        nhwc = data.ndim == 4 and data.is_contiguous(memory_format=torch.channels_last)
        self.channels_last = nhwc and not data.is_contiguous()
        self.device = data.device
        self.perm = torch.arange(self.n, device=self.device)
        self.cursor = self.n  # start a new epoch on the first draw

    def next(self, size: int) -> torch.Tensor:
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
            return self.data[start : start + size]
        return self._take(self.perm[start : start + size])

    def _take(self, idx: torch.Tensor) -> torch.Tensor:
        # index_select returns NCHW whatever its input; indexing keeps a channels-last layout.
        return self.data[idx] if self.channels_last else self.data.index_select(0, idx)

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {"perm": self.perm}, {"cursor": self.cursor}

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        if "perm" in tensors:
            self.perm = tensors["perm"].to(self.device)
        self.cursor = int(state.get("cursor", self.n))


class StreamBatches:
    """Batches from a map-style torch Dataset too large to hold in memory, through a DataLoader.

    Batches are drawn at random with replacement whatever the order asked for; a resumed run
    continues with new draws rather than the exact batches an uninterrupted run would have seen.
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
    ) -> None:
        from torch.utils.data import DataLoader, RandomSampler

        self.n = len(dataset)
        self.value_range, self.out_range, self.device = value_range, out_range, device
        self.channels_last = channels_last
        sampler_rng = torch.Generator()
        sampler_rng.manual_seed(seed)
        sampler = RandomSampler(dataset, replacement=True, num_samples=1 << 62, generator=sampler_rng)
        self.loader = DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=min(4, max(1, (torch.get_num_threads() or 2) - 1)),
            pin_memory=device.type == "cuda",
            drop_last=True,
            persistent_workers=True,
        )
        self.it = iter(self.loader)

    def next(self, size: int) -> torch.Tensor:
        batch = next(self.it)
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        batch = batch[:size].to(self.device, non_blocking=True).float()
        batch = rescale(batch, self.value_range, self.out_range)
        return batch.contiguous(memory_format=torch.channels_last) if self.channels_last else batch

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {}, {}

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        pass
