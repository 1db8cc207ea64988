"""Class-conditional DCGAN for 28x28 digits: the TF DCGAN tutorial's networks, told which digit to draw.

As in keras-io's conditional GAN, both networks see the label; here it enters as a learned embedding (a Dense layer
on the one-hot vector, i.e. an embedding lookup that also accepts blends of classes):
G: z -> Dense 7x7x256 (BN, LeakyReLU) ++ label -> Dense 7x7x16 -> Conv2DTranspose 128 (s1) -> 64 (s2) -> 1 (s2, tanh).
D: image ++ label -> Dense 28x28x1 (an extra input channel) -> Conv2D 64 / 128 (5x5, s2) + LeakyReLU + Dropout 0.3
   -> Dense(1) logits.
z enters alone first, so the first hidden block (where the Latent page's principal directions are taken) is the
style of the digit, and the label decides which digit.
"""
import keras
from keras import layers

from . import Architecture, multiple_of, register
from ._layers import image_input, label_input, noise_input, tutorial_discrimination, tutorial_upsampling
from .batchnorm import BatchNormalization

LABEL_MAPS = 16  # feature maps the label embedding adds to G's first block


def build_generator(cfg) -> keras.Model:
    s = cfg.image_size // 4
    z, label = noise_input(cfg), label_input(cfg)
    x = layers.Dense(s * s * 256, use_bias=False, name="z_dense")(z)
    x = BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Reshape((s, s, 256))(x)
    e = layers.Dense(s * s * LABEL_MAPS, name="label_embedding")(label)
    e = layers.Reshape((s, s, LABEL_MAPS))(e)
    x = layers.Concatenate()([x, e])
    x = tutorial_upsampling(x, cfg)  # (s, s, C) -> 4s x 4s images
    return keras.Model([z, label], x, name="generator")


def build_discriminator(cfg) -> keras.Model:
    img, label = image_input(cfg), label_input(cfg)
    side = cfg.image_size
    e = layers.Dense(side * side, name="label_embedding")(label)
    e = layers.Reshape((side, side, 1))(e)
    x = layers.Concatenate()([img, e])
    x = tutorial_discrimination(x)  # -> logits
    return keras.Model([img, label], x, name="discriminator")


register(Architecture(
    name="mnist_cdcgan",
    summary="class-conditional DCGAN (label embedding into G and D): pick the digit; Adam 2e-4, beta_1 0.5, "
            "batch 128",
    source="TF DCGAN tutorial + keras-io conditional GAN",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=multiple_of(4, "mnist_cdcgan"),
    preset=dict(dataset="mnist", image_size=28, channels=1, pixel_range="tanh", noise="normal", noise_dim=100,
                num_classes=10, batch_size=128, epochs=10, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, real_label=1.0,
                grid=10),
    tags=("digits",),
    conditional=True,
))
