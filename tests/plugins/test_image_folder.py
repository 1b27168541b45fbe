"""image-folder: a user's own PNG/JPEG files, resized and cropped, held in memory or streamed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from ganzoo.errors import DataError, UsageError
from ganzoo.plugins.image_folder import ImageFolder

Image = pytest.importorskip("PIL.Image")


def _picture(path: Path, size: tuple[int, int], color: tuple[int, int, int], fmt: str | None = None) -> Path:
    """A plain picture with a white square in its center (what the center crop must keep)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, color)
    w, h = size
    s = min(w, h) // 4
    img.paste((255, 255, 255), (w // 2 - s, h // 2 - s, w // 2 + s, h // 2 + s))
    img.save(path, format=fmt)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "pictures"
    _picture(root / "a_red.png", (40, 30), (255, 0, 0))  # landscape
    _picture(root / "b_green.JPG", (24, 64), (0, 255, 0))  # portrait, upper-case suffix
    _picture(root / "nested" / "c_blue.jpeg", (100, 100), (0, 0, 255))
    (root / "notes.txt").write_text("not a picture")
    return root


def test_loads_every_picture_resized_in_sorted_order(folder: Path) -> None:
    ds = ImageFolder(folder, image_size=16)
    assert ds.spec().shape == (3, 16, 16) and ds.spec().kind == "image"
    x = ds.load("train")
    assert isinstance(x, torch.Tensor)
    assert x.shape == (3, 3, 16, 16) and x.dtype == torch.float32 and x.is_contiguous()
    assert x.min() >= 0.0 and x.max() <= 1.0
    # Sorted by path: a_red.png, b_green.JPG, nested/c_blue.jpeg; each corner keeps its colour.
    corners = x[:, :, 0, 0]
    assert corners.argmax(dim=1).tolist() == [0, 1, 2]
    assert torch.all(corners.max(dim=1).values > 0.9)
    # The white square stays in the center after the short side is resized and the rest cropped.
    assert torch.all(x[:, :, 8, 8] > 0.9)
    assert ds.status().present and ds.status().where == str(folder)


@pytest.mark.parametrize("size", [8, 33])
def test_image_size_is_honoured(folder: Path, size: int) -> None:
    x = ImageFolder(folder, image_size=size).load()
    assert isinstance(x, torch.Tensor) and x.shape == (3, 3, size, size)


def test_greyscale(folder: Path) -> None:
    ds = ImageFolder(folder, image_size=12, channels=1)
    assert ds.spec().shape == (1, 12, 12)
    x = ds.load()
    assert isinstance(x, torch.Tensor) and x.shape == (3, 1, 12, 12)


def test_photo_is_turned_upright_by_its_exif_orientation(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (20, 0, 40, 20))  # stored: red left half, blue right half
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": shown red on top, blue below
    img.save(tmp_path / "photo.jpg", exif=exif, quality=95)
    x = ImageFolder(tmp_path, image_size=16).load()
    assert isinstance(x, torch.Tensor)
    top, bottom = x[0, :, 2, 8], x[0, :, 13, 8]
    assert top[0] > 0.8 and top[2] < 0.2 and bottom[2] > 0.8 and bottom[0] < 0.2


def test_corrupt_file_is_skipped_with_a_count(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    truncated = (folder / "nested" / "c_blue.jpeg").read_bytes()[:200]
    (folder / "truncated.jpg").write_bytes(truncated)
    with caplog.at_level(logging.WARNING):
        x = ImageFolder(folder, image_size=16).load()
    assert isinstance(x, torch.Tensor) and x.shape == (3, 3, 16, 16)
    assert "skipped 2 of 5 files" in caplog.text and "broken.png" in caplog.text


def test_all_corrupt_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "one.png").write_bytes(b"not a png")
    (tmp_path / "two.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="could read none of the 2 PNG/JPEG files"):
        ImageFolder(tmp_path).load()


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no pictures here")
    ds = ImageFolder(tmp_path)
    assert not ds.status().present
    with pytest.raises(DataError, match=f"found no PNG or JPEG files .* in {tmp_path}"):
        ds.load()


def test_needs_a_data_dir() -> None:
    ds = ImageFolder()
    assert not ds.status().present and "--data-dir" in ds.status().where
    with pytest.raises(UsageError, match="image-folder needs --data-dir PATH"):
        ds.load()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"image_size": 4}, "image_size to be a whole number of at least 8, not 4"),
        ({"image_size": 32.5}, "image_size"),
        ({"channels": 2}, "channels to be 1 .* or 3 .*, not 2"),
        ({"max_memory_mb": 0}, "max_memory_mb to be a positive number"),
        ({"size": 32}, "no parameter size"),
    ],
)
def test_bad_parameters(tmp_path: Path, params: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ImageFolder(tmp_path, **params)


def test_only_a_train_split(folder: Path) -> None:
    with pytest.raises(UsageError, match="no split 'test'; it has only train"):
        ImageFolder(folder).load("test")


def test_streams_when_too_large_for_memory(folder: Path) -> None:
    in_memory = ImageFolder(folder, image_size=16).load()
    streamed = ImageFolder(folder, image_size=16, max_memory_mb=0.001).load()
    assert isinstance(streamed, torch.utils.data.Dataset) and not isinstance(streamed, torch.Tensor)
    assert len(streamed) == 3  # type: ignore[arg-type]
    items = [streamed[i] for i in range(3)]
    assert all(item.shape == (3, 16, 16) and item.dtype == torch.float32 for item in items)
    assert torch.equal(torch.stack(items), in_memory)
    batch = next(iter(torch.utils.data.DataLoader(streamed, batch_size=3)))
    assert torch.equal(batch, in_memory)


def test_streaming_skips_a_file_that_breaks(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    streamed = ImageFolder(folder, image_size=16, max_memory_mb=0.001).load()
    (folder / "a_red.png").write_bytes(b"gone bad")
    with caplog.at_level(logging.WARNING):
        first = streamed[0]
    assert first.shape == (3, 16, 16) and first[1, 0, 0] > 0.9  # the next picture (green) instead
    assert "a_red.png" in caplog.text


def test_a_folder_of_class_subfolders_gives_classes_and_labels(tmp_path: Path) -> None:
    """torchvision's layout: every image in a subfolder, the subfolders sorted are the classes."""
    root = tmp_path / "pets"
    _picture(root / "dog" / "1.png", (20, 20), (255, 0, 0))
    _picture(root / "cat" / "1.png", (20, 20), (0, 255, 0))
    _picture(root / "cat" / "deeper" / "2.png", (20, 20), (0, 255, 0))
    (root / "dog" / "broken.png").write_bytes(b"not a picture")  # skipped with its label
    ds = ImageFolder(root, image_size=8)
    assert ds.class_names() == ("cat", "dog") and ds.spec().classes == ("cat", "dog")
    x, y = ds.load(), ds.labels()
    assert isinstance(x, torch.Tensor) and len(x) == len(y) == 3
    assert y.tolist() == [0, 0, 1] and y.dtype == torch.int64  # cat/1, cat/deeper/2, dog/1
    assert x[2, 0, 0, 0] > 0.9  # dog/1.png is the red one


def test_a_streamed_folder_has_its_labels_too(tmp_path: Path) -> None:
    root = tmp_path / "pets"
    _picture(root / "b" / "1.png", (20, 20), (255, 0, 0))
    _picture(root / "a" / "1.png", (20, 20), (0, 255, 0))
    ds = ImageFolder(root, image_size=8, max_memory_mb=1e-9)
    assert not isinstance(ds.load(), torch.Tensor)
    assert ds.labels().tolist() == [0, 1]


@pytest.mark.parametrize(
    "layout", [["one/1.png", "one/2.png"], ["top.png", "a/1.png", "b/1.png"]], ids=["one class", "mixed"]
)
def test_a_folder_not_laid_out_by_class_has_no_classes(tmp_path: Path, layout: list[str]) -> None:
    for name in layout:
        _picture(tmp_path / "p" / name, (20, 20), (255, 0, 0))
    ds = ImageFolder(tmp_path / "p", image_size=8)
    assert ds.class_names() == () and ds.spec().classes == ()
    with pytest.raises(UsageError, match="The dataset 'image-folder' has no classes"):
        ds.labels()
