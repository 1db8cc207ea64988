"""A tiny MLP GAN for the multiworker tests, and `python -m gan_core` with it registered (run this file as a script).

It has neither BatchNorm nor Dropout, on purpose: under any tf.distribute strategy those work per replica (batch
statistics of the replica's rows, masks drawn per replica), so a preset that has them does not repeat one process's
arithmetic on N workers. Without them, N workers on one global batch compute what one process computes, up to the
order of float additions, and the tests can compare weights closely."""
from __future__ import annotations

import sys

import keras
from keras import layers

from gan_core import cli, models
from gan_core.models import Architecture

NAME = "mw_mlp"


def build_generator(cfg) -> keras.Model:
    z = keras.Input(shape=(cfg.noise_dim,), name="z")
    x = layers.Dense(32, activation="relu")(z)
    x = layers.Dense(cfg.image_size * cfg.image_size * cfg.channels, activation="tanh")(x)
    return keras.Model(z, layers.Reshape((cfg.image_size, cfg.image_size, cfg.channels))(x), name="generator")


def build_discriminator(cfg) -> keras.Model:
    img = keras.Input(shape=(cfg.image_size, cfg.image_size, cfg.channels), name="image")
    x = layers.LeakyReLU(0.2)(layers.Dense(32)(layers.Flatten()(img)))
    return keras.Model(img, layers.Dense(1)(x), name="discriminator")


if NAME not in models.names():
    models.register(Architecture(
        name=NAME, summary="test-only MLP GAN without BatchNorm or Dropout", build_generator=build_generator,
        build_discriminator=build_discriminator,
        preset=dict(dataset="mnist", image_size=28, channels=1, pixel_range="tanh", noise="normal", noise_dim=16,
                    batch_size=64, epochs=1, g_lr=1e-3, d_lr=1e-3, beta_1=0.5, real_label=1.0)))

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
