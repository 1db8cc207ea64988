"""Latent vectors: a seed *is* a z, interpolation that keeps samples on the noise's typical set, truncation and
latent arithmetic."""
from __future__ import annotations

import math
import re
from typing import Iterable, Sequence

import numpy as np

from .errors import ConfigError

MAX_SEED = 2**32 - 1
MAX_PSI = 1.0  # truncation only shrinks: psi > 1 would push uniform z out of the cube the generator was trained on
MAX_SEEDS_IN_SET = 64


def z_from_seed(seed: int, dim: int, noise: str = "normal") -> np.ndarray:
    """The same seed gives the same vector in every session and on every machine (numpy's PCG64)."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise ConfigError(f"seed must be between 0 and {MAX_SEED}; got {seed}")
    return sample_z(int(seed), dim, noise)


def sample_z(seed: int, shape: int | tuple[int, ...], noise: str = "normal") -> np.ndarray:
    """Noise of any shape from one seed: a z (shape dim) or a batch of them (n, dim), float32."""
    rng = np.random.default_rng(seed)
    if noise == "uniform":
        return rng.random(shape, dtype=np.float32)
    return rng.standard_normal(shape, dtype=np.float32)


def z_from_seeds(seeds: Iterable[int], dim: int, noise: str = "normal") -> np.ndarray:
    return np.stack([z_from_seed(s, dim, noise) for s in seeds]).astype(np.float32)


def random_seed(rng: np.random.Generator | None = None) -> int:
    return int((rng or np.random.default_rng()).integers(0, MAX_SEED))


def centre(noise: str) -> float:
    """The noise distribution's centre: interpolation and truncation work around it."""
    return 0.5 if noise == "uniform" else 0.0


def noise_std(noise: str) -> float:
    """The noise's standard deviation along any direction (both are isotropic): N(0, 1) or U[0, 1)."""
    return 1.0 / math.sqrt(12.0) if noise == "uniform" else 1.0


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
        raise ConfigError(f"interpolation needs at least 2 steps; got {steps}")
    if mode not in ("lerp", "slerp"):
        raise ConfigError(f"mode must be 'lerp' or 'slerp'; got {mode!r}")
    ts = np.linspace(0.0, 1.0, steps)
    if mode == "lerp":
        return np.stack([lerp(a, b, t) for t in ts]).astype(np.float32)
    return np.stack([slerp(a, b, t, noise) for t in ts])


def grid_seeds(first: int, count: int) -> Sequence[int]:
    """Seeds of a grid: consecutive, so cell i of a run's snapshot grid is seed i. A grid that would run past the
    last seed is refused with the grid's own last seed (not the first seed past MAX_SEED) and where to start."""
    first, count = int(first), int(count)
    if not 0 <= first <= MAX_SEED:
        raise ConfigError(f"seeds go from 0 to {MAX_SEED}; got {first}")
    last = first + count - 1
    if last > MAX_SEED:
        raise ConfigError(f"a grid of {count} from seed {first} needs seeds up to {last}, past the last seed "
                          f"{MAX_SEED}: start at {MAX_SEED - count + 1} or lower")
    return range(first, first + count)


def truncate(z: np.ndarray, psi: float, noise: str = "normal") -> np.ndarray:
    """The truncation trick: z pulled towards the noise's centre, `centre + psi * (z - centre)`.

    psi = 1 leaves z alone; smaller psi trades variety for typical, cleaner samples; psi = 0 gives every seed the
    centre itself, whose image is the generator's "mean image". psi is limited to [0, 1] (MAX_PSI): a shrink keeps
    uniform z inside [0, 1]^d, where the generator was trained, and Gaussian z inside its typical ball.
    """
    try:
        psi = float(psi)
    except (TypeError, ValueError):
        raise ConfigError(f"truncation psi must be a number between 0 and {MAX_PSI:g}; got {psi!r}") from None
    if not (math.isfinite(psi) and 0.0 <= psi <= MAX_PSI):
        raise ConfigError(f"truncation psi must be between 0 (every sample is the mean image) and {MAX_PSI:g} "
                          f"(no truncation); got {psi:g}")
    c = np.float32(centre(noise))
    z = np.asarray(z, np.float32)
    return (c + np.float32(psi) * (z - c)).astype(np.float32)


def mean_z(zs: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """The average of a set of z (the DCGAN paper averages three samples per concept before doing arithmetic, so
    what they share stays and what is particular to one washes out)."""
    zs = np.asarray(zs, np.float32)
    if zs.ndim == 1:
        return zs.copy()
    if zs.ndim != 2 or not len(zs):
        raise ConfigError(f"mean_z takes a (count, dim) array of at least one z; got shape {zs.shape}")
    return zs.mean(axis=0).astype(np.float32)


def arithmetic(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """A - B + C: "smiling woman - neutral woman + neutral man". Not clipped, so for uniform noise it may leave
    [0, 1]^d; the generator still draws it (clipping would change the sum's meaning)."""
    a, b, c = (np.asarray(v, np.float32) for v in (a, b, c))
    if not a.shape == b.shape == c.shape:
        raise ConfigError(f"A, B and C must have the same shape; got {a.shape}, {b.shape}, {c.shape}")
    return (a - b + c).astype(np.float32)


def parse_seeds(text: str, limit: int = MAX_SEEDS_IN_SET) -> list[int]:
    """Seeds typed by a person: `7`, `3, 17, 42` or `10-14` (inclusive), separated by commas or spaces."""
    seeds: list[int] = []
    for part in re.split(r"[,\s]+", str(text).strip()):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ConfigError(f"{part!r} is not a seed: type whole numbers such as `7`, `3, 17, 42` or a range `10-14`")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise ConfigError(f"the range {part!r} runs backwards: write the smaller seed first, e.g. `{last}-{first}`")
        if max(first, last) > MAX_SEED:
            raise ConfigError(f"seeds go from 0 to {MAX_SEED}; {part!r} is beyond that")
        if len(seeds) + last - first + 1 > limit:
            raise ConfigError(f"at most {limit} seeds in one set; {text!r} has more: average fewer samples")
        seeds.extend(range(first, last + 1))
    if not seeds:
        raise ConfigError("type at least one seed, e.g. `7` or `3, 17, 42`")
    return seeds


def mean_z_of_seeds(seeds: Iterable[int], dim: int, noise: str = "normal") -> np.ndarray:
    """The average z of some seeds (one seed: its z)."""
    return mean_z(z_from_seeds(list(seeds), dim, noise))


# --- class labels (conditional generators) ---------------------------------------------------------------------

def labels_for(n: int, num_classes: int, labels: int | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """The one-hot (or blended) label vectors, float32 (n, num_classes), that a conditional generator takes.

    None cycles through the classes (0, 1, ..., 9, 0, ...): a grid of any size shows every class, and a sample
    of n has as many of each. An int asks for that class n times; a sequence of n ints, one class each; an
    (n, num_classes) array of weights is used as it is (rows of a blend, e.g. from :func:`class_blend`).
    """
    if labels is None:
        return np.eye(num_classes, dtype=np.float32)[np.arange(n) % num_classes]
    array = np.asarray(labels)
    if array.ndim == 2:
        if array.shape != (n, num_classes):
            raise ConfigError(f"label weights must have shape ({n}, {num_classes}); got {array.shape}")
        return array.astype(np.float32)
    classes = np.broadcast_to(array.astype(np.int64), (n,)) if array.ndim == 0 else array.astype(np.int64)
    if classes.shape != (n,):
        raise ConfigError(f"need one label per image ({n}); got {classes.shape[0]}")
    if classes.size and (classes.min() < 0 or classes.max() >= num_classes):
        raise ConfigError(f"a class must be 0..{num_classes - 1}; got {int(classes.min())}..{int(classes.max())}")
    return np.eye(num_classes, dtype=np.float32)[classes]


def class_blend(a: int, b: int, steps: int, num_classes: int) -> np.ndarray:
    """Label vectors moving linearly from class a to class b in `steps` frames: with one z, the same hand's
    digit morphs from a to b (the embedding is linear in the one-hot, so a blend is a blend of embeddings)."""
    if steps < 2:
        raise ConfigError(f"a class interpolation needs at least 2 frames; got {steps}")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    one_hot = np.eye(num_classes, dtype=np.float32)
    return (1 - t) * one_hot[a] + t * one_hot[b]
