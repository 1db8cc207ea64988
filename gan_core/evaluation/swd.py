"""Sliced Wasserstein distance between Laplacian-pyramid patches of two image sets (Karras et al. 2018, Progressive
GAN's sliced_wasserstein.py): the faces metric, which needs no pretrained network."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..files import pictures

SWD_SETTINGS = {"patch": 7, "patches_per_image": 128, "repeats": 4, "directions": 128, "min_resolution": 16}


def pyr_down(x: np.ndarray) -> np.ndarray:
    return pictures.binomial_blur(x)[:, ::2, ::2]


def pyr_up(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    up = np.zeros((n, h * 2, w * 2, c), np.float32)
    up[:, ::2, ::2] = x
    return pictures.binomial_blur(up, gain=2.0)  # 4x in 2-D: zero insertion keeps a quarter of the samples


def laplacian_pyramid(images: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass levels, finest first; the last level is the low-pass residual."""
    pyramid = [np.asarray(images, np.float32)]
    for _ in range(1, levels):
        pyramid.append(pyr_down(pyramid[-1]))
        pyramid[-2] = pyramid[-2] - pyr_up(pyramid[-1])
    return pyramid


def swd_resolutions(size: int, min_resolution: int = SWD_SETTINGS["min_resolution"]) -> list[int]:
    res, out = size, []
    while res >= min_resolution:
        out.append(res)
        res //= 2
    return out


def patch_descriptors(level: np.ndarray, rng: np.random.Generator, patch: int = 7,
                      per_image: int = 128) -> np.ndarray:
    """(N * per_image, patch * patch * C) random patches of one pyramid level, normalised per channel by the set's
    own mean and std (as Progressive GAN's ``finalize_descriptors``; levels are on a 0..255 pixel scale)."""
    n, h, w, c = level.shape
    half = patch // 2
    count = n * per_image
    image = np.repeat(np.arange(n), per_image)
    ys = rng.integers(half, h - half, size=count)
    xs = rng.integers(half, w - half, size=count)
    offsets = np.arange(-half, half + 1)
    desc = level[image[:, None, None], (ys[:, None] + offsets)[:, :, None], (xs[:, None] + offsets)[:, None, :]]
    desc = desc.astype(np.float32)  # (count, patch, patch, C)
    desc -= desc.mean(axis=(0, 1, 2), keepdims=True)
    # A flat level (e.g. a constant image's band-pass) has std 0: leave it at 0 rather than amplify round-off.
    desc /= np.maximum(desc.std(axis=(0, 1, 2), keepdims=True), np.float32(1e-3))
    return desc.reshape(count, -1)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, repeats: int = 4,
                       directions: int = 128) -> float:
    """Mean over random unit directions of the 1-D Wasserstein-1 distance between the projected descriptor sets."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"descriptor sizes differ: {a.shape} vs {b.shape}")
    if len(a) != len(b):  # equal counts make the 1-D distance a plain sorted difference
        m = min(len(a), len(b))
        a, b = a[:m], b[:m]
    results = []
    for _ in range(repeats):
        dirs = rng.standard_normal((a.shape[1], directions)).astype(np.float32)
        dirs /= np.sqrt(np.sum(dirs ** 2, axis=0, keepdims=True))
        pa = np.sort((a @ dirs).T, axis=1)
        pb = np.sort((b @ dirs).T, axis=1)
        results.append(float(np.mean(np.abs(pa - pb))))
    return float(np.mean(results))


def swd(images_a: np.ndarray, images_b: np.ndarray, seed: int = 0, **settings: int) -> dict[str, Any]:
    """SWD x1e3 between two image sets (N, H, W, C) in [0, 1], per pyramid level and averaged.

    The same seed draws the same patch positions and projections for any pair, so identical sets give 0.
    """
    s = {**SWD_SETTINGS, **settings}
    a, b = np.asarray(images_a, np.float32), np.asarray(images_b, np.float32)
    if a.ndim == 3:
        a, b = a[..., None], b[..., None]
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"image shapes differ: {a.shape[1:]} vs {b.shape[1:]}")
    resolutions = swd_resolutions(min(a.shape[1:3]), s["min_resolution"])
    if not resolutions:
        raise ValueError(f"SWD needs images of at least {s['min_resolution']} pixels; got {a.shape[1:3]}")
    levels: dict[str, float] = {}
    pyr_a = laplacian_pyramid(a * 255.0, len(resolutions))
    pyr_b = laplacian_pyramid(b * 255.0, len(resolutions))
    for res, la, lb in zip(resolutions, pyr_a, pyr_b):
        rng_a, rng_b = np.random.default_rng([seed, res]), np.random.default_rng([seed, res])
        da = patch_descriptors(la, rng_a, s["patch"], s["patches_per_image"])
        db = patch_descriptors(lb, rng_b, s["patch"], s["patches_per_image"])
        dist = sliced_wasserstein(da, db, np.random.default_rng([seed, res, 1]), s["repeats"], s["directions"])
        levels[str(res)] = dist * 1e3
        del da, db
    return {"value": float(np.mean(list(levels.values()))), "levels": levels}
