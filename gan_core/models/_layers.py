"""Small shared building blocks (not an architecture: names starting with _ are skipped)."""
from __future__ import annotations

import keras
from keras import layers
import numpy as np

from ..errors import ConfigError
from .batchnorm import BatchNormalization


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


def tutorial_upsampling(x: keras.KerasTensor, cfg) -> keras.KerasTensor:
    """The TF DCGAN tutorial's generator after its first block: 5x5 transposed convolutions 128
    (stride 1) and 64 (stride 2) with BatchNorm and LeakyReLU, then one to the image's channels (stride 2): x4 in
    all. mnist_dcgan and its class-conditional sibling share it."""
    x = layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False)(x)
    x = BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False)(x)
    x = BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    return layers.Conv2DTranspose(cfg.channels, 5, strides=2, padding="same", use_bias=False,
                                  activation=output_activation(cfg))(x)


def tutorial_discrimination(x: keras.KerasTensor) -> keras.KerasTensor:
    """The TF DCGAN tutorial's discriminator on an image (or, conditional, an image with its label maps): two 5x5
    stride-2 convolutions 64 and 128, each LeakyReLU and Dropout 0.3, then Dense(1) logits."""
    for filters in (64, 128):
        x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
        x = layers.LeakyReLU()(x)
        x = layers.Dropout(0.3)(x)
    return layers.Dense(1)(layers.Flatten()(x))
