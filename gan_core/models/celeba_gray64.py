"""The grayscale faces note: 64x64 grayscale CelebA faces with pixels in [0, 1].

The note names the parts but not their sizes, so we choose the standard DCGAN sizes:
G: Dense 8x8x256 (no bias) + BatchNorm + LeakyReLU -> Conv2DTranspose 128 / 64 (5x5, s2, BatchNorm +
LeakyReLU) -> Conv2DTranspose channels (5x5, s2), sigmoid for the [0, 1] pixels the note asks for.
D: two Conv2D 64 / 128 (5x5, s2) + LeakyReLU(0.2) + Dropout 0.3 -> Dense(1). The note's sigmoid is folded into
the loss (binary cross-entropy from logits), which is the same objective but numerically stable.
Optimizer: Adam(2e-4, beta_1=0.5) as in the DCGAN paper (the note gives none); batch 128.
"""
import keras
from keras import layers

from . import Architecture, multiple_of, register
from ._layers import image_input, noise_input, output_activation
from .batchnorm import BatchNormalization


def build_generator(cfg) -> keras.Model:
    s = cfg.image_size // 8
    z = noise_input(cfg)
    x = layers.Dense(s * s * 256, use_bias=False)(z)
    x = BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((s, s, 256))(x)
    for filters in (128, 64):
        x = layers.Conv2DTranspose(filters, 5, strides=2, padding="same", use_bias=False)(x)
        x = BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2DTranspose(cfg.channels, 5, strides=2, padding="same", activation=output_activation(cfg))(x)
    return keras.Model(z, x, name="generator")


def build_discriminator(cfg) -> keras.Model:
    img = image_input(cfg)
    x = img
    for filters in (64, 128):
        x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1)(x)
    return keras.Model(img, x, name="discriminator")


register(Architecture(
    name="celeba_gray64",
    summary="64x64 grayscale face DCGAN (CelebA), [0,1] pixels, Adam(2e-4, 0.5), batch 128",
    source="grayscale faces note",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=multiple_of(8, "celeba_gray64"),
    preset=dict(dataset="folder", image_size=64, channels=1, pixel_range="sigmoid", noise="normal", noise_dim=100,
                batch_size=128, epochs=50, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, real_label=1.0),
    tags=("faces",),
))
