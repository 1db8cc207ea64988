"""The upsampling GAN note: an UpSampling2D + Conv2D generator for 32x32 digits, fed uniform noise.

G: Dense 4x4x256 (no bias) + BatchNorm + ReLU -> UpSampling + Conv2D 128 -> UpSampling + Conv2D 64 (3x3, BatchNorm +
ReLU) -> Conv2DTranspose 32 (s2) -> Conv2DTranspose channels, sigmoid: pixels in [0, 1].
D: Conv2D 32 / 64 (4x4, s2) + ReLU + Dropout 0.3 -> Dense(1) logits.
Noise is uniform on [0, 1) (`tf.random.uniform`), the note's choice. MNIST is padded by 2 pixels to 32x32.
The note sets Adam(1e-4) for both networks (as the TF DCGAN tutorial does) and leaves the batch size open; we use
the tutorial's 256.
"""
import keras
from keras import layers

from . import Architecture, multiple_of, register, register_preset
from ._layers import image_input, noise_input, output_activation
from .batchnorm import BatchNormalization


def build_generator(cfg) -> keras.Model:
    s = cfg.image_size // 8
    z = noise_input(cfg)
    x = layers.Dense(s * s * 256, use_bias=False)(z)
    x = BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((s, s, 256))(x)
    for filters in (128, 64):
        x = layers.UpSampling2D()(x)
        x = layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False)(x)
        x = BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.Conv2DTranspose(cfg.channels, 3, strides=1, padding="same", use_bias=False,
                               activation=output_activation(cfg))(x)
    return keras.Model(z, x, name="generator")


def build_discriminator(cfg) -> keras.Model:
    img = image_input(cfg)
    x = img
    for filters in (32, 64):
        x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)
        x = layers.ReLU()(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1)(x)
    return keras.Model(img, x, name="discriminator")


register(Architecture(
    name="digits32_upsample",
    summary="UpSampling2D + Conv2D generator for 32x32 digits, uniform noise, sigmoid pixels, Adam 1e-4",
    source="upsampling GAN note",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=multiple_of(8, "digits32_upsample"),
    preset=dict(dataset="mnist", image_size=32, channels=1, pixel_range="sigmoid", noise="uniform", noise_dim=100,
                batch_size=256, epochs=50, g_lr=1e-4, d_lr=1e-4, beta_1=0.9, real_label=1.0),
    tags=("digits",),
))

# The note's Adam(1e-4, beta_1 0.9) at batch 256 learns slowly, like the TF DCGAN tutorial's (see mnist_dcgan_fast).
# Same networks, the DCGAN paper's recipe and a smaller batch:
register_preset("digits32_fast", "digits32_upsample",
                "the upsampling GAN note's networks with the DCGAN paper's recipe (Adam 2e-4, beta_1 0.5, batch 128)",
                batch_size=128, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, epochs=20)
