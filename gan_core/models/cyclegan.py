"""CycleGAN (Zhu et al. 2017; named by the TF DCGAN tutorial and the upsampling GAN note): two ResNet generators A -> B
and B -> A, two PatchGAN discriminators, least-squares GAN + cycle consistency (10) + identity (5) losses and an image
pool. The networks and their presets are here; the losses, image pool and step in
:mod:`gan_core.train.cyclegan_step`. The trainer builds G and D twice, once per direction.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from ..errors import ConfigError
from . import Architecture, register, register_preset
from ._layers import check_channels, init
from .pix2pix import check_image_size, patchgan_geometry


def _instance_norm(filters: int):
    """Instance normalisation (per image, per channel): GroupNormalization with one group per channel.

    The paper normalises per instance, not per batch, so a picture's translation never depends on the others in
    its batch; a built-in layer keeps the saved file loadable in Keras's safe mode.
    """
    return layers.GroupNormalization(groups=filters, epsilon=1e-5)


def _conv_block(x, filters: int, kernel: int, strides: int = 1, transpose: bool = False, relu: bool = True):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel, strides=strides, padding="same", kernel_initializer=init(), use_bias=False)(x)
    x = _instance_norm(filters)(x)
    return layers.ReLU()(x) if relu else x


def downsamplings(image_size: int) -> int:
    """The paper's two stride-2 convolutions, one fewer where the side is under 32 (the bottleneck stays >= 8x8)."""
    check_image_size(image_size)
    return 2 if image_size >= 32 else 1


def build_resnet_generator(image_size: int = 64, channels: int = 3, filters: int = 64,
                           res_blocks: int = 6) -> "keras.Model":
    """The paper's ResNet generator (after Johnson et al.): c7s1-f, d2f, d4f, res_blocks x R4f, u2f, uf, c7s1-channels.

    Every convolution is followed by instance norm and ReLU, except the last (tanh). A residual block adds two 3x3
    convolutions to its input, so G starts near "change little", what translation wants. The paper pads by
    reflection; Keras has no built-in reflection layer (a custom one would not load in safe mode), so the padding
    is zeros ('same').
    """
    import keras
    check_channels(channels=channels, filters=filters)
    if isinstance(res_blocks, bool) or not isinstance(res_blocks, (int, np.integer)) or res_blocks < 0:
        raise ConfigError(f"res_blocks must be 0 or a positive whole number; got {res_blocks!r}")
    n_down = downsamplings(image_size)
    inputs = keras.Input(shape=(image_size, image_size, channels), name="input")
    x = _conv_block(inputs, filters, 7)
    for i in range(n_down):
        x = _conv_block(x, filters * 2 ** (i + 1), 3, strides=2)
    width = filters * 2 ** n_down
    for _ in range(res_blocks):
        y = _conv_block(x, width, 3)
        y = _conv_block(y, width, 3, relu=False)
        x = layers.Add()([x, y])
    for i in reversed(range(n_down)):
        x = _conv_block(x, filters * 2 ** i, 3, strides=2, transpose=True)
    outputs = layers.Conv2D(channels, 7, padding="same", kernel_initializer=init(), activation="tanh")(x)
    return keras.Model(inputs, outputs, name="generator")


def build_patch_discriminator(image_size: int = 64, channels: int = 3, filters: int = 64) -> "keras.Model":
    """The paper's PatchGAN on one image (no input beside it: nothing is paired), with instance norm.

    Same geometry as Pix2Pix's (:func:`gan_core.models.pix2pix.patchgan_geometry`): 70x70 patches where the image is big
    enough, a grid of raw scores (least squares: no sigmoid).
    """
    import keras
    n, _grid, _rf = patchgan_geometry(image_size)
    check_channels(channels=channels, filters=filters)
    inputs = keras.Input(shape=(image_size, image_size, channels), name="image")
    x = inputs
    for i in range(n):
        width = filters * min(2 ** i, 8)
        x = layers.Conv2D(width, 4, strides=2, padding="same", kernel_initializer=init(), use_bias=i == 0)(x)
        if i > 0:
            x = _instance_norm(width)(x)
        x = layers.LeakyReLU(0.2)(x)
    width = filters * min(2 ** n, 8)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(width, 4, kernel_initializer=init(), use_bias=False)(x)
    x = _instance_norm(width)(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.ZeroPadding2D()(x)
    scores = layers.Conv2D(1, 4, kernel_initializer=init())(x)
    return keras.Model(inputs, scores, name="discriminator")


def build_generator(cfg):
    return build_resnet_generator(cfg.image_size, cfg.channels, cfg.filters, cfg.res_blocks)


def build_discriminator(cfg):
    return build_patch_discriminator(cfg.image_size, cfg.channels, cfg.filters)


def check_size(size: int) -> str | None:
    try:
        downsamplings(size)
    except ConfigError as exc:
        return str(exc).replace("Pix2Pix", "CycleGAN")
    return None


register(Architecture(
    name="cyclegan",
    summary="CycleGAN: ResNet Gs A<->B + PatchGAN Ds on two unpaired image folders, LSGAN + cycle 10 + identity 5",
    source="CycleGAN (named by the TF DCGAN tutorial and the upsampling GAN note)",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=check_size,
    generators=2,
    images_per_example=2,
    preset=dict(dataset="folder", dataset_b="folder", image_size=64, channels=3, pixel_range="tanh",
                batch_size=4, epochs=20, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, filters=64, res_blocks=6,
                cycle_weight=10.0, identity_weight=0.5, pool_size=50),
    tags=("image-to-image",),
    task="cyclegan",
))

# Digits <-> garments: two real, unpaired sets that ship offline (MNIST, Debian's Fashion-MNIST), each with the
# project's evaluator classifier, so translations can be scored; 32x32 (MNIST padded) and 24 filters (1.1M
# parameters a generator, against the paper's 64) keep it trainable on a CPU and small enough to ship.
register_preset("cyclegan_mnist_fashion", "cyclegan",
                "CycleGAN MNIST digits <-> Fashion-MNIST garments (32x32, unpaired, 24 filters)",
                dataset="mnist", dataset_b="fashion_mnist", image_size=32, channels=1, filters=24, res_blocks=6,
                batch_size=16, epochs=5, limit=20000)
