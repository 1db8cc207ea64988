"""MNIST-style sources (MNIST, Fashion-MNIST): where their files are found and how each format is read.

Searched in $GAN_EXPLORER_DATA, Debian's /usr/share/datasets and Keras's cache, in that order; Keras's
downloader is the last resort.
"""
from __future__ import annotations

import gzip
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
from PIL import Image

from ..errors import DataError
from .load_report import LoadReport

if TYPE_CHECKING:
    pass

DATA_ENV = "GAN_EXPLORER_DATA"
# Debian's dataset-fashion-mnist package installs the official IDX files under
# /usr/share/datasets/fashion-mnist/; it is searched like any other data root.
DEBIAN_DATASETS_DIR = Path("/usr/share/datasets")


@dataclass(frozen=True)
class _MnistLike:
    title: str
    npz_name: str  # Keras's file name for the whole dataset
    subdir: str  # folder name Keras and Debian use for the IDX files


MNIST_LIKE = {
    "mnist": _MnistLike("MNIST", "mnist.npz", "mnist"),
    "fashion_mnist": _MnistLike("Fashion-MNIST", "fashion-mnist.npz", "fashion-mnist"),
}
_IDX_NAMES = ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte", "train-images.idx3-ubyte")


def load_mnist_like(
    source: str, path: str | None, image_size: int, channels: int, limit: int | None,
    log: Callable[[str], None],
) -> tuple[np.ndarray, LoadReport]:
    spec = MNIST_LIKE[source]
    found = resolve_mnist_path(spec, Path(path).expanduser()) if path is not None else find_installed(spec)
    if found is None:
        log(f"{source}: not found locally; asking Keras to download it")
        digits = _download_with_keras(source, spec)
    else:
        log(f"{source}: reading {found}")
        digits = _read_mnist_file(found)
    digits = digits[:limit]
    images = to_channels(fit_mnist(digits, image_size), channels)
    report = LoadReport(source, str(found) if found else None, len(images), 0)
    return images, report


def _dataset_files(spec: _MnistLike, folder: Path) -> list[Path]:
    """The files that can hold the dataset directly inside ``folder``, best first."""
    return [folder / spec.npz_name, *(folder / name for name in _IDX_NAMES)]


def _mnist_candidates(spec: _MnistLike, root: Path) -> list[Path]:
    """``root/<npz>``, or ``root/<subdir>/`` holding the npz or IDX files (Keras's and Debian's layout).

    Bare IDX files directly in a shared data root are not used: MNIST and Fashion-MNIST share their names.
    """
    return [root / spec.npz_name, *_dataset_files(spec, root / spec.subdir)]


def _data_roots() -> list[Path]:
    """Where MNIST-like data is looked for without --data, in order."""
    roots = [Path(os.environ[DATA_ENV]).expanduser()] if os.environ.get(DATA_ENV) else []
    keras_home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return [*roots, DEBIAN_DATASETS_DIR, keras_home / "datasets"]


def find_installed(spec: _MnistLike) -> Path | None:
    for root in _data_roots():
        for candidate in _mnist_candidates(spec, root):
            if candidate.is_file():
                return candidate
    return None


def resolve_mnist_path(spec: _MnistLike, path: Path) -> Path:
    """The file to read for --data: the path itself, or the dataset file inside a folder."""
    if not path.exists():
        raise DataError(
            f"{spec.title} data path {path} does not exist. Pass --data with Keras's {spec.npz_name}, "
            f"a train-images-idx3-ubyte[.gz] file, or a folder holding one of them."
        )
    if path.is_file():
        return path
    for candidate in (*_dataset_files(spec, path), *_dataset_files(spec, path / spec.subdir)):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"Folder {path} has no {spec.npz_name} and no train-images-idx3-ubyte[.gz]. Put Keras's "
        f"{spec.npz_name} or the IDX training images there, or for a folder of image files use the "
        f"'folder' source."
    )


def _read_mnist_file(path: Path) -> np.ndarray:
    """uint8 (N, H, W) training images from a Keras-style .npz or an IDX file."""
    if path.suffix == ".npz":
        return read_npz(path)
    return read_idx_images(path)


def read_npz(path: Path) -> np.ndarray:
    fix = "Pass a Keras-style .npz with x_train of shape (N, 28, 28), or the IDX file train-images-idx3-ubyte.gz."
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
    except OSError as exc:
        raise DataError(f"Cannot read {path} ({exc.strerror}). {fix}") from None
    if head == b"\x93NUMPY":
        raise DataError(f"{path} holds a single array, not a .npz archive with x_train. {fix}")
    if not zipfile.is_zipfile(path):  # whatever it is, its bytes are not repeated in the message
        raise DataError(f"{path} is not a NumPy .npz archive (a .npz is a zip of arrays). {fix}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "x_train" not in archive.files:
                found = ", ".join(archive.files[:10]) or "nothing"
                raise DataError(f"{path} has no 'x_train' array (it has: {found}). {fix}")
            images = archive["x_train"]
    except ValueError as exc:
        if "pickle" in str(exc):  # numpy's advice to allow pickles would run code from the file: never
            raise DataError(f"{path}: x_train holds Python objects, which are never loaded (they could run code). "
                            f"{fix}") from None
        raise DataError(f"Cannot read {path} as a NumPy .npz ({type(exc).__name__}). "
                        "Download the file again.") from None
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} as a NumPy .npz ({type(exc).__name__}: the archive is damaged). "
                        "Download the file again.") from None
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{path}: x_train is {images.dtype} of shape {images.shape}, expected uint8 (N, height, width). {fix}"
        )
    return images


def read_idx_images(path: Path) -> np.ndarray:
    """Parse an IDX image file (magic 0x00000803: uint8, 3 dims, big-endian sizes), gzipped or not.

    The 16-byte header is checked before the rest is read, so pointing --data at some big file that is not a
    dataset costs nothing; and the message never repeats the file's bytes (it may be /etc/shadow)."""
    fix = "Pass the training images file train-images-idx3-ubyte[.gz] or Keras's .npz."
    try:
        with open_maybe_gzip(path) as handle:
            header = handle.read(16)
            if len(header) < 16:
                raise DataError(f"{path} is too short ({len(header)} bytes) to be an IDX image file. {fix}")
            (magic,) = struct.unpack(">I", header[:4])
            if magic == 0x00000801:
                raise DataError(f"{path} is an IDX label file, not images. {fix}")
            if magic != 0x00000803:
                raise DataError(f"{path} is not an IDX image file (nor Keras's .npz). {fix}")
            count, rows, cols = struct.unpack(">III", header[4:16])
            raw = header + handle.read(16 + count * rows * cols + 1 - 16)  # one byte more: a longer file is wrong
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} ({getattr(exc, 'strerror', None) or type(exc).__name__}). "
                        "Download the IDX file again.") from None
    expected = 16 + count * rows * cols
    if count == 0 or rows == 0 or cols == 0 or len(raw) != expected:
        raise DataError(
            f"{path} says {count} images of {rows}x{cols} ({expected:,} bytes) but holds "
            f"{'more' if len(raw) > expected else f'{len(raw):,} bytes'}; it is truncated or damaged. "
            "Download it again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def open_maybe_gzip(path: Path) -> IO[bytes]:
    """A binary stream of `path`, decompressed on the fly if it is gzipped (read lazily, header first)."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _download_with_keras(source: str, spec: _MnistLike) -> np.ndarray:
    """Last resort: Keras's own downloader, which needs internet access."""
    try:
        import keras

        loader = keras.datasets.mnist if source == "mnist" else keras.datasets.fashion_mnist
        (images, _labels), _test = loader.load_data()
    except Exception as exc:  # noqa: BLE001 - any failure here means "not available offline"
        looked = ", ".join(str(root) for root in _data_roots())
        raise DataError(
            f"{spec.title} was not found locally (looked in {looked}) and Keras could not download it "
            f"({type(exc).__name__}: {exc}). Pass --data /path/to/{spec.npz_name} (Keras's {spec.npz_name}) "
            f"or a folder with train-images-idx3-ubyte.gz, or set {DATA_ENV} to a folder holding {spec.npz_name}."
        ) from exc
    return np.asarray(images, dtype=np.uint8)


def fit_mnist(digits: np.ndarray, image_size: int) -> np.ndarray:
    """(N, H, W) uint8 -> (N, S, S) uint8.

    28x28 digits at 32x32 are zero-padded by 2 pixels per side, as "MNIST-32" usually means:
    the strokes keep their size and the digit gains a black border. Any other size is resized
    bilinearly.
    """
    if digits.shape[1:] == (image_size, image_size):
        return digits
    if digits.shape[1:] == (28, 28) and image_size == 32:
        return np.pad(digits, ((0, 0), (2, 2), (2, 2)))
    size = (image_size, image_size)
    return np.stack([np.asarray(Image.fromarray(d).resize(size, Image.BILINEAR)) for d in digits])


def to_channels(gray: np.ndarray, channels: int) -> np.ndarray:
    return np.repeat(gray[..., np.newaxis], channels, axis=-1)
