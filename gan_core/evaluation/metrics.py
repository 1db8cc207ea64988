"""Sample-quality metrics for generators, each reported beside its real-data floor.

Registry::

    from gan_core import metrics
    metrics.names()  # ['classifier_fid', 'classifier_score', 'mode_coverage', 'class_agreement', 'swd']
    metrics.compute("classifier_fid", generator, n=10000, dataset="mnist", data_path="mnist.npz")
    metrics.evaluate(run_or_generator)    # every metric that fits the data, from the run's config

Digit-like data (``mnist``, ``fashion_mnist``; 28x28, 32x32 padded digits, or any size, gray or RGB) is scored with
the project's *evaluator classifier* (:mod:`.classifier`), trained on the dataset's training split; the
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

import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from .. import latent_space
from ..errors import GanError
from ..inference import Generator
from ..runs import RunDir
from .numerics import (
    COVERAGE_SHARE,
    classifier_score_from_probs,
    frechet_distance,
    gaussian_stats,
    mode_coverage_from_probs,
)
from .reference import Reference, Sample, jsonable, reference_for
from .metric_registry import (
    DEFAULT_N,
    Metric,
    check_n,
    check_seeds,
    data_kind,
    get,
    names,
    register,
)
from . import smoothness
from .classifier import load_evaluator
from .swd import swd

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


PATH_LENGTH = "ppl"  # evaluation.smoothness; not a Sample metric: it walks the generator's latent space


def path_length_record(generator, dataset: str, n: int | None, seed: int = 0) -> dict[str, Any]:
    """The ``ppl`` record: slerp path length in the evaluator's features (digits) or the Laplacian pyramid
    (faces), over n pairs (default 2000 for digits, 500 for faces); no real-data floor (real images have no z)."""
    kind = data_kind(dataset)
    pairs = check_n(n) or smoothness.DEFAULT_PAIRS[kind]
    check_seeds(seed, 2 * pairs)
    start = time.perf_counter()
    if kind == "digits":
        evaluator = load_evaluator(dataset)
        features, space = smoothness.evaluator_features(evaluator), f"evaluator features ({evaluator.dataset})"
    else:
        features, space = smoothness.pyramid_features, "Laplacian pyramid (the SWD's bands)"
    result = smoothness.path_length(generator, features, pairs, seed)
    return {"metric": PATH_LENGTH, "value": result.pop("value"), "floor": None, "n": pairs, "better": "lower",
            "dataset": dataset, "floor_label": "no real-data floor", "features": space, **result,
            "seconds": round(time.perf_counter() - start, 2)}


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
        z = latent_space.z_from_seeds(range(start, end), dim, noise)
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
           "better": metric.better, "dataset": ref.dataset, **jsonable(extra)}
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
    start = time.perf_counter()
    generator, config, source = generator_or_run, {}, getattr(generator_or_run, "source", "") or "generator"
    if isinstance(generator_or_run, (str, Path)):
        path = Path(generator_or_run)
        if path.suffix == ".keras":
            generator = Generator.load(path)
            config, source = generator.config, str(path)
        else:
            generator_or_run = RunDir(path)
    if isinstance(generator_or_run, RunDir):
        run = generator_or_run
        config = run.config_dict()
        if epoch is None:
            epochs = run.generator_epochs()
            epoch = epochs[-1] if epochs else None
        generator, source = Generator.from_run(run, epoch), str(run.generator_path(epoch))
    dataset = dataset or config.get("dataset")
    if dataset is None:
        raise GanError("which data does this generator imitate? pass --dataset mnist|fashion_mnist|folder "
                       "(dataset=... in Python), or keep its config.json beside the .keras file")
    if data_path is None and config.get("dataset") == dataset:
        data_path = config.get("data")
    kind = data_kind(dataset)
    conditional = bool(getattr(generator, "num_classes", 0))
    wanted = list(metrics or [])
    walk = PATH_LENGTH in wanted  # asked for by name only: it generates two images per pair
    wanted = [m for m in wanted if m != PATH_LENGTH]
    chosen = [get(m) for m in wanted] if wanted or walk else [get(m) for m in names(kind, conditional)]
    if not conditional and any(m.conditional for m in chosen):
        raise GanError(f"{', '.join(m.name for m in chosen if m.conditional)} needs a class-conditional generator")
    wrong = [m.name for m in chosen if m.kind != kind]
    if wrong:
        raise GanError(f"metric(s) {', '.join(wrong)} do not apply to {dataset} ({kind}) data; "
                       f"use {', '.join(names(kind))}")
    results = _evaluate_images(generator, chosen, n, dataset, data_path, seed, cache_dir, log) if chosen else {}
    if walk:
        results[PATH_LENGTH] = path_length_record(generator, dataset, n, seed)
    used_n = next(iter(results.values()))["n"] if results else n
    return {"dataset": dataset, "kind": kind, "n": used_n, "epoch": epoch, "source": source,
            "metrics": results, "seconds": round(time.perf_counter() - start, 2)}
