"""Evaluator classifiers for digit-like data, and the labelled train/test splits they are trained and scored on.

An *evaluator* is a small CNN trained by the project on a dataset's training split (``scripts/train_evaluators.py``)
and shipped as ``pretrained/evaluators/<dataset>.keras`` with a JSON card beside it (test accuracy, epochs, seconds,
data). Its penultimate layer (``features``, 128 ReLU units) gives the features of the classifier-FID; its softmax
gives the class probabilities of the classifier score and the mode coverage (see :mod:`gan_core.metrics`).

Inputs are float images in [0, 1]: 28x28 as trained; 32x32 (MNIST zero-padded by 2, the ``digits32`` presets) is
cropped to its centre 28x28; any other size is resized; RGB is averaged to gray.
"""
from __future__ import annotations

import functools
import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import data as data_lib
from .errors import DataError, ModelError, first_line
from .fsutil import file_sha256

DIGIT_DATASETS = ("mnist", "fashion_mnist")
SPLITS = ("train", "test")
INPUT_SIZE = 28
FEATURE_LAYER = "features"
EVALUATORS_ENV = "GAN_EXPLORER_EVALUATORS"

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}

_IDX_PREFIX = {"train": "train", "test": "t10k"}


# --- labelled splits ------------------------------------------------------------------------------------------

def read_idx_labels(path: str | Path) -> np.ndarray:
    """Parse an IDX label file (magic 0x00000801: uint8, 1 dim, big-endian count), gzipped or not; the header is
    checked before the rest is read, and a message never repeats the file's bytes."""
    path = Path(path)
    try:
        with data_lib.open_maybe_gzip(path) as handle:
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


def _locate(dataset: str, path: str | Path | None) -> Path:
    """The .npz file or the folder of IDX files that holds the dataset's labelled splits."""
    spec = data_lib._MNIST_LIKE[dataset]
    if path is None:
        found = data_lib._find_installed(spec)
        if found is None:
            raise DataError(f"{spec.title} was not found locally; pass --data with Keras's {spec.npz_name} or the "
                            "folder of its IDX files (train/t10k images and labels)")
    else:
        found = data_lib._resolve_mnist_path(spec, Path(path).expanduser())
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
    where = _locate(dataset, path)
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
        images, labels = data_lib._read_idx_images(pair[0]), read_idx_labels(pair[1])
    images, labels = np.asarray(images, np.uint8), np.asarray(labels, np.uint8).reshape(-1)
    if images.shape[1:] != (INPUT_SIZE, INPUT_SIZE) or len(images) != len(labels):
        raise DataError(f"{where}: {split} split has images {images.shape} and labels {labels.shape}; "
                        "expected (N, 28, 28) and (N,)")
    return images[:limit], labels[:limit]


# --- the classifier -------------------------------------------------------------------------------------------

def build_classifier(num_classes: int = 10, feature_dim: int = 128):
    """Conv32-pool-Conv64-pool-Conv128-pool ('same' 3x3 convolutions) -dropout-Dense128 (``features``)-dropout-
    Dense(num_classes) softmax; input 28x28x1 in [0, 1]. ~240k parameters, a ~1 MB file.

    Three poolings keep the dense layer small (MNIST's classic Conv32-Conv64-pool net has 1.2M parameters, most
    in its first dense layer) while reaching 99.3% on MNIST's test split in 6 epochs on a CPU.
    """
    import keras
    from keras import layers

    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="image")
    x = inputs
    for i, filters in enumerate((32, 64, 128), start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(name=f"pool{i}")(x)
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(feature_dim, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.5, name="dropout2")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="evaluator")


def default_evaluators_dir() -> Path:
    return Path(os.environ.get(EVALUATORS_ENV) or Path(__file__).resolve().parent.parent / "pretrained" / "evaluators")


def evaluator_path(dataset: str) -> Path:
    return default_evaluators_dir() / f"{dataset}.keras"


def to_evaluator_input(images: np.ndarray) -> np.ndarray:
    """Float images in [0, 1], (N, H, W[, C]) -> (N, 28, 28, 1) float32.

    RGB is averaged to gray; 32x32 is cropped to its centre 28x28 (the digits32 presets pad MNIST by 2 pixels);
    any other size is resized (area-averaged when shrinking).
    """
    x = np.asarray(images, np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise ValueError(f"evaluator input must be (N, H, W, 1|3) images; got shape {x.shape}")
    if x.shape[-1] == 4:
        x = x[..., :3]
    if x.shape[-1] == 3:
        x = x.mean(axis=-1, keepdims=True)
    h, w = x.shape[1:3]
    if (h, w) == (32, 32):
        x = x[:, 2:30, 2:30]
    elif (h, w) != (INPUT_SIZE, INPUT_SIZE):
        import tensorflow as tf

        x = tf.image.resize(x, (INPUT_SIZE, INPUT_SIZE), method="area" if h > INPUT_SIZE else "bilinear",
                            antialias=True).numpy()
    return np.clip(x, 0.0, 1.0)


@dataclass
class Evaluator:
    """A loaded evaluator classifier: ``predict(images)`` -> (penultimate features, class probabilities)."""

    model: Any
    dataset: str
    path: str
    sha256: str
    card: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import keras
        import tensorflow as tf

        features = self.model.get_layer(FEATURE_LAYER).output
        both = keras.Model(self.model.inputs, [features, self.model.outputs[0]])
        self._call = tf.function(lambda x: both(x, training=False), reduce_retracing=True,
                                 input_signature=[tf.TensorSpec([None, INPUT_SIZE, INPUT_SIZE, 1], tf.float32)])

    @property
    def num_classes(self) -> int:
        return int(self.model.output_shape[-1])

    @property
    def class_names(self) -> list[str]:
        return CLASS_NAMES.get(self.dataset, [str(i) for i in range(self.num_classes)])

    def predict(self, images: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """(features float64 (N, 128), probabilities float64 (N, classes)) of float images in [0, 1]."""
        feats, probs = [], []
        for start in range(0, len(images), batch_size):
            x = to_evaluator_input(images[start:start + batch_size])
            f, p = self._call(x)
            feats.append(np.asarray(f, np.float64))
            probs.append(np.asarray(p, np.float64))
        if not feats:
            return np.zeros((0, int(self.model.get_layer(FEATURE_LAYER).units))), np.zeros((0, self.num_classes))
        return np.concatenate(feats), np.concatenate(probs)

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        _, probs = self.predict(images)
        return float(np.mean(probs.argmax(axis=1) == np.asarray(labels).reshape(-1)))


def load_evaluator(dataset: str, path: str | Path | None = None) -> Evaluator:
    """The shipped evaluator of ``dataset`` (or the file at ``path``), loaded in Keras's safe mode; memoised."""
    resolved = Path(path) if path is not None else evaluator_path(dataset)
    if not resolved.is_file():
        raise ModelError(f"no evaluator classifier for {dataset} at {resolved}; train one with "
                         "`python scripts/train_evaluators.py` (or set $GAN_EXPLORER_EVALUATORS)")
    stat = resolved.stat()
    return _load_evaluator(dataset, str(resolved.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load_evaluator(dataset: str, path: str, _size: int, _mtime_ns: int) -> Evaluator:
    import keras

    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a bad file
        raise ModelError(f"cannot load evaluator {path}: {first_line(exc)}") from None
    if tuple(model.input_shape[1:]) != (INPUT_SIZE, INPUT_SIZE, 1):
        raise ModelError(f"evaluator {path} takes {model.input_shape}, not 28x28x1 images")
    try:
        model.get_layer(FEATURE_LAYER)
    except ValueError:
        raise ModelError(f"evaluator {path} has no '{FEATURE_LAYER}' layer for the classifier-FID") from None
    card_path = Path(path).with_suffix(".json")
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError):
        card = {}
    return Evaluator(model=model, dataset=dataset, path=path, sha256=file_sha256(path), card=card)
