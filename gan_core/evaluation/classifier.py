"""Evaluator classifiers for digit-like data, and the labelled train/test splits they are trained and scored on.

An *evaluator* is a small CNN trained by the project on a dataset's training split (``scripts/train_evaluators.py``)
and shipped as ``pretrained/evaluators/<dataset>.keras`` with a JSON card beside it (test accuracy, epochs, seconds,
data). Its penultimate layer (``features``, 128 ReLU units) gives the features of the classifier-FID; its softmax
gives the class probabilities of the classifier score and the mode coverage (see :mod:`gan_core.evaluation`).

Inputs are float images in [0, 1]: 28x28 as trained; 32x32 (MNIST zero-padded by 2, the ``digits32`` presets) is
cropped to its centre 28x28; any other size is resized; RGB is averaged to gray.
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import CLASS_NAMES
from ..errors import ModelError, first_line
from ..files.disk import file_sha256

INPUT_SIZE = 28
FEATURE_LAYER = "features"
EVALUATORS_ENV = "GAN_EXPLORER_EVALUATORS"

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
    return Path(os.environ.get(EVALUATORS_ENV) or Path(__file__).resolve().parents[2] / "pretrained" / "evaluators")


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
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
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
