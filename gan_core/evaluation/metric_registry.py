"""The metric registry: each metric a function (Sample, Reference) -> figures, registered with how to read it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import latent_space
from ..data import DIGIT_DATASETS
from ..errors import DataError, GanError

DEFAULT_N = {"digits": 10000, "faces": 1000}
MIN_N, MAX_N = 2, 100_000  # a set of one has no covariance; 100k images are minutes of generating and features


def check_n(n: int | None) -> int | None:
    """`n` images per set, or None for the default; GanError for what cannot be measured (0 used to silently mean
    the default, a negative n failed deep inside with "need at least one array to concatenate")."""
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not MIN_N <= n <= MAX_N:
        raise GanError(f"--n must be {MIN_N} to {MAX_N} images per set (or left out for the default: "
                       f"{DEFAULT_N['digits']} for digits, {DEFAULT_N['faces']} for faces); got {n}")
    return int(n)


def check_seeds(seed: int, n: int) -> None:
    """Image i is drawn from seed + i: every one of them must be a seed (0 .. latent_space.MAX_SEED)."""
    if not 0 <= seed <= latent_space.MAX_SEED:
        raise GanError(f"seeds go from 0 to {latent_space.MAX_SEED}; got {seed}")
    if seed + n - 1 > latent_space.MAX_SEED:
        raise GanError(f"{n} images of seeds {seed} .. {seed + n - 1} run past the last seed {latent_space.MAX_SEED}: "
                       f"use --seed {latent_space.MAX_SEED - n + 1} or lower")


_REGISTRY: dict[str, "Metric"] = {}


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "digits" (evaluator classifier) or "faces" (any folder of images)
    better: str  # "lower" or "higher"
    summary: str
    fn: Callable[[Any, Any], dict[str, Any]]  # (reference.Sample, reference.Reference) -> figures
    conditional: bool = False  # needs the classes the images were asked for (class-conditional generators)


def register(name: str, *, kind: str, better: str, summary: str, conditional: bool = False):
    """Decorator: ``fn(sample, reference) -> {"value": float, ...extra}`` becomes the metric ``name``."""
    if kind not in ("digits", "faces") or better not in ("lower", "higher"):
        raise ValueError(f"metric {name}: kind must be digits|faces and better lower|higher")

    def wrap(fn):
        if name in _REGISTRY:
            raise ValueError(f"metric {name!r} is registered twice")
        _REGISTRY[name] = Metric(name, kind, better, summary, fn, conditional)
        return fn

    return wrap


def names(kind: str | None = None, conditional: bool | None = None) -> list[str]:
    """Metric names for data of `kind`; conditional=False leaves out those that need requested classes."""
    return [m for m, spec in _REGISTRY.items() if (kind is None or spec.kind == kind)
            and (conditional is None or conditional or not spec.conditional)]


def get(name: str) -> Metric:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise GanError(f"unknown metric {name!r}; known metrics: {', '.join(_REGISTRY)}") from None


def data_kind(dataset: str) -> str:
    """'digits' for MNIST-like datasets (evaluator classifier metrics), 'faces' for an image folder (SWD)."""
    if dataset in DIGIT_DATASETS:
        return "digits"
    if dataset == "folder":
        return "faces"
    raise DataError(f"unknown dataset {dataset!r}; use one of mnist, fashion_mnist, folder")
