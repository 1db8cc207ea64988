"""The real side of every metric: reference sets, their statistics and floors, cached on disk and in memory.

Keyed by the evaluator file's hash, the dataset and its file, n and the metric settings, so evaluating 20 epochs
computes a reference once."""
from __future__ import annotations

import hashlib
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data import DIGIT_DATASETS, load_images, load_labelled
from ..data import locate as _locate
from ..errors import DataError, GanError
from ..files.disk import atomic_write_bytes, atomic_write_json, read_json
from .classifier import evaluator_path, load_evaluator
from .metric_registry import Metric, data_kind
from .numerics import COVERAGE_SHARE, gaussian_stats
from .swd import SWD_SETTINGS

_CACHE_VERSION = 2
REFERENCE_SEED = 2018


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
            self.floors[metric.name] = jsonable(metric.fn(self.floor_sample, self))
            self._save_floors()
        return self.floors[metric.name]

    def _save_floors(self) -> None:
        if self.cache_dir is None:
            return
        path = self.cache_dir / f"{self.key}.json"
        try:

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


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
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
_MEMO_SIZE = 3
_MEMO: dict[tuple, "Reference"] = {}  # references built in this process (a faces one holds 2n images)



def _digits_reference(dataset: str, data_path: str | None, n: int, cache: str, log) -> Reference:
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

            cache_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(cache_dir / f"{key}.json", {**describe, "floors": {}})
        except OSError:
            ref.cache_dir = None
    return ref


def clear_memory_cache() -> None:
    """Forget the references held in this process (the disk cache stays)."""
    _MEMO.clear()
