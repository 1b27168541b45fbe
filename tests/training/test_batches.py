from __future__ import annotations

from pathlib import Path

import torch

from ganzoo.training.batches import StreamBatches, TensorBatches


def data(n: int = 10) -> torch.Tensor:
    return torch.arange(float(n)).view(n, 1)


def rng(seed: int = 0) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def test_sequential_takes_batches_in_order_and_drops_the_partial_one() -> None:
    b = TensorBatches(data(10), "sequential", rng())
    got = [b.next(4).view(-1).tolist() for _ in range(3)]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 2, 3]]


def test_shuffle_visits_every_sample_once_per_epoch() -> None:
    b = TensorBatches(data(12), "shuffle", rng())
    epoch = torch.cat([b.next(4) for _ in range(3)]).view(-1)
    assert sorted(epoch.tolist()) == list(range(12)) and epoch.tolist() != list(range(12))


def test_random_order_is_repeatable_from_the_generator() -> None:
    a = TensorBatches(data(), "random", rng(3)).next(6)
    b = TensorBatches(data(), "random", rng(3)).next(6)
    assert torch.equal(a, b)


def test_shuffle_resumes_where_it_stopped() -> None:
    g = rng(1)
    b = TensorBatches(data(12), "shuffle", g)
    b.next(4)
    tensors, state = b.state()
    saved_rng = g.get_state()
    expected = [b.next(4) for _ in range(4)]
    g2 = rng(99)
    g2.set_state(saved_rng)
    c = TensorBatches(data(12), "shuffle", g2)
    c.restore(tensors, state)
    assert all(torch.equal(x, c.next(4)) for x in expected)


def test_a_stream_yields_batches_in_the_generators_range() -> None:
    items = [torch.full((1, 2, 2), i / 10) for i in range(10)]
    b = StreamBatches(items, (0.0, 1.0), (-1.0, 1.0), seed=0, device=torch.device("cpu"), batch_size=4)
    batch = b.next(4)
    assert batch.shape == (4, 1, 2, 2) and float(batch.min()) >= -1.0 and float(batch.max()) <= 1.0
    assert b.next(2).shape == (2, 1, 2, 2)


def test_tensor_batches_give_each_rank_a_disjoint_share(tmp_path: Path) -> None:
    data = torch.arange(100.0).view(100, 1)
    for order in ("random", "shuffle", "sequential"):
        alone = TensorBatches(data, order, torch.Generator().manual_seed(3))
        ranks = [TensorBatches(data, order, torch.Generator().manual_seed(3), r, 2) for r in range(2)]
        for _ in range(5):  # across epoch ends too (shuffle, sequential: 40 of 100 per step)
            whole = alone.next(20 * 2)
            shares = [r.next(20) for r in ranks]
            assert torch.equal(torch.cat(shares), whole)
            if order != "random":  # drawn without replacement: no sample on two ranks
                assert not set(shares[0].flatten().tolist()) & set(shares[1].flatten().tolist())


def test_labels_come_with_their_samples_in_every_order_and_on_every_rank() -> None:
    data = torch.arange(40.0).view(40, 1)
    labels = torch.arange(40) * 10  # label = 10 × the sample's value
    for order in ("random", "shuffle", "sequential"):
        for world in (1, 2):
            for rank in range(world):
                b = TensorBatches(data, order, torch.Generator().manual_seed(1), rank, world, labels)
                plain = TensorBatches(data, order, torch.Generator().manual_seed(1), rank, world)
                for _ in range(6):
                    x, y = b.draw(8)
                    assert y is not None and torch.equal(y, (x.view(-1) * 10).long())
                    assert torch.equal(x, plain.next(8))  # labels draw no random number more


def test_a_stream_yields_labels_with_its_samples() -> None:
    items = [torch.full((1, 2, 2), i / 10) for i in range(10)]
    labels = torch.arange(10)
    b = StreamBatches(
        items, (0.0, 1.0), (0.0, 1.0), seed=0, device=torch.device("cpu"), batch_size=4, labels=labels
    )
    x, y = b.draw(4)
    assert y is not None and torch.equal(y, (x[:, 0, 0, 0] * 10).round().long())
