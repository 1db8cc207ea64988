"""The dense MNIST GAN note: a fully connected (MLP) GAN on MNIST.

G: Dense 256 / 512 / 1024 (ReLU, BatchNorm momentum 0.8) -> Dense side*side*channels, tanh -> reshape.
D: Flatten -> Dense 512 / 256 (ReLU, Dropout 0.3) -> Dense(1) logits.
The note trains with the TF DCGAN tutorial's loop but never defines its optimizers; we use the tutorial's Adam(1e-4)
for both, its batch 256, and its own 300 epochs.
"""
import keras
from keras import layers

from . import Architecture, register
from ._layers import image_input, noise_input, output_activation
from .batchnorm import BatchNormalization


def build_generator(cfg) -> keras.Model:
    z = noise_input(cfg)
    x = z
    for units in (256, 512, 1024):
        x = layers.Dense(units, activation="relu")(x)
        x = BatchNormalization(momentum=0.8)(x)
    x = layers.Dense(cfg.image_size * cfg.image_size * cfg.channels, activation=output_activation(cfg))(x)
    x = layers.Reshape((cfg.image_size, cfg.image_size, cfg.channels))(x)
    return keras.Model(z, x, name="generator")


def build_discriminator(cfg) -> keras.Model:
    img = image_input(cfg)
    x = layers.Flatten()(img)
    for units in (512, 256):
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Dense(1)(x)
    return keras.Model(img, x, name="discriminator")


def _check(size: int) -> str | None:
    return None if 8 <= size <= 128 else f"mnist_dense makes images from 8 to 128 pixels a side; got {size}"


register(Architecture(
    name="mnist_dense",
    summary="MLP GAN: Dense 256/512/1024 with BatchNorm 0.8, 28x28 digits, Adam 1e-4, batch 256",
    source="dense MNIST GAN note",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=_check,
    preset=dict(dataset="mnist", image_size=28, channels=1, pixel_range="tanh", noise="normal", noise_dim=100,
                batch_size=256, epochs=300, g_lr=1e-4, d_lr=1e-4, beta_1=0.9, real_label=1.0),
    tags=("digits",),
))
