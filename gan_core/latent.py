"""Latent vectors: a seed *is* a z, and interpolation that keeps samples on the noise's typical set."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

MAX_SEED = 2**32 - 1


def z_from_seed(seed: int, dim: int, noise: str = "normal") -> np.ndarray:
    """The same seed gives the same vector in every session and on every machine (numpy's PCG64)."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}; got {seed}")
    rng = np.random.default_rng(int(seed))
    if noise == "uniform":
        return rng.random(dim, dtype=np.float32)
    return rng.standard_normal(dim, dtype=np.float32)


def z_from_seeds(seeds: Iterable[int], dim: int, noise: str = "normal") -> np.ndarray:
    return np.stack([z_from_seed(s, dim, noise) for s in seeds]).astype(np.float32)


def random_seed(rng: np.random.Generator | None = None) -> int:
    return int((rng or np.random.default_rng()).integers(0, MAX_SEED))


def centre(noise: str) -> float:
    """The noise distribution's centre: interpolation and truncation work around it."""
    return 0.5 if noise == "uniform" else 0.0


def lerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    return (1 - t) * a + t * b


def slerp(a: np.ndarray, b: np.ndarray, t: float, noise: str = "normal") -> np.ndarray:
    """Spherical interpolation around the noise's centre: the direction moves on the great circle and the
    norm moves linearly, so a midpoint of two Gaussian samples keeps a Gaussian sample's norm (a plain lerp
    shrinks it by up to 1/sqrt(2) and gives washed-out, average-looking images)."""
    c = centre(noise)
    a0, b0 = np.asarray(a, np.float64) - c, np.asarray(b, np.float64) - c
    na, nb = np.linalg.norm(a0), np.linalg.norm(b0)
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, t).astype(np.float32)
    ua, ub = a0 / na, b0 / nb
    omega = np.arccos(np.clip(np.dot(ua, ub), -1.0, 1.0))
    if omega < 1e-6:
        direction = ua
    else:
        direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    z = direction * ((1 - t) * na + t * nb) + c
    if noise == "uniform":
        z = np.clip(z, 0.0, 1.0)
    return z.astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, steps: int, mode: str = "slerp", noise: str = "normal") -> np.ndarray:
    """`steps` vectors from a to b inclusive, linear ('lerp') or spherical ('slerp')."""
    if steps < 2:
        raise ValueError(f"interpolation needs at least 2 steps; got {steps}")
    if mode not in ("lerp", "slerp"):
        raise ValueError(f"mode must be 'lerp' or 'slerp'; got {mode!r}")
    ts = np.linspace(0.0, 1.0, steps)
    if mode == "lerp":
        return np.stack([lerp(a, b, t) for t in ts]).astype(np.float32)
    return np.stack([slerp(a, b, t, noise) for t in ts])


def grid_seeds(first: int, count: int) -> Sequence[int]:
    """Seeds of a grid: consecutive, so cell i of a run's snapshot grid is seed i."""
    return range(first, first + count)
