"""Pix2Pix (Isola et al. 2017; seed 000 and seed 004 name it as their next chapter): a U-Net G and a PatchGAN D on
pairs (input, target). The networks, losses and pair transforms live in :mod:`gan_core.pix2pix`; this file registers
them and their presets. G takes an image, not z: the pairing says what the input is (edges, grayscale, a masked
image, or the A half of an A|B file).
"""
from __future__ import annotations

from .. import pix2pix as p2p
from ..errors import ConfigError
from . import Architecture, register, register_preset


def channels(cfg) -> tuple[int, int]:
    """(G's input channels, output channels): edges and grayscale inputs are 1-channel, the rest the images' own."""
    spec = p2p.PAIRINGS.get(cfg.pairing)
    return spec.channels(cfg.channels) if spec else (cfg.channels, cfg.channels)


def build_generator(cfg):
    cin, cout = channels(cfg)
    return p2p.build_unet_generator(cfg.image_size, cin, cout, base_filters=cfg.filters,
                                    keep_luminance=cfg.pairing == "grayscale" and cfg.keep_luminance)


def build_discriminator(cfg):
    cin, cout = channels(cfg)
    return p2p.build_patchgan_discriminator(cfg.image_size, cin, cout, base_filters=cfg.filters)


def check_size(size: int) -> str | None:
    try:
        p2p.check_image_size(size)
    except ConfigError as exc:
        return str(exc)
    return None


register(Architecture(
    name="pix2pix",
    summary="Pix2Pix: U-Net G + PatchGAN D on a folder of A|B side-by-side pairs, GAN + 100 x L1, Adam(2e-4, 0.5)",
    source="Pix2Pix (named by seeds 000 and 004)",
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    check_size=check_size,
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
