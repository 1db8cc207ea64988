"""The TF DCGAN tutorial (TensorFlow's DCGAN tutorial, retold in a note) for 28x28 MNIST.

G: Dense 7x7x256 -> Conv2DTranspose 128 (s1) -> 64 (s2) -> 1 (s2, tanh), BatchNorm + LeakyReLU, no biases.
D: Conv2D 64 / 128 (5x5, s2) + LeakyReLU + Dropout 0.3 -> Dense(1) logits.
The tutorial's sizes are kept exactly (G 2,330,944 and D 212,865 parameters at 28x28); other sides that are
multiples of 4 start from side/4 instead of 7.
"""
import keras
from keras import layers

from . import Architecture, multiple_of, register, register_preset
from ._layers import image_input, noise_input, tutorial_discrimination, tutorial_upsampling
from .batchnorm import BatchNormalization


def build_generator(cfg) -> keras.Model:
    s = cfg.image_size // 4
    z = noise_input(cfg)
    x = layers.Dense(s * s * 256, use_bias=False)(z)
    x = BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Reshape((s, s, 256))(x)
    x = tutorial_upsampling(x, cfg)  # (s, s, C) -> 4s x 4s images
    return keras.Model(z, x, name="generator")


def build_discriminator(cfg) -> keras.Model:
    img = image_input(cfg)
    x = tutorial_discrimination(img)  # -> logits
    return keras.Model(img, x, name="discriminator")


register(Architecture(
    name="mnist_dcgan",
    summary="DCGAN from TensorFlow's tutorial: 28x28 digits, normal noise 100, Adam 1e-4, batch 256",
    source="TF DCGAN tutorial",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=multiple_of(4, "mnist_dcgan"),
    preset=dict(dataset="mnist", image_size=28, channels=1, pixel_range="tanh", noise="normal", noise_dim=100,
                batch_size=256, epochs=50, g_lr=1e-4, d_lr=1e-4, beta_1=0.9, real_label=1.0),
    tags=("digits",),
))

# The tutorial's own recipe learns slowly: side by side on 20,000 digits for 3 epochs (the Compare page; README), it
# drew 2 of 10 classes at classifier-FID 301, this recipe 9 at 126. Same networks, the DCGAN paper's recipe (Adam 2e-4,
# beta_1 0.5) and a smaller batch for more updates per epoch:
register_preset("mnist_dcgan_fast", "mnist_dcgan",
                "the TF DCGAN tutorial's networks with the DCGAN paper's recipe (Adam 2e-4, beta_1 0.5, batch 128): "
                "all ten digits within a few epochs",
                batch_size=128, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, epochs=10)
register_preset("fashion_dcgan", "mnist_dcgan",
                "the TF DCGAN tutorial's networks on Fashion-MNIST with the fast recipe "
                "(Adam 2e-4, beta_1 0.5, batch 128)",
                dataset="fashion_mnist", batch_size=128, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, epochs=10)
