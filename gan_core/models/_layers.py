"""Small shared building blocks (not an architecture: names starting with _ are skipped)."""
from __future__ import annotations

import keras
import numpy as np

from ..errors import ConfigError


def noise_input(cfg) -> keras.KerasTensor:
    return keras.Input(shape=(cfg.noise_dim,), name="z")


def label_input(cfg) -> keras.KerasTensor:
    """The class as a one-hot (or, between classes, a mixed) vector: a Dense layer on it is an embedding lookup
    that also accepts blends, so the app can interpolate from one digit to another with the same z."""
    return keras.Input(shape=(cfg.num_classes,), name="label")


def image_input(cfg) -> keras.KerasTensor:
    return keras.Input(shape=(cfg.image_size, cfg.image_size, cfg.channels), name="image")


def output_activation(cfg) -> str:
    """tanh for [-1, 1] pixels, sigmoid for [0, 1]: the generator's range follows the data's."""
    return "tanh" if cfg.pixel_range == "tanh" else "sigmoid"


def init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(0.0, 0.02)  # the DCGAN/pix2pix initialisation


def check_channels(**channels: int) -> None:
    for name, value in channels.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive whole number (1 for gray, 3 for RGB); got {value!r}")
