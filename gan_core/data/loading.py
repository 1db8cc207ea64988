"""The data API the trainer, tests and pages call: load a source as arrays, check it, batch it.

Everything returns plain NumPy arrays; TensorFlow is imported only by :func:`make_dataset`, so importing this
is fast. Every problem a user can fix is a :class:`DataError` that says what to provide and where.
"""
from __future__ import annotations

import os
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from .folders import IMAGE_EXTENSIONS, MIN_IMAGE_SIDE, check_folder, load_folder
from .labelled import load_labelled
from .load_report import LoadReport, ignore
from .mnist import (
    MNIST_LIKE,
    find_installed,
    fit_mnist,
    load_mnist_like,
    open_maybe_gzip,
    read_npz,
    resolve_mnist_path,
    to_channels,
)

if TYPE_CHECKING:
    import tensorflow as tf

SOURCES = ("mnist", "fashion_mnist", "folder")
PIXEL_RANGES = ("tanh", "sigmoid")



def load_images(
    source: str,
    *,
    path: str | None = None,
    image_size: int = 28,
    channels: int = 1,
    pixel_range: str = "tanh",
    limit: int | None = None,
    cache_dir: str | None = None,
    log: Callable[[str], None] | None = None,
    aspect: int = 1,
) -> tuple[np.ndarray, LoadReport]:
    """Load training images as float32 ``(N, image_size, image_size * aspect, channels)``.

    Values are in [-1, 1] for ``pixel_range="tanh"`` and [0, 1] for ``"sigmoid"``, matching the
    generator's output activation. ``limit`` keeps the first N images (files, for a folder:
    by sorted path, before decoding), so a quick run on a huge folder stays quick.

    Sources:
      * ``mnist`` / ``fashion_mnist``: the 60,000 training images. ``path`` may be a Keras-style
        ``.npz`` (key ``x_train``), an IDX file ``train-images-idx3-ubyte[.gz]`` or a folder holding
        either. Without ``path`` the loader looks in ``$GAN_EXPLORER_DATA``, Debian's
        ``/usr/share/datasets`` and Keras's cache (``~/.keras/datasets``), then asks Keras to
        download. 28x28 digits asked for at 32x32 are zero-padded by 2 pixels per side (the usual
        meaning of "MNIST-32"); other sizes are resized bilinearly.
      * ``folder``: every image file under ``path`` (recursively), centre-cropped to a square and
        resized; unreadable files are skipped and counted. Decoded images are cached as uint8
        ``.npy`` under ``cache_dir`` (default ``$GAN_EXPLORER_CACHE`` or ``~/.cache/gan_explorer``).
        ``aspect=2`` keeps a centre crop twice as wide as tall instead of a square: Pix2Pix's A|B
        side-by-side pairs.
    """
    start = time.perf_counter()
    log = log or ignore
    _check_options(source, image_size, channels, pixel_range, limit)
    if aspect not in (1, 2):
        raise DataError(f"aspect must be 1 (square images) or 2 (A|B side-by-side pairs); got {aspect!r}")
    if aspect != 1 and source != "folder":
        raise DataError(f"side-by-side A|B pairs come from a folder of image files, not from {source}; "
                        "use the 'folder' source")
    if source == "folder":
        images, report = load_folder(path, image_size, channels, limit, cache_dir, log, aspect)
    else:
        images, report = load_mnist_like(source, path, image_size, channels, limit, log)
    scaled = _scale(images, pixel_range)
    report.seconds = time.perf_counter() - start
    log(f"{source}: {report.n_images:,} images of {image_size}x{image_size * aspect}x{channels} "
        f"in {report.seconds:.1f}s")
    return scaled, report


def check_source(source: str, path: str | None = None) -> int | None:
    """What :func:`load_images` would fail on first, found without decoding an image: a missing path, a file that
    is not the dataset, a folder without images. Returns the number of training images where that is cheap to know
    (an IDX or .npz header, a folder's image files), None where it is not (Keras would download the data).

    Run before a run folder is made, so that such mistakes never leave a failed run behind."""
    if source not in SOURCES:
        raise DataError(f"Unknown data source {source!r}. Use one of: {', '.join(SOURCES)}.")
    if source == "folder":
        folder = check_folder(path)
        count = sum(Path(name).suffix.lower() in IMAGE_EXTENSIONS for _, _, names in os.walk(folder) for name in names)
        if not count:
            raise DataError(f"No image files in {folder} (searched recursively for "
                            f"{', '.join(sorted(IMAGE_EXTENSIONS))}). Put images there or pass --data with another "
                            "folder.")
        return count
    spec = MNIST_LIKE[source]
    found = resolve_mnist_path(spec, Path(path).expanduser()) if path is not None else find_installed(spec)
    if found is None:
        return None
    return _npz_count(found) if found.suffix == ".npz" else _idx_count(found)


def _npz_count(path: Path) -> int:
    """x_train's length from the .npz's array header, with :func:`read_npz`'s checks short of reading the data."""
    fix = "Pass a Keras-style .npz with x_train of shape (N, 28, 28), or the IDX file train-images-idx3-ubyte.gz."
    if not zipfile.is_zipfile(path):
        read_npz(path)  # raises the single-array or not-a-zip message
    try:
        with zipfile.ZipFile(path) as archive:
            if "x_train.npy" not in archive.namelist():
                found = ", ".join(n.removesuffix(".npy") for n in archive.namelist()[:10]) or "nothing"
                raise DataError(f"{path} has no 'x_train' array (it has: {found}). {fix}")
            with archive.open("x_train.npy") as member:
                version = np.lib.format.read_magic(member)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = read_header(member)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} as a NumPy .npz ({type(exc).__name__}: the archive is damaged). "
                        "Download the file again.") from None
    if len(shape) != 3 or dtype != np.uint8:
        raise DataError(f"{path}: x_train is {dtype} of shape {shape}, expected uint8 (N, height, width). {fix}")
    return int(shape[0])


def _idx_count(path: Path) -> int:
    """The image count of an IDX file's header, with :func:`read_idx_images`'s header checks."""
    fix = "Pass the training images file train-images-idx3-ubyte[.gz] or Keras's .npz."
    try:
        with open_maybe_gzip(path) as handle:
            header = handle.read(16)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} ({getattr(exc, 'strerror', None) or type(exc).__name__}). "
                        "Download the IDX file again.") from None
    if len(header) < 16:
        raise DataError(f"{path} is too short ({len(header)} bytes) to be an IDX image file. {fix}")
    magic, count = struct.unpack(">II", header[:8])
    if magic == 0x00000801:
        raise DataError(f"{path} is an IDX label file, not images. {fix}")
    if magic != 0x00000803:
        raise DataError(f"{path} is not an IDX image file (nor Keras's .npz). {fix}")
    return int(count)


def load_test_images(
    source: str,
    *,
    path: str | None = None,
    image_size: int = 28,
    channels: int = 1,
    pixel_range: str = "tanh",
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's or Fashion-MNIST's test split, shaped and scaled like :func:`load_images`, with its labels.

    Image-to-image runs hold it out for their snapshots and quality figures, as latent GANs' metrics do.
    """
    _check_options(source, image_size, channels, pixel_range, limit)
    if source == "folder":
        raise DataError("a folder of images has no test split; hold out part of it instead")
    digits, labels = load_labelled(source, "test", path, limit=limit)
    return _scale(to_channels(fit_mnist(digits, image_size), channels), pixel_range), labels


def make_dataset(
    images: np.ndarray, batch_size: int, *, seed: int = 0, drop_remainder: bool = True,
    labels: np.ndarray | None = None,
) -> "tf.data.Dataset":
    """Shuffled, batched, prefetched ``tf.data`` pipeline over ``images`` (with ``labels``: of (image, label)
    pairs, shuffled together).

    The shuffle buffer holds the whole array, so every epoch is a full uniform reshuffle;
    ``seed`` makes the order reproducible between runs.
    """
    if labels is not None and len(labels) != len(images):
        raise DataError(f"{len(images)} images but {len(labels)} labels; give one label per image.")
    if batch_size < 1:
        raise DataError(f"Batch size must be at least 1, got {batch_size}. Pass --batch-size 1 or more.")
    if len(images) < batch_size:
        raise DataError(
            f"Only {len(images)} training images, fewer than the batch size {batch_size}. "
            f"Pass --batch-size {max(1, len(images))} or smaller, or provide more images."
        )
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(images if labels is None else (images, labels))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _check_options(source: str, image_size: int, channels: int, pixel_range: str, limit: int | None) -> None:
    if source not in SOURCES:
        raise DataError(f"Unknown data source {source!r}. Use one of: {', '.join(SOURCES)}.")
    if image_size < MIN_IMAGE_SIDE:
        raise DataError(f"Image size {image_size} is too small. Use an image size of {MIN_IMAGE_SIDE} or more.")
    if channels not in (1, 3):
        raise DataError(f"Channels must be 1 (grayscale) or 3 (RGB), got {channels}.")
    if pixel_range not in PIXEL_RANGES:
        raise DataError(f"Unknown pixel range {pixel_range!r}. Use one of: {', '.join(PIXEL_RANGES)}.")
    if limit is not None and limit < 1:
        raise DataError(f"Limit must be at least 1, got {limit}. Pass a positive --limit or leave it out.")


def _scale(images: np.ndarray, pixel_range: str) -> np.ndarray:
    """uint8 -> float32; 0 and 255 map exactly onto the ends of the range."""
    if pixel_range == "tanh":
        return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    return images.astype(np.float32) / np.float32(255.0)


# --- MNIST and Fashion-MNIST ---------------------------------------------------------------

