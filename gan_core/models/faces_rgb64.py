"""The colour faces note: 64x64 RGB face DCGAN with one-sided label smoothing.

G: Dense 8x8x128 (ReLU) -> UpSampling -> Conv2DTranspose 64 -> UpSampling -> 128 -> 128 -> UpSampling -> 256
(3x3, ReLU, each followed by BatchNorm momentum 0.8) -> Conv2DTranspose channels, tanh. Exactly the note's stack.
D: Conv2D 64 (s2) + Dropout 0.25, then Conv2D 128 (s2) / 128 (s2) / 256 (s1), each LeakyReLU(0.2) + BatchNorm
0.8 + Dropout 0.25 -> Dense(1). The note's sigmoid is folded into the loss (cross-entropy from logits).
Training as the note: Adam(2e-4, 0.5) for both nets, batch 64, real labels 0.9 for D (one-sided smoothing; the
note's combined model also aims G at 0.9, a slip we do not copy: G aims at 1). The note runs D on real and fake
stacked into one batch; the preset sets d_joint_batch so our step does the same and D's BatchNorm sees the
mixed batch as in the note.
"""
import keras
from keras import layers

from . import Architecture, multiple_of, register
from ._layers import image_input, noise_input, output_activation
from .batchnorm import BatchNormalization


def build_generator(cfg) -> keras.Model:
    s = cfg.image_size // 8
    z = noise_input(cfg)
    x = layers.Dense(128 * s * s, activation="relu")(z)
    x = layers.Reshape((s, s, 128))(x)
    for upsample, filters in ((True, 64), (True, 128), (False, 128), (True, 256)):
        if upsample:
            x = layers.UpSampling2D()(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same", activation="relu")(x)
        x = BatchNormalization(momentum=0.8)(x)
    x = layers.Conv2DTranspose(cfg.channels, 3, padding="same", activation=output_activation(cfg))(x)
    return keras.Model(z, x, name="generator")


def build_discriminator(cfg) -> keras.Model:
    img = image_input(cfg)
    x = layers.Conv2D(64, 3, strides=2, padding="same")(img)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(0.25)(x)
    for filters, stride in ((128, 2), (128, 2), (256, 1)):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
        x = BatchNormalization(momentum=0.8)(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1)(x)
    return keras.Model(img, x, name="discriminator")


register(Architecture(
    name="faces_rgb64",
    summary="64x64 RGB face DCGAN: UpSampling + Conv2DTranspose, label smoothing 0.9, Adam(2e-4, 0.5), batch 64",
    source="colour faces note",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=multiple_of(8, "faces_rgb64"),
    preset=dict(dataset="folder", image_size=64, channels=3, pixel_range="tanh", noise="normal", noise_dim=100,
                batch_size=64, epochs=500, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, real_label=0.9, d_joint_batch=True),
    tags=("faces",),
))
