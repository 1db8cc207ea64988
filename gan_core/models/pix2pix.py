"""Pix2Pix (Isola et al. 2017; the TF DCGAN tutorial and the upsampling GAN note name it as their next chapter): a U-Net
G and a PatchGAN D on pairs (input, target), and their presets. G takes an image, not z: the pairing says what the input
is (edges, grayscale, a masked image, or the A half of an A|B file). The losses and the train step are in
:mod:`gan_core.train.pix2pix_step`, the pair transforms in :mod:`gan_core.data.pairs`.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import keras
import numpy as np
from keras import layers

from .. import data
from ..data.pairs import LUMA
from ..errors import ConfigError
from . import Architecture, register, register_preset
from ._layers import check_channels, init
from .batchnorm import BatchNormalization

MIN_SIZE = 16
_PATCH_STRIDES = 3  # the 70x70 PatchGAN has three stride-2 convolutions


def check_image_size(image_size: int) -> None:
    """The U-Net halves the side down to 1x1 and doubles it back, so the side must be a power of two."""
    if not isinstance(image_size, (int, np.integer)) or image_size < MIN_SIZE or image_size & (image_size - 1):
        raise ConfigError(
            f"Pix2Pix needs square images whose side is a power of two of at least {MIN_SIZE} "
            f"(16, 32, 64, 128, 256, ...): the U-Net halves it down to 1x1; got {image_size!r}. "
            f"Resize or crop the images to the nearest such side."
        )


def _down(x, filters: int, batchnorm: bool = True):
    """Conv 4x4 stride 2 (halves the side) -> BatchNorm -> LeakyReLU; no bias where BatchNorm brings its own."""
    x = layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=init(), use_bias=False)(x)
    if batchnorm:
        x = BatchNormalization()(x)
    return layers.LeakyReLU(0.3)(x)  # Keras's default slope, as in the tutorial


def _up(x, filters: int, dropout: bool = False):
    """Transposed conv 4x4 stride 2 (doubles the side) -> BatchNorm -> [Dropout 0.5] -> ReLU."""
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", kernel_initializer=init(), use_bias=False)(x)
    x = BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)  # the paper's only noise source: G takes no z
    return layers.ReLU()(x)


def unet_depth(image_size: int) -> int:
    """Downsamplings from image_size to 1x1: 5 at 32, 6 at 64, 8 at 256 (the tutorial's)."""
    check_image_size(image_size)
    return int(math.log2(image_size))


def build_unet_generator(image_size: int = 64, in_channels: int = 3, out_channels: int = 3,
                         base_filters: int = 64, keep_luminance: bool = False) -> "keras.Model":
    """The tutorial's U-Net, with its depth following the image size.

    Encoder: log2(image_size) blocks of Conv 4x4/2 + BatchNorm + LeakyReLU down to 1x1, filters base, 2*base,
    4*base, then 8*base for the rest. Decoder: the mirror image with transposed convs + BatchNorm + ReLU, Dropout 0.5
    on the first three, each followed by concatenation with the encoder output of the same side (depth - 1 skip
    connections); a last transposed conv to out_channels with tanh makes [-1, 1] images.

    Two BatchNorms are left out: on the first encoder block (as in the paper and the tutorial), and on the 1x1
    bottleneck (as in the authors' own code, unlike the tutorial): normalising a 1x1 map over a batch of one sets it
    to its mean, which would cut everything the bottleneck carries.

    ``keep_luminance`` (gray in, RGB out: colourisation) makes G predict only colour: the U-Net's RGB minus its own
    luminance, plus the input's, clipped to [-1, 1]. The output's brightness is then the input's, as in
    colourisation models that predict the ab of Lab; a plain U-Net must relearn every pixel's brightness and
    leaves texture noise in it. Two fixed 1x1 convolutions, so the file still loads in Keras's safe mode.
    """
    import keras
    depth = unet_depth(image_size)
    check_channels(in_channels=in_channels, out_channels=out_channels, base_filters=base_filters)
    filters = [base_filters * min(2 ** i, 8) for i in range(depth)]

    inputs = keras.Input(shape=(image_size, image_size, in_channels), name="input")
    x, skips = inputs, []
    for i, f in enumerate(filters):
        x = _down(x, f, batchnorm=0 < i < depth - 1)
        skips.append(x)
    for i, (f, skip) in enumerate(zip(reversed(filters[:-1]), reversed(skips[:-1]))):
        x = _up(x, f, dropout=i < 3)
        x = layers.Concatenate()([x, skip])
    outputs = layers.Conv2DTranspose(out_channels, 4, strides=2, padding="same", kernel_initializer=init(),
                                     activation="tanh")(x)
    if keep_luminance:
        if (in_channels, out_channels) != (1, 3):
            raise ConfigError(f"keep_luminance colourises: it needs 1 input and 3 output channels; got "
                              f"{in_channels} -> {out_channels}")
        # chroma(x) = x - luma(x) per channel: kernel[k, c] = [k == c] - luma_k; gray -> RGB: kernel [1, 1, 1]
        chroma = np.eye(3, dtype=np.float32) - LUMA[:, None]
        fixed = dict(kernel_size=1, use_bias=False, trainable=False)
        colour = layers.Conv2D(3, kernel_initializer=keras.initializers.Constant(chroma[None, None]), name="chroma",
                               **fixed)(outputs)
        gray = layers.Conv2D(3, kernel_initializer=keras.initializers.Constant(np.ones((1, 1, 1, 3), np.float32)),
                             name="gray_to_rgb", **fixed)(inputs)
        outputs = layers.Activation("hard_tanh", name="clip")(layers.Add(name="keep_luminance")([gray, colour]))
    return keras.Model(inputs, outputs, name="generator")


class PatchGeometry(NamedTuple):
    downsamplings: int  # stride-2 convolutions
    grid: int  # the output is grid x grid patch logits
    receptive_field: int  # side of the input square each logit sees


def patchgan_geometry(image_size: int) -> PatchGeometry:
    """How the PatchGAN fits image_size: the tutorial's three stride-2 convs where the grid stays at least 4x4.

    Layers: n convs 4x4/2, then two 4x4/1 'valid' convs each after a 1-pixel zero pad, so the grid is
    image_size / 2^n - 2 and each logit sees 9 * 2^n - 2 pixels: 70 for n = 3 (the paper's 70x70 PatchGAN, 30x30
    logits at 256; 14x14 at 128, 6x6 at 64), 34 for n = 2 (6x6 at 32), 16 for n = 1 (6x6 at 16). Below 128 a patch
    covers half the image or more, so at these small sides the PatchGAN judges large regions, not texture.
    """
    check_image_size(image_size)
    n = max(1, min(_PATCH_STRIDES, int(math.floor(math.log2(image_size / 6)))))
    return PatchGeometry(n, image_size // 2 ** n - 2, 9 * 2 ** n - 2)


def build_patchgan_discriminator(image_size: int, in_channels: int, out_channels: int,
                                 base_filters: int = 64) -> "keras.Model":
    """The tutorial's PatchGAN: [input, target] -> a grid of patch logits (see :func:`patchgan_geometry`).

    D sees the input beside the candidate, so it judges whether the target fits this input, not only whether it
    looks real. Filters base, 2*base, 4*base on the stride-2 convs (BatchNorm on all but the first), then 2x the
    last (capped at 8*base) + BatchNorm + LeakyReLU, then one logit per patch (no sigmoid: the losses take logits).
    """
    import keras
    n, _grid, _rf = patchgan_geometry(image_size)
    check_channels(in_channels=in_channels, out_channels=out_channels, base_filters=base_filters)
    inp = keras.Input(shape=(image_size, image_size, in_channels), name="input")
    tar = keras.Input(shape=(image_size, image_size, out_channels), name="target")
    x = layers.Concatenate()([inp, tar])
    for i in range(n):
        x = _down(x, base_filters * min(2 ** i, 8), batchnorm=i > 0)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(base_filters * min(2 ** n, 8), 4, strides=1, kernel_initializer=init(), use_bias=False)(x)
    x = BatchNormalization()(x)
    x = layers.LeakyReLU(0.3)(x)
    x = layers.ZeroPadding2D()(x)
    logits = layers.Conv2D(1, 4, strides=1, kernel_initializer=init())(x)
    return keras.Model([inp, tar], logits, name="discriminator")


def channels(cfg) -> tuple[int, int]:
    """(G's input channels, output channels): edges and grayscale inputs are 1-channel, the rest the images' own."""
    spec = data.PAIRINGS.get(cfg.pairing)
    return spec.channels(cfg.channels) if spec else (cfg.channels, cfg.channels)


def build_generator(cfg):
    cin, cout = channels(cfg)
    return build_unet_generator(cfg.image_size, cin, cout, base_filters=cfg.filters,
                                    keep_luminance=cfg.pairing == "grayscale" and cfg.keep_luminance)


def build_discriminator(cfg):
    cin, cout = channels(cfg)
    return build_patchgan_discriminator(cfg.image_size, cin, cout, base_filters=cfg.filters)


def check_size(size: int) -> str | None:
    try:
        check_image_size(size)
    except ConfigError as exc:
        return str(exc)
    return None


register(Architecture(
    name="pix2pix",
    summary="Pix2Pix: U-Net G + PatchGAN D on a folder of A|B side-by-side pairs, GAN + 100 x L1, Adam(2e-4, 0.5)",
    source="Pix2Pix (named by the TF DCGAN tutorial and the upsampling GAN note)",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=check_size,
    images_per_example=2,
    preset=dict(dataset="folder", pairing="side_by_side", image_size=64, channels=3, pixel_range="tanh",
                batch_size=16, epochs=20, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, filters=64, l1_weight=100.0),
    tags=("image-to-image",),
    task="pix2pix",
))

# The paper trains with batch 1 (and 4-10 for big sets); on a CPU a batch of 16-32 uses the cores far better,
# and the U-Net's batch norm is then a true batch norm (at batch 1 it is instance norm). The demos use narrower
# networks than the paper's 64 filters: 16 keeps a 32x32 U-Net at 1.0M parameters (4 MB; 64 would be 64 MB) and
# a 64x64 one at 1.8M, which train in minutes here and ship in pretrained/.
register_preset("pix2pix_edges_digits", "pix2pix",
                "Pix2Pix edges -> digits: draw an MNIST digit from its Sobel edge map (32x32, 16 filters)",
                dataset="mnist", pairing="edges", image_size=32, channels=1, batch_size=32, epochs=3, filters=16)
register_preset("pix2pix_colour_faces", "pix2pix",
                "Pix2Pix grayscale -> colour: colourise 64x64 faces (a folder of RGB images, e.g. CelebA; 16 filters)",
                dataset="folder", pairing="grayscale", image_size=64, channels=3, batch_size=16, epochs=15, filters=16)
