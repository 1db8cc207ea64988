"""The numbers behind the digit metrics: Fréchet distance of Gaussian feature statistics, the classifier score and
the class-histogram KL of mode coverage."""
from __future__ import annotations

from typing import Any

import numpy as np

COVERAGE_SHARE = 0.1  # a class is covered when it gets >= 10% of its expected share of the samples


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
