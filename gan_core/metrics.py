"""Sample-quality metrics for generators, each reported beside its real-data floor.

Registry::

    from gan_core import metrics
    metrics.names()  # ['classifier_fid', 'classifier_score', 'mode_coverage', 'class_agreement', 'swd']
    metrics.compute("classifier_fid", generator, n=10000, dataset="mnist", data_path="mnist.npz")
    metrics.evaluate(run_or_generator)    # every metric that fits the data, from the run's config

Digit-like data (``mnist``, ``fashion_mnist``; 28x28, 32x32 padded digits, or any size, gray or RGB) is scored with
the project's *evaluator classifier* (:mod:`gan_core.evaluators`), trained on the dataset's training split; the
real reference is the labelled **test** split. Any other data (``folder``: faces) is scored with the sliced
Wasserstein distance, which needs no pretrained network.

``classifier_fid``    Fréchet distance between the evaluator's penultimate (128-d) features of generated and real
                      test images (TF-GAN's ``mnist_frechet_distance``). Lower is better.
``classifier_score``  exp(E_x KL(p(y|x) || p(y))), the Inception Score with the evaluator (TF-GAN's
                      ``mnist_score``). Higher is better; at most the number of classes.
``mode_coverage``     Class histogram of generated images (evaluator's argmax). ``value`` is
                      KL(p_gen || p_real) = sum_c p_gen(c) log(p_gen(c) / p_real(c)), where p_real is the evaluator's
                      class histogram of the real reference set. This direction stays finite when classes are
                      missing (dropping half of 10 balanced classes costs log 2 = 0.69); ``classes_covered``
                      counts the classes with at least ``COVERAGE_SHARE`` (10%) of their expected count
                      n * p_real(c). Lower is better; pretrained target: KL <= 0.05.
``swd``               Sliced Wasserstein distance between 7x7 patches of the Laplacian pyramids of generated and
                      real images (Karras et al. 2018, Progressive GAN's ``sliced_wasserstein.py``): levels from the
                      image size down to 16, 128 patches per image per level, each descriptor set normalised per
                      channel by its own mean and std, 4 repeats of 128 random unit projections (512 in all).
                      Reported x1e3 per level and averaged. Lower is better.

Every record carries a **floor**: the same metric between two disjoint real sets of the same size ``n``, i.e. what
a generator that samples the real distribution perfectly would score. For digits the reference is n test images
and the second set n *training* images (what the GAN learned from); for a folder both are drawn from its first 2n
images. Both are fixed random subsets (:func:`subset_indices`), never plain prefixes. (For ``classifier_score``
the "floor" is the real images' score, the value to reach from below.) The metrics are biased by n (FID falls
as n grows): compare values measured at the same n only, which is why each record carries its n and floor.

Real-data statistics (evaluator features' mean and covariance, class histogram, floors) are cached on disk under
``$GAN_EXPLORER_CACHE/metrics`` (default ``~/.cache/gan_explorer/metrics``), keyed by the evaluator file's hash, the
dataset and its file, n and the metric settings; evaluating 20 epochs computes them once.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from . import latent
from .data import DIGIT_DATASETS
from .errors import DataError, GanError

COVERAGE_SHARE = 0.1  # a class is covered when it gets >= 10% of its expected share of the samples
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
    """Image i is drawn from seed + i: every one of them must be a seed (0 .. latent.MAX_SEED)."""
    if not 0 <= seed <= latent.MAX_SEED:
        raise GanError(f"seeds go from 0 to {latent.MAX_SEED}; got {seed}")
    if seed + n - 1 > latent.MAX_SEED:
        raise GanError(f"{n} images of seeds {seed} .. {seed + n - 1} run past the last seed {latent.MAX_SEED}: "
                       f"use --seed {latent.MAX_SEED - n + 1} or lower")
QUALITY_FILE = "quality.jsonl"
_CACHE_VERSION = 2
REFERENCE_SEED = 2018
SWD_SETTINGS = {"patch": 7, "patches_per_image": 128, "repeats": 4, "directions": 128, "min_resolution": 16}


# --- registry --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "digits" (evaluator classifier) or "faces" (any folder of images)
    better: str  # "lower" or "higher"
    summary: str
    fn: Callable[["Sample", "Reference"], dict[str, Any]]
    conditional: bool = False  # needs the classes the images were asked for (class-conditional generators)


_REGISTRY: dict[str, Metric] = {}


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


# --- numerics --------------------------------------------------------------------------------------------------

def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (tiny negative eigenvalues clipped)."""
    w, v = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr(sqrtm(sigma1 @ sigma2)) for covariance matrices, without scipy and without complex round-off.

    sigma1 @ sigma2 is similar to sqrt(sigma1) @ sigma2 @ sqrt(sigma1), which is symmetric PSD, so the trace of the
    square root is the sum of the square roots of that matrix's (real, >= 0) eigenvalues.
    """
    root = _sqrt_psd(np.asarray(sigma1, np.float64))
    inner = root @ np.asarray(sigma2, np.float64) @ root
    eig = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    return float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(sigma1) + tr(sigma2) - 2 tr(sqrtm(sigma1 sigma2)): the Fréchet (2-Wasserstein) distance
    between two Gaussians. Never negative (round-off below zero is returned as 0)."""
    mu1, mu2 = np.asarray(mu1, np.float64).reshape(-1), np.asarray(mu2, np.float64).reshape(-1)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"shapes do not match: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return float(max(value, 0.0))


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of (N, D) features, float64."""
    x = np.asarray(features, np.float64)
    if len(x) < 2:
        raise ValueError("the Fréchet distance needs at least 2 samples")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance_of(features1: np.ndarray, features2: np.ndarray) -> float:
    return frechet_distance(*gaussian_stats(features1), *gaussian_stats(features2))


def _xlogy_ratio(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p * log(p / q) with 0 where p == 0."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    out = np.zeros(np.broadcast(p, q).shape)
    mask = np.broadcast_to(p > 0, out.shape)
    pb, qb = np.broadcast_to(p, out.shape), np.broadcast_to(q, out.shape)
    out[mask] = pb[mask] * (np.log(pb[mask]) - np.log(np.maximum(qb[mask], 1e-300)))
    return out


def classifier_score_from_probs(probs: np.ndarray) -> float:
    """exp(mean_x KL(p(y|x) || p(y))) with p(y) the mean prediction: 1 for one class, k for k classes used equally
    with confident predictions."""
    p = np.asarray(probs, np.float64)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(_xlogy_ratio(p, marginal).sum(axis=1).mean()))


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) = sum p log(p / q), in nats; terms with p = 0 are 0."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    return float(_xlogy_ratio(p / p.sum(), q / q.sum()).sum())


def mode_coverage_from_probs(probs: np.ndarray, p_real: np.ndarray, share: float = COVERAGE_SHARE) -> dict[str, Any]:
    """Class histogram (argmax) of generated images against the real class distribution ``p_real``.

    ``kl`` is KL(p_gen || p_real); class c is covered when it holds at least ``share`` of its expected count
    n * p_real(c).
    """
    p_real = np.asarray(p_real, np.float64)
    p_real = p_real / p_real.sum()
    counts = np.bincount(np.asarray(probs).argmax(axis=1), minlength=len(p_real))
    n = int(counts.sum())
    covered = counts >= share * n * p_real
    return {"kl": kl_divergence(counts / max(n, 1), p_real), "classes_covered": int(covered.sum()),
            "num_classes": len(p_real), "histogram": [int(c) for c in counts]}


# --- Laplacian pyramid and sliced Wasserstein (Progressive GAN) -------------------------------------------------

_BINOMIAL = np.float32([1, 4, 6, 4, 1]) / 16.0  # the separable 5x5 Gaussian of cv2.pyrDown


def _blur(x: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Separable 5x5 binomial filter on (N, H, W, C), mirrored edges (scipy.ndimage 'mirror' = numpy 'reflect')."""
    k = _BINOMIAL * np.float32(gain)
    h, w = x.shape[1:3]
    p = np.pad(x, ((0, 0), (2, 2), (0, 0), (0, 0)), mode="reflect")
    y = sum(k[i] * p[:, i:i + h] for i in range(5))
    p = np.pad(y, ((0, 0), (0, 0), (2, 2), (0, 0)), mode="reflect")
    return sum(k[i] * p[:, :, i:i + w] for i in range(5)).astype(np.float32)


def pyr_down(x: np.ndarray) -> np.ndarray:
    return _blur(x)[:, ::2, ::2]


def pyr_up(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    up = np.zeros((n, h * 2, w * 2, c), np.float32)
    up[:, ::2, ::2] = x
    return _blur(up, gain=2.0)  # 4x in 2-D: zero insertion keeps a quarter of the samples


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


# --- samples and real references --------------------------------------------------------------------------------

class Sample:
    """A set of images in [0, 1], (N, H, W, C), with the evaluator's outputs computed once for every metric, and
    the class each was asked for (a conditional generator's) or truly is (real images), where known."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None):
        self.images = np.asarray(images, np.float32)
        self.labels = None if labels is None else np.asarray(labels, np.int64).reshape(-1)
        self._predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.images)

    def predict(self, evaluator) -> tuple[np.ndarray, np.ndarray]:
        if evaluator.sha256 not in self._predictions:
            self._predictions[evaluator.sha256] = evaluator.predict(self.images)
        return self._predictions[evaluator.sha256]


@dataclass
class Reference:
    """The real side of a metric: a reference set's statistics and a disjoint second set for the floors."""

    kind: str
    dataset: str
    n: int
    key: str
    cache_dir: Path | None
    floor_sample: Sample | None = None
    evaluator: Any = None
    mu: np.ndarray | None = None
    sigma: np.ndarray | None = None
    p_real: np.ndarray | None = None
    images: np.ndarray | None = None  # faces: the reference set itself
    floors: dict[str, dict[str, Any]] = field(default_factory=dict)
    describe: dict[str, Any] = field(default_factory=dict)
    floor_images: Callable[[], "np.ndarray | Sample"] | None = field(default=None, repr=False)  # the floor set

    def floor(self, metric: Metric) -> dict[str, Any]:
        """The metric between the floor set and this reference, computed once (then read from the disk cache)."""
        if metric.name not in self.floors:
            if self.floor_sample is None:
                made = self.floor_images()
                self.floor_sample = made if isinstance(made, Sample) else Sample(made)
            self.floors[metric.name] = _jsonable(metric.fn(self.floor_sample, self))
            self._save_floors()
        return self.floors[metric.name]

    def _save_floors(self) -> None:
        if self.cache_dir is None:
            return
        path = self.cache_dir / f"{self.key}.json"
        try:
            from .fsutil import atomic_write_json, read_json

            current = read_json(path, {}) or {}
            current.update(self.describe)
            current["floors"] = {**current.get("floors", {}), **self.floors}
            atomic_write_json(path, current)
        except OSError:
            pass  # the cache only saves time


def default_cache_dir() -> Path:
    root = os.environ.get("GAN_EXPLORER_CACHE") or Path.home() / ".cache" / "gan_explorer"
    return Path(root).expanduser() / "metrics"


def _cache_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({"version": _CACHE_VERSION, **parts}, sort_keys=True).encode()).hexdigest()[:24]


def _data_identity(dataset: str, data_path: str | None) -> dict[str, Any]:
    """What names the real data for the cache key: the resolved file or folder and its size and time."""
    if dataset in DIGIT_DATASETS:
        from .data import locate as _locate

        where = _locate(dataset, data_path)
    else:
        if not data_path:
            raise DataError("a folder dataset needs its folder: pass --data /path/to/images")
        where = Path(data_path).expanduser().resolve()
    try:
        st = where.stat()
        return {"path": str(where.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    except OSError:
        return {"path": str(where)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def subset_indices(total: int, n: int, seed: int = REFERENCE_SEED) -> np.ndarray:
    """The first n of a fixed random permutation of range(total): which real images form a set of size n.

    A plain prefix would be biased: MNIST's test split holds one writer population in its first 5,000 images and
    another in its last 5,000 (classifier-FID between the halves is twice the train-vs-test floor). The digits
    reference is ``subset_indices(len(test), n)`` of the test split and the floor set the same of the training
    split; a folder's reference is ``order[:n]`` and its floor set ``order[n:2n]`` of
    ``order = subset_indices(2n, 2n)`` over its first 2n images (sorted by path).
    """
    if not 0 <= n <= total:
        raise ValueError(f"cannot take {n} of {total} images")
    return np.random.default_rng(seed).permutation(total)[:n]


def reference_for(dataset: str, data_path: str | None, n: int, image_shape: tuple[int, int, int] | None = None,
                  cache_dir: str | Path | None = None, log: Callable[[str], None] | None = None) -> Reference:
    """The real reference of ``dataset`` at size ``n`` (memoised in this process, statistics cached on disk).

    ``n`` is capped at what the data allows: the test split's size for digits, half the folder for faces.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    kind = data_kind(dataset)
    data_path = str(data_path) if data_path else None
    log = log or (lambda message: None)
    if kind == "digits":
        from .evaluators import evaluator_path

        try:  # a retrained evaluator file means new statistics
            ev_stat = evaluator_path(dataset).stat()
            ev_id: tuple = (ev_stat.st_size, ev_stat.st_mtime_ns)
        except OSError:
            ev_id = ()
        key: tuple = ("digits", dataset, data_path, int(n), str(cache), ev_id)
        build = lambda: _digits_reference(dataset, data_path, int(n), str(cache), log)  # noqa: E731
    else:
        if image_shape is None:
            raise ValueError("a faces reference needs the generated images' shape (H, W, C)")
        shape = tuple(int(v) for v in image_shape)
        key = ("faces", data_path, int(n), shape, str(cache))
        build = lambda: _faces_reference(data_path, int(n), shape, str(cache), log)  # noqa: E731
    if key not in _MEMO:
        while len(_MEMO) >= _MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = build()
    return _MEMO[key]


_MEMO: dict[tuple, Reference] = {}  # references built in this process (a faces one holds 2n images)
_MEMO_SIZE = 3


def _digits_reference(dataset: str, data_path: str | None, n: int, cache: str, log) -> Reference:
    from .evaluators import load_evaluator
    from .data import load_labelled

    evaluator = load_evaluator(dataset)
    test_images, _ = load_labelled(dataset, "test", data_path)
    if n > len(test_images):
        log(f"n capped at {len(test_images)}, the size of the {dataset} test split")
        n = len(test_images)
    if n < 2:
        raise GanError("n must be at least 2")
    cache_dir = Path(cache)
    key = _cache_key({"kind": "digits", "dataset": dataset, "data": _data_identity(dataset, data_path), "n": n,
                      "evaluator": evaluator.sha256, "coverage_share": COVERAGE_SHARE})
    describe = {"dataset": dataset, "n": n, "evaluator": Path(evaluator.path).name,
                "evaluator_sha256": evaluator.sha256, "reference": f"{n} test images (subset_indices)",
                "floor_set": f"{n} training images (subset_indices)"}

    def floor_images() -> Sample:
        images, labels = load_labelled(dataset, "train", data_path)
        chosen = subset_indices(len(images), n)
        return Sample(images[chosen].astype(np.float32)[..., None] / 255.0, labels[chosen])

    stats_path, meta_path = cache_dir / f"{key}.npz", cache_dir / f"{key}.json"
    ref = Reference("digits", dataset, n, key, cache_dir, evaluator=evaluator, describe=describe)
    ref.floor_images = floor_images
    try:
        with np.load(stats_path, allow_pickle=False) as z:
            ref.mu, ref.sigma, ref.p_real = z["mu"], z["sigma"], z["p_real"]
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        ref.floors = dict(meta.get("floors", {}))
        log(f"real {dataset} statistics from cache {stats_path}")
        return ref
    except (OSError, KeyError, ValueError):
        pass
    start = time.perf_counter()
    real = Sample(test_images[subset_indices(len(test_images), n)].astype(np.float32)[..., None] / 255.0)
    features, probs = real.predict(evaluator)
    ref.mu, ref.sigma = gaussian_stats(features)
    ref.p_real = np.bincount(probs.argmax(axis=1), minlength=evaluator.num_classes).astype(np.float64) / n
    try:
        from .fsutil import atomic_write_bytes, atomic_write_json

        cache_dir.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, mu=ref.mu, sigma=ref.sigma, p_real=ref.p_real)
        atomic_write_json(meta_path, {**describe, "floors": {}})
        atomic_write_bytes(stats_path, buf.getvalue())
    except OSError as exc:
        log(f"could not cache real statistics in {cache_dir}: {exc}")
    log(f"real {dataset} statistics ({n} test images) in {time.perf_counter() - start:.1f}s")
    return ref


def _faces_reference(data_path: str | None, n: int, image_shape: tuple[int, int, int], cache: str,
                     log) -> Reference:
    from .data import load_images

    size, _, channels = image_shape
    if image_shape[0] != image_shape[1]:
        raise DataError(f"SWD expects square images; got {image_shape[:2]}")
    identity = _data_identity("folder", data_path)
    images, report = load_images("folder", path=data_path, image_size=size, channels=channels,
                                 pixel_range="sigmoid", limit=2 * n, log=log)
    if len(images) < 2 * n:
        n = len(images) // 2
        log(f"n capped at {n}: the folder has {len(images)} usable images and the floor needs two disjoint sets")
    if n < 2:
        raise DataError(f"{data_path} has too few images ({len(images)}) to evaluate against")
    cache_dir = Path(cache)
    key = _cache_key({"kind": "faces", "data": identity, "n": n, "shape": list(image_shape), "swd": SWD_SETTINGS})
    describe = {"dataset": "folder", "data": identity.get("path"), "n": n, "image_shape": list(image_shape),
                "reference": f"{n} of the first {2 * n} images (sorted by path; subset_indices)",
                "floor_set": f"the other {n}"}
    order = subset_indices(2 * n, 2 * n)
    ref = Reference("faces", "folder", n, key, cache_dir, images=images[order[:n]], describe=describe)
    ref.floor_images = lambda: images[order[n:2 * n]]
    meta = None
    try:
        meta = json.loads((cache_dir / f"{key}.json").read_text())
    except (OSError, ValueError):
        pass
    if isinstance(meta, dict):
        ref.floors = dict(meta.get("floors", {}))
    else:
        try:
            from .fsutil import atomic_write_json

            cache_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(cache_dir / f"{key}.json", {**describe, "floors": {}})
        except OSError:
            ref.cache_dir = None
    return ref


def clear_memory_cache() -> None:
    """Forget the references held in this process (the disk cache stays)."""
    _MEMO.clear()


# --- the metrics -------------------------------------------------------------------------------------------------

@register("classifier_fid", kind="digits", better="lower",
          summary="Fréchet distance of the evaluator's penultimate features, generated vs real test images")
def _classifier_fid(sample: Sample, ref: Reference) -> dict[str, Any]:
    features, _ = sample.predict(ref.evaluator)
    mu, sigma = gaussian_stats(features)
    return {"value": frechet_distance(mu, sigma, ref.mu, ref.sigma)}


@register("classifier_score", kind="digits", better="higher",
          summary="exp(E KL(p(y|x) || p(y))) with the evaluator (Inception Score analogue; max = classes)")
def _classifier_score(sample: Sample, ref: Reference) -> dict[str, Any]:
    _, probs = sample.predict(ref.evaluator)
    return {"value": classifier_score_from_probs(probs), "max": int(probs.shape[1])}


@register("mode_coverage", kind="digits", better="lower",
          summary="KL(p_gen(class) || p_real(class)) of the evaluator's argmax, and classes covered")
def _mode_coverage(sample: Sample, ref: Reference) -> dict[str, Any]:
    _, probs = sample.predict(ref.evaluator)
    cov = mode_coverage_from_probs(probs, ref.p_real)
    return {"value": cov.pop("kl"), **cov, "class_names": ref.evaluator.class_names,
            "coverage_rule": f"a class is covered with >= {COVERAGE_SHARE:.0%} of its expected count n*p_real(c)"}


@register("class_agreement", kind="digits", better="higher", conditional=True,
          summary="share of a conditional generator's images that the evaluator classifies as the class asked for")
def _class_agreement(sample: Sample, ref: Reference) -> dict[str, Any]:
    """The floor is the evaluator's accuracy on real images of known class: no generator can be read better."""
    if sample.labels is None:
        raise GanError("class_agreement needs the classes the images were asked for (a conditional generator)")
    _, probs = sample.predict(ref.evaluator)
    hits = probs.argmax(axis=1) == sample.labels
    per_class = {str(c): round(float(hits[sample.labels == c].mean()), 4) for c in np.unique(sample.labels)}
    return {"value": float(hits.mean()), "per_class": per_class, "worst_class": min(per_class, key=per_class.get)}


@register("swd", kind="faces", better="lower",
          summary="sliced Wasserstein distance x1e3 of 7x7 Laplacian-pyramid patches (Progressive GAN)")
def _swd(sample: Sample, ref: Reference) -> dict[str, Any]:
    return swd(sample.images, ref.images)


# --- generating and evaluating -------------------------------------------------------------------------------------

def requested_labels(generator, n: int) -> np.ndarray | None:
    """The classes :func:`generate` asks a conditional generator for: 0, 1, ..., C-1, 0, ... (equal shares)."""
    num_classes = int(getattr(generator, "num_classes", 0) or 0)
    return np.arange(n) % num_classes if num_classes else None


def generate(generator, n: int, seed: int = 0, batch_size: int = 500) -> np.ndarray:
    """n images in [0, 1] from latents of seeds seed..seed+n-1 (the app's seed = z convention); a conditional
    generator is asked for the classes of :func:`requested_labels`.

    ``generator`` is duck-typed: anything with ``noise_dim``, ``noise`` and ``__call__(z) -> (B, H, W, C)``
    (and ``num_classes`` with ``__call__(z, labels)`` if conditional).
    """
    dim, noise = int(generator.noise_dim), getattr(generator, "noise", "normal")
    labels = requested_labels(generator, n)
    chunks = []
    for start in range(seed, seed + n, batch_size):
        end = min(start + batch_size, seed + n)
        z = latent.z_from_seeds(range(start, end), dim, noise)
        out = np.asarray(generator(z) if labels is None else generator(z, labels[start - seed:end - seed]),
                         np.float32)
        if out.ndim == 3:
            out = out[..., None]
        chunks.append(out)
    images = np.concatenate(chunks)
    if not np.all(np.isfinite(images)):
        raise GanError("the generator produced NaN/Inf images; this epoch cannot be evaluated")
    return np.clip(images, 0.0, 1.0)


def _record(metric: Metric, result: dict[str, Any], floor: dict[str, Any], ref: Reference) -> dict[str, Any]:
    extra = {k: v for k, v in result.items() if k != "value"}
    rec = {"metric": metric.name, "value": float(result["value"]), "floor": float(floor["value"]), "n": ref.n,
           "better": metric.better, "dataset": ref.dataset, **_jsonable(extra)}
    if "levels" in floor:
        rec["floor_levels"] = floor["levels"]
    if "classes_covered" in floor:
        rec["floor_classes_covered"] = floor["classes_covered"]
    if ref.evaluator is not None:
        rec["evaluator"] = f"{Path(ref.evaluator.path).name}@{ref.evaluator.sha256[:12]}"
    return rec


def compute(name: str, generator, n: int | None = None, dataset: str = "mnist", data_path: str | None = None,
            seed: int = 0, cache_dir: str | Path | None = None, log: Callable[[str], None] | None = None,
            images: np.ndarray | None = None) -> dict[str, Any]:
    """One metric of ``generator`` (or of ready ``images``): ``{"metric", "value", "floor", "n", ...}``."""
    metric = get(name)
    kind = data_kind(dataset)
    if metric.kind != kind:
        raise GanError(f"metric {name} is for {metric.kind} data; {dataset} is {kind} data "
                       f"(use {', '.join(names(kind))})")
    return _evaluate_images(generator, [metric], n, dataset, data_path, seed, cache_dir, log, images)[name]


def _evaluate_images(generator, chosen: list[Metric], n: int | None, dataset: str, data_path: str | None,
                     seed: int, cache_dir, log, images: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    kind = data_kind(dataset)
    n = check_n(n) or (len(images) if images is not None else DEFAULT_N[kind])
    if images is None:
        check_seeds(seed, n)
        images = generate(generator, n, seed)
    ref = reference_for(dataset, data_path, n, images.shape[1:], cache_dir, log)
    labels = requested_labels(generator, len(images)) if generator is not None else None
    sample = Sample(images[:ref.n], None if labels is None else labels[:ref.n])
    out = {}
    for metric in chosen:
        start = time.perf_counter()
        result = metric.fn(sample, ref)
        out[metric.name] = {**_record(metric, result, ref.floor(metric), ref),
                            "seconds": round(time.perf_counter() - start, 2)}
    return out


def evaluate(generator_or_run, dataset: str | None = None, data_path: str | None = None, n: int | None = None,
             metrics: Iterable[str] | None = None, *, epoch: int | None = None, seed: int = 0,
             cache_dir: str | Path | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every metric that fits the data (or those named in ``metrics``) of a run's generator or of a generator.

    ``generator_or_run`` is a :class:`~gan_core.runs.RunDir`, a run folder path, a ``.keras`` file or a
    generator-like object (``noise_dim``, ``noise``, ``__call__(z)``). For a run, ``dataset``, ``data_path`` default
    to its config and ``epoch`` picks a saved generator (default: the latest). n defaults to 10000 for digits and
    1000 for faces. Returns ``{"dataset", "kind", "n", "epoch", "source", "metrics": {name: record}, "seconds"}``.
    """
    from .runs import RunDir

    start = time.perf_counter()
    generator, config, source = generator_or_run, {}, getattr(generator_or_run, "source", "") or "generator"
    if isinstance(generator_or_run, (str, Path)):
        path = Path(generator_or_run)
        if path.suffix == ".keras":
            from .generator import Generator, _sidecar_config

            generator, config, source = Generator.load(path), _sidecar_config(path), str(path)
        else:
            generator_or_run = RunDir(path)
    if isinstance(generator_or_run, RunDir):
        run = generator_or_run
        config = run.config_dict()
        if epoch is None:
            epochs = run.generator_epochs()
            epoch = epochs[-1] if epochs else None
        generator, source = run.load_generator(epoch), str(run.generator_path(epoch))
    dataset = dataset or config.get("dataset")
    if dataset is None:
        raise GanError("which data does this generator imitate? pass --dataset mnist|fashion_mnist|folder "
                       "(dataset=... in Python), or keep its config.json beside the .keras file")
    if data_path is None and config.get("dataset") == dataset:
        data_path = config.get("data")
    kind = data_kind(dataset)
    conditional = bool(getattr(generator, "num_classes", 0))
    chosen = [get(m) for m in metrics] if metrics else [get(m) for m in names(kind, conditional)]
    if not conditional and any(m.conditional for m in chosen):
        raise GanError(f"{', '.join(m.name for m in chosen if m.conditional)} needs a class-conditional generator")
    wrong = [m.name for m in chosen if m.kind != kind]
    if wrong:
        raise GanError(f"metric(s) {', '.join(wrong)} do not apply to {dataset} ({kind}) data; "
                       f"use {', '.join(names(kind))}")
    results = _evaluate_images(generator, chosen, n, dataset, data_path, seed, cache_dir, log)
    used_n = next(iter(results.values()))["n"] if results else n
    return {"dataset": dataset, "kind": kind, "n": used_n, "epoch": epoch, "source": source,
            "metrics": results, "seconds": round(time.perf_counter() - start, 2)}


# --- quality records beside a run ---------------------------------------------------------------------------------

def quality_path(run) -> Path:
    """``<run>/quality.jsonl``: written only by evaluations, so the trainer's metrics.jsonl keeps one writer and
    quality can be measured while a run trains."""
    return Path(run.path) / QUALITY_FILE


def append_quality(run, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Append one ``{"kind": "quality", "epoch", "metric", "value", "floor", ...}`` line per metric of ``result``."""
    from .fsutil import append_jsonl

    records = []
    for rec in result["metrics"].values():
        line = {"kind": "quality", "time": round(time.time(), 3), "epoch": result.get("epoch"),
                **{k: v for k, v in rec.items() if k not in ("class_names", "coverage_rule")}}
        append_jsonl(quality_path(run), line)
        records.append(line)
    return records


def read_quality(run, metric: str | None = None) -> list[dict[str, Any]]:
    from .fsutil import read_jsonl

    return [r for r in read_jsonl(quality_path(run)) if r.get("kind") == "quality"
            and (metric is None or r.get("metric") == metric)]


# --- the CLI's `evaluate` ------------------------------------------------------------------------------------------

def parse_epochs(text: str, available: list[int]) -> list[int]:
    """'latest' | 'all' | 'N' | 'N,M,...' -> saved epochs to evaluate, checked against ``available``."""
    text = (text or "latest").strip().lower()
    if not available:
        raise GanError("this run has no saved generator yet; wait for its first epoch to finish")
    if text == "latest":
        return [available[-1]]
    if text == "all":
        return list(available)
    try:
        wanted = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise GanError(f"--epochs takes all, latest or numbers like 5,10; got {text!r}") from None
    missing = [e for e in wanted if e not in available]
    if missing or not wanted:
        raise GanError(f"no saved generator for epoch(s) {', '.join(map(str, missing)) or text}; "
                       f"saved epochs: {', '.join(map(str, available))}")
    return wanted


def evaluate_model(model: str, epochs: str = "latest", n: int | None = None, dataset: str | None = None,
                   data_path: str | None = None, metrics: Iterable[str] | None = None, seed: int = 0,
                   record: bool = True, cache_dir: str | Path | None = None,
                   log: Callable[[str], None] | None = None, data_b: str | None = None) -> dict[str, Any]:
    """Evaluate a run folder's saved generators (``epochs``: latest, all or N,M) or a ``.keras`` file.

    For a run, each epoch's records are appended to ``<run>/quality.jsonl`` as soon as that epoch is scored (unless
    ``record`` is False). That file is separate from the trainer's ``metrics.jsonl``, so evaluating a run that is
    still training is safe: the trainer stays the only writer of its log, and generator files are renamed into
    place whole.
    """
    from .runs import resolve_run

    log = log or (lambda message: None)
    metrics = list(metrics) if metrics else None
    n = check_n(n)  # before loading anything
    if str(model).endswith(".keras"):
        if (epochs or "latest") != "latest":
            raise GanError("--epochs applies to a run folder, not to a .keras file")
        result = evaluate(model, dataset, data_path, n, metrics, seed=seed, cache_dir=cache_dir, log=log)
        return {"model": str(model), "quality_file": None, "results": [result]}
    run = resolve_run(model)
    chosen = parse_epochs(epochs, run.generator_epochs())
    if dataset is not None and dataset != run.config_dict().get("dataset"):
        raise GanError(f"run {run.name} was trained on {run.config_dict().get('dataset')}; --dataset applies to "
                       "a bare .keras file")
    translator = run.task != "noise"
    if translator and metrics:
        raise GanError(f"{run.name} is an image-to-image model: it is scored on its own held-out data with its own "
                       "figures (L1/SSIM, or cycle error and FID); --metrics applies to latent GANs")
    if data_b is not None and not translator:
        raise GanError("--data-b is domain B of a CycleGAN; this is a latent GAN")
    results, quality_file = [], None
    for e in chosen:
        log(f"evaluating {run.name} epoch {e}")
        if translator:
            from .translation import evaluate_run

            result = evaluate_run(run, e, n, log, data_path=data_path, data_b=data_b)
        else:
            result = evaluate(run, dataset, data_path, n, metrics, epoch=e, seed=seed, cache_dir=cache_dir, log=log)
        results.append(result)
        if record:
            try:
                append_quality(run, result)
                quality_file = str(quality_path(run))
            except OSError as exc:
                log(f"could not append to {quality_path(run)}: {exc.strerror}; results are printed only")
                record = False
    return {"model": str(run.path), "quality_file": quality_file, "results": results}


def summary_line(result: dict[str, Any]) -> str:
    """One line of a result's metrics for a log: 'classifier_fid 37.8 (floor 0.42), ...' (with a no-learning
    baseline where the record has one)."""
    parts = []
    for name, rec in result["metrics"].items():
        notes = [f"{label} {rec[key]:.3g}" for key, label in (("baseline", "baseline"), ("floor", "floor"))
                 if rec.get(key) is not None]
        parts.append(f"{name} {rec['value']:.4g}" + (f" ({', '.join(notes)})" if notes else ""))
    return ", ".join(parts)


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate_model`'s report."""
    lines = [f"{'epoch':>5}  {'metric':18s} {'value':>10s} {'floor':>10s} {'n':>6s}  {'better':6s}  notes"]
    for result in report["results"]:
        for rec in result["metrics"].values():
            notes = ""
            if "classes_covered" in rec:
                notes = (f"covered {rec['classes_covered']}/{rec['num_classes']} classes "
                         f"(real {rec.get('floor_classes_covered', '?')}/{rec['num_classes']})")
            elif "levels" in rec:
                notes = "levels " + " ".join(f"{k}:{v:.2f}" for k, v in rec["levels"].items())
            elif "max" in rec:
                notes = f"max {rec['max']}"
            if rec.get("baseline") is not None:
                notes = (notes + "; " if notes else "") + f"no-learning baseline {rec['baseline']:.4f}"
            epoch = "-" if result.get("epoch") is None else str(result["epoch"])
            floor = "-" if rec.get("floor") is None else f"{rec['floor']:.4f}"
            lines.append(f"{epoch:>5}  {rec['metric']:18s} {rec['value']:>10.4f} {floor:>10s} "
                         f"{rec['n']:>6d}  {rec['better']:6s}  {notes}")
    if report.get("quality_file"):
        lines.append(f"appended to {report['quality_file']}")
    return "\n".join(lines)
