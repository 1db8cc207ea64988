"""Image-to-image training data: pairs made from single images (edges, grayscale, masked), A|B files split in
half, and the held-out splits of each domain.

The functions taking ``cfg`` read a TrainConfig's data fields (dataset, data, image_size, channels, limit,
holdout, pairing, direction, seed, dataset_b, data_b) and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError, DataError
from .loading import load_images, load_test_images

LUMA = np.float32([0.299, 0.587, 0.114])  # ITU-R BT.601, as Pillow's "L" and tf.image.rgb_to_grayscale


def check_images(images: np.ndarray, what: str = "images") -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise DataError(f"{what} must be a batch (N, height, width, channels) with 1 or 3 channels; "
                        f"got shape {x.shape}. Add a batch axis with images[None] or a channel axis with [..., None].")
    if x.size and (x.min() < -1.001 or x.max() > 1.001):
        raise DataError(f"{what} must have pixels in [-1, 1]; these span {x.min():.3g}..{x.max():.3g}. Scale uint8 "
                        f"pixels with x / 127.5 - 1, as gan_core.data.load_images(pixel_range='tanh') does.")
    return x


def luminance(x: np.ndarray) -> np.ndarray:
    """(N, H, W, 1 or 3) -> (N, H, W, 1); the weights sum to 1, so [-1, 1] stays [-1, 1] and gray stays itself."""
    if x.shape[-1] == 1:
        return x.copy()
    return (x @ LUMA)[..., None].astype(np.float32)


def grayscale(images: np.ndarray) -> np.ndarray:
    """Luminance, 1 channel in [-1, 1]: the input of "grayscale -> colour"."""
    return luminance(check_images(images))


def edges(images: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the luminance, 1 channel in [-1, 1]: -1 where flat, +1 on a full black-to-white
    step or steeper (the magnitude is divided by a full step's, 4, and clipped). The input of "edges -> image".

    Border pixels repeat outwards, so a flat image has no edges at its frame either. The map is not thresholded:
    soft gradients stay grey, which tells G more than a binary sketch would.
    """
    lum = (luminance(check_images(images))[..., 0] + 1.0) / 2.0  # [0, 1]
    p = np.pad(lum, ((0, 0), (1, 1), (1, 1)), mode="edge")
    rows = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]  # vertical smoothing, then horizontal difference
    cols = p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]
    gx = rows[:, :, 2:] - rows[:, :, :-2]
    gy = cols[:, 2:, :] - cols[:, :-2, :]
    strength = np.clip(np.hypot(gx, gy) / 4.0, 0.0, 1.0)
    return (2.0 * strength - 1.0)[..., None].astype(np.float32)


def hole_mask(n: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """(n, height, width) bool, one random rectangle per image, each side a quarter to a half of the image's:
    where :func:`masked` blanks. The same seed gives the same holes, whatever the pixels."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((n, height, width), bool)
    for i in range(n):
        h = int(rng.integers(max(1, height // 4), max(1, height // 2) + 1))
        w = int(rng.integers(max(1, width // 4), max(1, width // 2) + 1))
        top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        mask[i, top:top + h, left:left + w] = True
    return mask


def masked(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """The images with a random rectangular hole (:func:`hole_mask`) filled with 0 (mid-grey), all channels kept:
    the input of "masked -> full" (inpainting)."""
    x = check_images(images)
    out = x.copy()
    out[hole_mask(len(x), x.shape[1], x.shape[2], seed)] = 0.0
    return out


@dataclass(frozen=True)
class Pairing:
    name: str
    summary: str
    make_input: Callable[[np.ndarray, int], np.ndarray]  # (targets in [-1, 1], seed) -> inputs in [-1, 1]
    input_channels: int | None  # None: the images' own

    def channels(self, image_channels: int) -> tuple[int, int]:
        """(G's in_channels, out_channels) for images with image_channels."""
        return (self.input_channels or image_channels), image_channels


DIRECTIONS = ("AtoB", "BtoA")  # which side of a pair (or which domain) is the input

PAIRINGS: dict[str, Pairing] = {
    "edges": Pairing("edges", "edges -> image: draw the picture from its Sobel edge map",
                     lambda x, seed: edges(x), 1),
    "grayscale": Pairing("grayscale", "grayscale -> colour: colourise the luminance (needs RGB images)",
                         lambda x, seed: grayscale(x), 1),
    "masked": Pairing("masked", "masked -> full: fill in a random rectangular hole",
                      lambda x, seed: masked(x, seed), None),
}

PAIRING_CHOICES = (*PAIRINGS, "side_by_side")  # side_by_side: A|B files carry input and target


def pairing_makes_input(pairing: str) -> bool:
    """Whether a pairing makes the input from a full picture (edges, grayscale, masked), so the picture is the
    target; False for side_by_side (A|B files carry both) and for no pairing at all."""
    return pairing in PAIRINGS


def make_pairs(images: np.ndarray, pairing: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) from unpaired images in [-1, 1]: the targets are the images, the inputs what the pairing
    makes of them. ``seed`` picks the masked pairing's holes (the others ignore it)."""
    try:
        spec = PAIRINGS[pairing]
    except KeyError:
        raise ConfigError(f"unknown pairing {pairing!r}; choose one of: {', '.join(PAIRINGS)}") from None
    targets = check_images(images)
    if pairing == "grayscale" and targets.shape[-1] != 3:
        raise ConfigError("the grayscale pairing needs RGB images: of 1-channel images the input would equal the "
                          "target. Load the images with 3 channels, or use the 'edges' or 'masked' pairing.")
    return spec.make_input(targets, seed), targets


def split_side_by_side(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) from the usual Pix2Pix dataset layout (facades, maps, edges2shoes): each image is A and B side by
    side, twice as wide as tall; A is the left half. Which half is the input is the dataset's choice (AtoB/BtoA)."""
    x = np.asarray(images)
    if x.ndim != 4:
        raise DataError(f"side-by-side pairs must be a batch (N, height, width, channels); got shape {x.shape}. "
                        f"Add a batch axis with images[None] or a channel axis with [..., None].")
    h, w = x.shape[1:3]
    if w != 2 * h:
        raise DataError(f"side-by-side pairs are one image A|B twice as wide as tall; these are {h} high and {w} wide, "
                        f"so they do not split into two {h}x{h} halves. Crop or resize them to {h}x{2 * h} "
                        f"(height x width), or make pairs from single images with make_pairs.")
    return x[:, :, :h], x[:, :, h:]


@dataclass
class Split:
    """Training and held-out images in [-1, 1]; labels of the held-out digits where the dataset has them."""

    train: np.ndarray
    test: np.ndarray
    test_labels: np.ndarray | None = None
    source: str = ""


def load_split(dataset: str, path: str | None, cfg: Any, log: Callable[[str], None], aspect: int = 1
               ) -> Split:
    """A dataset's training images and held-out ones: MNIST-like data holds out its test split, a folder its last
    ``cfg.holdout`` images (after ``limit``)."""
    images, report = load_images(dataset, path=path, image_size=cfg.image_size, channels=cfg.channels,
                                 pixel_range="tanh", limit=cfg.limit, log=log, aspect=aspect)
    where = f"{dataset} ({report.path or 'standard location'})"
    if dataset != "folder":
        test, labels = load_test_images(dataset, path=path, image_size=cfg.image_size, channels=cfg.channels,
                                        pixel_range="tanh")
        return Split(images, test, labels, where)
    if cfg.holdout < 1:
        raise ConfigError("a folder has no test split: hold out some of its images with holdout=N (e.g. 500)")
    if cfg.holdout >= len(images):
        raise DataError(f"{where} has {len(images)} usable images, not more than holdout={cfg.holdout}; lower "
                        f"holdout (e.g. --set holdout={max(1, len(images) // 10)}) or add images")
    return Split(images[:-cfg.holdout], images[-cfg.holdout:], None, where)


@dataclass
class Pairs:
    inputs: np.ndarray
    targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    source: str


def load_pairs(cfg: Any, log: Callable[[str], None] = lambda m: None) -> Pairs:
    """Pix2Pix's (input, target) pairs: A|B files split in half, or inputs made from the images by the pairing."""
    if cfg.pairing == "side_by_side":
        split = load_split("folder", cfg.data, cfg, log, aspect=2)
        halves = [split_side_by_side(x) for x in (split.train, split.test)]
        if cfg.direction == "BtoA":
            halves = [(b, a) for a, b in halves]
        (a, b), (test_a, test_b) = halves
        return Pairs(a, b, test_a, test_b, split.source)
    split = load_split(cfg.dataset, cfg.data, cfg, log)
    inputs, targets = make_pairs(split.train, cfg.pairing, cfg.seed)
    test_inputs, test_targets = make_pairs(split.test, cfg.pairing, cfg.seed + 1)
    return Pairs(inputs, targets, test_inputs, test_targets, split.source)


def load_domains(cfg: Any, log: Callable[[str], None] = lambda m: None) -> tuple[Split, Split]:
    """CycleGAN's two unpaired image sets, A (dataset/data) and B (dataset_b/data_b), each with held-out images."""
    return load_split(cfg.dataset, cfg.data, cfg, log), load_split(cfg.dataset_b, cfg.data_b, cfg, log)
