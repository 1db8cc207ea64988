"""CycleGAN (Zhu et al. 2017; named by seeds 000 and 004): two ResNet generators A -> B and B -> A, two PatchGAN
discriminators, least-squares GAN + cycle consistency (10) + identity (5) losses and an image pool. The networks and
the step live in :mod:`gan_core.cyclegan`; here they are registered with their presets. The trainer builds G and
D twice, once per direction.
"""
from __future__ import annotations

from .. import cyclegan
from ..errors import ConfigError
from . import Architecture, register, register_preset


def build_generator(cfg):
    return cyclegan.build_resnet_generator(cfg.image_size, cfg.channels, cfg.filters, cfg.res_blocks)


def build_discriminator(cfg):
    return cyclegan.build_patch_discriminator(cfg.image_size, cfg.channels, cfg.filters)


def check_size(size: int) -> str | None:
    try:
        cyclegan.downsamplings(size)
    except ConfigError as exc:
        return str(exc).replace("Pix2Pix", "CycleGAN")
    return None


register(Architecture(
    name="cyclegan",
    summary="CycleGAN: ResNet Gs A<->B + PatchGAN Ds on two unpaired image folders, LSGAN + cycle 10 + identity 5",
    source="CycleGAN (named by seeds 000 and 004)",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=check_size,
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
