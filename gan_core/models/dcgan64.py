"""DCGAN 64 (Radford et al. 2016), the lean 64x64 network of the modern face recipes.

G: z -> Dense 4x4x8w (BatchNorm, ReLU) -> four 4x4 stride-2 Conv2DTranspose (4w, 2w, w, then the image's channels),
BatchNorm and ReLU between, tanh out. D mirrors it: four 4x4 stride-2 convolutions (w, 2w, 4w, 8w) with
LeakyReLU(0.2), then Dense(1) logits; BatchNorm after all but the first unless spectral_norm is on (then spectral
normalisation is D's only normaliser, as in SN-GAN). w is the config's ``filters``: 64 is the paper's 3.6M-parameter
G; the presets use 32 (1.2M), which trains at 560-670 images/s in bf16 on the 2-core EPYC here, against 58-66 for
the colour faces note's network (bench/README.md).

The presets are the modern recipe for faces on a CPU, as ablated by bench/faces_time_to_quality.py (7 minutes of
training each, SWD x1e3 at n=1,000 after 422 s, floor 10.0): the non-saturating loss with BatchNorm in D 50.1;
hinge + spectral norm (SN-GAN's D) 68.0; non-saturating + spectral norm 90.2; two-timescale learning rates
(D 4e-4, G 1e-4) 70.2; width 64 123.5 (3 epochs in that time); no DiffAugment 72.9 (it pays later, when D starts
to memorise 10,000 faces). So: BCE, BatchNorm in D, DiffAugment (translation, colour, cutout), an EMA of G's
weights saved as the generator, Adam(2e-4, 0.5) for both nets. The notes' presets (faces_rgb64, celeba_gray64) stay
as their notes wrote them.
"""
import keras
from keras import layers

from . import Architecture, multiple_of, register, register_preset
from ._layers import image_input, init, noise_input, output_activation
from .batchnorm import BatchNormalization


def build_generator(cfg) -> keras.Model:
    w, s = cfg.filters, cfg.image_size // 16
    z = noise_input(cfg)
    x = layers.Dense(s * s * 8 * w, use_bias=False, kernel_initializer=init())(z)
    x = BatchNormalization()(x)  # before the reshape, as mnist_dcgan's: z's first bent block is one layer
    x = layers.ReLU()(x)  # apart, where the latent directions (GANSpace) take their PCA
    x = layers.Reshape((s, s, 8 * w))(x)
    for filters in (4 * w, 2 * w, w):
        x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init())(x)
        x = BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(cfg.channels, 4, strides=2, padding="same", kernel_initializer=init(),
                               activation=output_activation(cfg))(x)
    return keras.Model(z, x, name="generator")


def build_discriminator(cfg) -> keras.Model:
    w = cfg.filters
    img = image_input(cfg)
    x = img
    for i, filters in enumerate((w, 2 * w, 4 * w, 8 * w)):
        x = layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=init())(x)
        if i and not cfg.spectral_norm:
            x = BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1, kernel_initializer=init())(x)
    return keras.Model(img, x, name="discriminator")


RECIPE = dict(dataset="folder", image_size=64, pixel_range="tanh", noise="normal", noise_dim=128, filters=32,
              batch_size=64, epochs=60, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, loss="bce", spectral_norm=False,
              augment="translation,color,cutout", ema_decay=0.999, ema_rampup=0.05, eval_every=5)

register(Architecture(
    name="dcgan64",
    summary="DCGAN 64 (4x4 stride-2 convolutions, width = filters): the lean 64x64 network of the face recipes",
    source="DCGAN",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=multiple_of(16, "dcgan64"),
    preset=dict(RECIPE, channels=3),
    tags=("faces",),
))
register_preset("faces_rgb64_modern", "dcgan64",
                "64x64 RGB faces, modern CPU recipe: DCGAN 64 (w 32), DiffAugment, EMA of G",
                **dict(RECIPE, channels=3))
register_preset("faces_gray64_modern", "dcgan64",
                "64x64 gray faces, modern CPU recipe: DCGAN 64 (w 32), DiffAugment, EMA of G",
                **dict(RECIPE, channels=1, augment="translation,cutout"))
