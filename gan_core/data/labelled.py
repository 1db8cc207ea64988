"""Labelled splits of the digit-like sources (MNIST, Fashion-MNIST): images with their classes.

The evaluator classifiers are trained and scored on these; image-to-image runs hold out the test split.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from .mnist import (
    MNIST_LIKE,
    find_installed,
    open_maybe_gzip,
    read_idx_images,
    resolve_mnist_path,
)

DIGIT_DATASETS = ("mnist", "fashion_mnist")
SPLITS = ("train", "test")
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}

_IDX_PREFIX = {"train": "train", "test": "t10k"}

_IDX_PREFIX = {"train": "train", "test": "t10k"}


def read_idx_labels(path: str | Path) -> np.ndarray:
    """Parse an IDX label file (magic 0x00000801: uint8, 1 dim, big-endian count), gzipped or not; the header is
    checked before the rest is read, and a message never repeats the file's bytes."""
    path = Path(path)
    try:
        with open_maybe_gzip(path) as handle:
            header = handle.read(8)
            if len(header) < 8:
                raise DataError(f"{path} is too short ({len(header)} bytes) to be an IDX label file.")
            magic, count = struct.unpack(">II", header)
            if magic == 0x00000803:
                raise DataError(f"{path} is an IDX image file, not labels. Pass the *-labels-idx1-ubyte[.gz] file.")
            if magic != 0x00000801:
                raise DataError(f"{path} is not an IDX label file. Pass the *-labels-idx1-ubyte[.gz] file.")
            raw = header + handle.read(count + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} ({getattr(exc, 'strerror', None) or type(exc).__name__}). "
                        "Download the IDX label file again.") from None
    if len(raw) != 8 + count:
        raise DataError(f"{path} says {count} labels but holds {'more' if len(raw) > 8 + count else len(raw) - 8}; "
                        "it is truncated or damaged.")
    return np.frombuffer(raw, dtype=np.uint8, offset=8).copy()


def _idx_pair(folder: Path, split: str) -> tuple[Path, Path] | None:
    prefix = _IDX_PREFIX[split]
    for sep in ("-", "."):
        for gz in (".gz", ""):
            images = folder / f"{prefix}-images{sep}idx3-ubyte{gz}"
            labels = folder / f"{prefix}-labels{sep}idx1-ubyte{gz}"
            if images.is_file() and labels.is_file():
                return images, labels
    return None


def locate(dataset: str, path: str | Path | None) -> Path:
    """The .npz file or the folder of IDX files that holds the dataset's labelled splits."""
    spec = MNIST_LIKE[dataset]
    if path is None:
        found = find_installed(spec)
        if found is None:
            raise DataError(f"{spec.title} was not found locally; pass --data with Keras's {spec.npz_name} or the "
                            "folder of its IDX files (train/t10k images and labels)")
    else:
        found = resolve_mnist_path(spec, Path(path).expanduser())
    return found if found.suffix == ".npz" else found.parent


def load_labelled(dataset: str, split: str = "test", path: str | Path | None = None,
                  limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and uint8 labels (N,) of MNIST's or Fashion-MNIST's ``train`` or ``test`` split.

    ``path`` is what a run's config holds in ``data``: Keras's .npz (keys x_train, y_train, x_test, y_test), an
    IDX file (its folder must hold the four IDX files) or a folder holding either; None looks where
    :func:`gan_core.data.load_images` looks ($GAN_EXPLORER_DATA, /usr/share/datasets, ~/.keras/datasets).
    """
    if dataset not in DIGIT_DATASETS:
        raise DataError(f"labelled splits exist for {', '.join(DIGIT_DATASETS)}, not {dataset!r}")
    if split not in SPLITS:
        raise DataError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    where = locate(dataset, path)
    if where.suffix == ".npz":
        keys = (f"x_{split}", f"y_{split}")
        try:
            with np.load(where, allow_pickle=False) as archive:
                missing = [k for k in keys if k not in archive.files]
                if missing:
                    raise DataError(f"{where} has no {', '.join(missing)} (it has {', '.join(archive.files)}); "
                                    "evaluation needs Keras's full .npz with labels and the test split")
                images, labels = archive[keys[0]], archive[keys[1]]
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise DataError(f"Cannot read {where} as a NumPy .npz ({exc}).") from exc
    else:
        pair = _idx_pair(where, split)
        if pair is None:
            prefix = _IDX_PREFIX[split]
            raise DataError(f"{where} lacks {prefix}-images-idx3-ubyte[.gz] and {prefix}-labels-idx1-ubyte[.gz]; "
                            "evaluation needs the labelled test split beside the training images")
        images, labels = read_idx_images(pair[0]), read_idx_labels(pair[1])
    images, labels = np.asarray(images, np.uint8), np.asarray(labels, np.uint8).reshape(-1)
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(f"{where}: {split} split has images {images.shape} and labels {labels.shape}; "
                        "expected (N, 28, 28) and (N,)")
    return images[:limit], labels[:limit]
