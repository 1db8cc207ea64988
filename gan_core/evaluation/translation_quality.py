"""Quality figures of image-to-image models, each beside what no learning gives.

Pix2Pix: L1, SSIM (and chroma error for colour) of translations of held-out inputs against their targets, with
the identity and blurred-input baselines. CycleGAN: round-trip L1, classifier-FID (or SWD) of translations
against the real target domain, and whether a digit's round trip keeps its class. Pixels in [0, 1] here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import TrainConfig
from ..data.pairs import LUMA, Split, check_images, luminance
from ..errors import ConfigError, DataError
from ..files import pictures
from .classifier import load_evaluator
from .metrics import compute

if TYPE_CHECKING:
    import keras


def translate(generator: "keras.Model", inputs: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """G's images of inputs in [-1, 1], as float32 in [0, 1]."""
    x = check_images(inputs, "inputs")
    if len(x) == 0:
        raise DataError("no inputs to translate; pass at least one image")
    # training=False: BatchNorm uses its moving statistics and dropout is off. The paper and the tutorial keep
    # training=True at test time (batch statistics and dropout as noise), which makes a picture depend on the other
    # pictures in its batch and change from call to call; the app must show one translation per input, so we
    # trade that for determinism. The moving averages need a few hundred steps to settle before this looks right.
    out = np.concatenate([np.asarray(generator(x[i:i + batch_size], training=False), np.float32)
                          for i in range(0, len(x), batch_size)])
    return np.clip(pictures.to_unit(out), 0.0, 1.0)


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.shape != b.shape or a.ndim != 4:
        raise DataError(f"compare images of one shape (N, height, width, channels); got {a.shape} and {b.shape}")
    return a, b


def l1_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two batches in [0, 1]: 0 is identical, 1 is black against white everywhere."""
    a, b = _check_pair(a, b)
    return float(np.mean(np.abs(a - b)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two batches in [0, 1] (tf.image.ssim, 11x11 Gaussian window), mean over the batch:
    1 is identical. Unlike L1 it rewards getting edges and texture right, which is what the GAN term is for."""
    import tensorflow as tf

    a, b = _check_pair(a, b)
    if min(a.shape[1:3]) < 11:
        raise DataError(f"SSIM's window is 11x11; these images are {a.shape[1]}x{a.shape[2]}. Use l1_error instead.")
    return float(tf.reduce_mean(tf.image.ssim(a, b, max_val=1.0)))


def chroma_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |colour of a - colour of b| of two RGB batches in [0, 1], where an image's colour is what is left after
    taking out its luminance (x - luma(x), per channel): 0 when the colours match whatever the brightness. It judges
    colourisation, which L1 and SSIM barely see (a gray image already has the right structure and brightness)."""
    a, b = _check_pair(a, b)
    if a.shape[-1] != 3:
        raise DataError(f"chroma_error compares RGB images; these have {a.shape[-1]} channel(s)")
    return float(np.mean(np.abs((a - a @ LUMA[:, None]) - (b - b @ LUMA[:, None]))))
BASELINES = ("identity", "blurred")


def _blur(x: np.ndarray, passes: int = 2) -> np.ndarray:
    """The pyramid's binomial filter, repeated."""
    for _ in range(passes):
        x = pictures.binomial_blur(x)
    return x


def baseline(inputs: np.ndarray, targets: np.ndarray, kind: str = "identity") -> np.ndarray:
    """What no learning gives, in [0, 1] like :func:`translate`, to score a model against with l1_error/ssim.

    ``identity``: the input itself, repeated to the target's channels (gray for colour, the masked image for the
    full one). ``blurred``: the same, smoothed (two 5x5 binomial passes), which fills small holes with their
    surroundings and removes edge maps' detail. A model earns its keep where it beats both.
    """
    x = check_images(inputs, "inputs")
    y = check_images(targets, "targets")
    if x.shape[:3] != y.shape[:3]:
        raise DataError(f"inputs {x.shape} and targets {y.shape} must have the same number and size of images")
    if kind not in BASELINES:
        raise ConfigError(f"unknown baseline {kind!r}; choose one of: {', '.join(BASELINES)}")
    if x.shape[-1] != y.shape[-1]:
        x = np.repeat(luminance(x), y.shape[-1], axis=-1)
    if kind == "blurred":
        x = _blur(x)
    return np.clip(pictures.to_unit(x), 0.0, 1.0)


DEFAULT_EVAL_N = 1000


def _rec(metric: str, value: float, better: str, n: int, dataset: str, floor: float | None = None,
         floor_label: str = "perfect", **extra: Any) -> dict[str, Any]:
    """A quality.jsonl record, as gan_core.evaluation writes them; ``floor`` is the best reachable value, which for
    these figures is a perfect translation's unless it is measured on real data (floor_label says which)."""
    return {"metric": metric, "value": float(value), "floor": None if floor is None else float(floor), "n": int(n),
            "better": better, "dataset": dataset, "floor_label": floor_label, **extra}


def pix2pix_quality(generator, test_inputs: np.ndarray, test_targets: np.ndarray, n: int) -> dict[str, Any]:
    """L1 and SSIM of G's translations of n held-out inputs against their targets (and, for colour targets, the
    chroma error), beside what no learning gives: the input itself (identity) and the input blurred. The floor is a
    perfect translation's (L1 0, SSIM 1)."""
    n = min(int(n), len(test_inputs))
    if n < 1:
        raise DataError("no held-out pairs to evaluate on")
    x, y = test_inputs[:n], test_targets[:n]
    out, truth = translate(generator, x), pictures.to_unit(y)
    base = {kind: baseline(x, y, kind) for kind in BASELINES}
    figures = {"l1": l1_error, "ssim": ssim}
    if truth.shape[-1] == 3:  # colour targets: also how close the colours are, brightness aside
        figures["chroma_l1"] = chroma_error
    metrics = {}
    for name, fn in figures.items():
        baselines = {kind: round(fn(b, truth), 5) for kind, b in base.items()}
        better = "higher" if name == "ssim" else "lower"
        best = min(baselines.values()) if better == "lower" else max(baselines.values())
        metrics[name] = _rec(name, fn(out, truth), better, n, "held-out pairs", 1.0 if name == "ssim" else 0.0,
                             baseline=best, baselines=baselines)
    return {"kind": "pix2pix", "n": n, "metrics": metrics}


def cyclegan_quality(G, F, domain_a: Split, domain_b: Split, cfg: TrainConfig, n: int) -> dict[str, Any]:
    """CycleGAN's figures on n held-out images of each domain.

    * ``cycle_l1``: mean |x - F(G(x))| over both round trips, in [0, 1] pixels (lower is better; 0 is perfect).
    * ``fid_ab`` / ``fid_ba`` (digit-like domains): classifier-FID of the translations against the real target
      domain, with the target's evaluator; floor = real vs real, baseline = the untranslated images (how far apart
      the domains are to begin with). For image folders the same with SWD (``swd_ab`` / ``swd_ba``).
    * ``cycle_agreement`` (digit-like A): share of A images whose round trip A -> B -> A the A evaluator reads as the
      same class as the original, i.e. the translation kept what the picture was (higher is better; floor 1).
    """
    n = min(int(n), len(domain_a.test), len(domain_b.test))
    if n < 2:
        raise DataError("need at least 2 held-out images of each domain to evaluate")
    a, b = domain_a.test[:n], domain_b.test[:n]
    fake_b, fake_a = translate(G, a), translate(F, b)
    back_a, back_b = translate(F, fake_b * 2 - 1), translate(G, fake_a * 2 - 1)
    unit_a, unit_b = pictures.to_unit(a), pictures.to_unit(b)
    cycle = {"a": l1_error(back_a, unit_a), "b": l1_error(back_b, unit_b)}
    out = {"cycle_l1": _rec("cycle_l1", np.mean(list(cycle.values())), "lower", n, "held-out", 0.0,
                            per_domain={k: round(v, 5) for k, v in cycle.items()})}
    for tag, fakes, source, target, target_path in (("ab", fake_b, unit_a, cfg.dataset_b, cfg.data_b),
                                                    ("ba", fake_a, unit_b, cfg.dataset, cfg.data)):
        name = "classifier_fid" if target != "folder" else "swd"
        got = compute(name, None, n=n, dataset=target, data_path=target_path, images=fakes)
        untranslated = compute(name, None, n=n, dataset=target, data_path=target_path, images=source)
        out[f"{'fid' if name == 'classifier_fid' else 'swd'}_{tag}"] = _rec(
            f"{'fid' if name == 'classifier_fid' else 'swd'}_{tag}", got["value"], "lower", got["n"], target,
            got["floor"], "real-data floor", baseline=round(untranslated["value"], 5), measure=name)
    if cfg.dataset != "folder":
        evaluator = load_evaluator(cfg.dataset)
        _, p_before = evaluator.predict(unit_a)
        _, p_after = evaluator.predict(back_a)
        same = p_before.argmax(1) == p_after.argmax(1)
        extra = {}
        if domain_a.test_labels is not None:
            extra["evaluator_accuracy"] = round(float(np.mean(p_before.argmax(1) == domain_a.test_labels[:n])), 5)
        out["cycle_agreement"] = _rec("cycle_agreement", same.mean(), "higher", n, cfg.dataset, 1.0, **extra)
    return {"kind": "cyclegan", "n": n, "metrics": out}
