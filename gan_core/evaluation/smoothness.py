"""How smoothly a latent walk morphs: a perceptual path length (Karras et al. 2019, StyleGAN's PPL) in this
project's feature spaces.

For n pairs of latents (seeds s and s + n), a point t ~ U(0, 1) on their slerp and a step eps further: the squared
feature distance between the two images, divided by eps², is how fast the picture changes there. The mean over
pairs, after dropping the 1% lowest and highest as StyleGAN does, is ``ppl``: lower means a walk changes the
picture gradually, high means it jumps (a face that flips identity, a digit that breaks in two halfway).

Features: for digits the evaluator classifier's penultimate layer (as classifier-FID uses), for faces the
Laplacian pyramid the SWD reads (levels from the image size down to 16, each band flattened), both divided by
their dimension's square root so one number compares across sizes. StyleGAN uses LPIPS, which needs a pretrained
ImageNet network this offline tool does not have; values are comparable between models scored the same way here,
not with published PPLs. There is no real-data floor: real images have no latent to walk.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import latent_space
from .swd import laplacian_pyramid, swd_resolutions

EPSILON = 1e-2  # the slerp step: small enough to be local, large enough for float32 generators and bf16 training
TRIM = 0.01  # share dropped at each end before the mean (StyleGAN's 1st and 99th percentiles)
DEFAULT_PAIRS = {"digits": 2000, "faces": 500}


def pyramid_features(images: np.ndarray) -> np.ndarray:
    """(N, H, W, C) in [0, 1] -> (N, D): every band of the Laplacian pyramid down to 16 px, flattened, / sqrt(D)."""
    levels = laplacian_pyramid(np.asarray(images, np.float32), len(swd_resolutions(images.shape[1])))
    flat = np.concatenate([level.reshape(len(images), -1) for level in levels], axis=1)
    return flat / np.sqrt(flat.shape[1])


def evaluator_features(evaluator) -> Callable[[np.ndarray], np.ndarray]:
    def features(images: np.ndarray) -> np.ndarray:
        f, _ = evaluator.predict(images)
        return f / np.sqrt(f.shape[1])

    return features


def path_length(generator, features: Callable[[np.ndarray], np.ndarray], pairs: int, seed: int = 0,
                epsilon: float = EPSILON, batch_size: int = 250) -> dict[str, Any]:
    """``{"value": trimmed mean, "median", "p90", "pairs", "epsilon"}`` of generator's slerp path length.

    ``generator`` is duck-typed as in :func:`gan_core.evaluation.metrics.generate` (``noise_dim``, ``noise``,
    ``__call__(z[, labels])`` -> images in [0, 1]); a conditional one walks within one class per pair."""
    dim, noise = int(generator.noise_dim), getattr(generator, "noise", "normal")
    num_classes = int(getattr(generator, "num_classes", 0) or 0)
    rng = np.random.default_rng(seed)
    distances = []
    for start in range(0, pairs, batch_size):
        count = min(batch_size, pairs - start)
        a = latent_space.z_from_seeds(range(seed + start, seed + start + count), dim, noise)
        b = latent_space.z_from_seeds(range(seed + pairs + start, seed + pairs + start + count), dim, noise)
        t = rng.uniform(0.0, 1.0 - epsilon, count)
        z0 = np.stack([latent_space.slerp(a[i], b[i], t[i], noise) for i in range(count)])
        z1 = np.stack([latent_space.slerp(a[i], b[i], t[i] + epsilon, noise) for i in range(count)])
        if num_classes:
            labels = np.arange(start, start + count) % num_classes
            images0, images1 = generator(z0, labels), generator(z1, labels)
        else:
            images0, images1 = generator(z0), generator(z1)
        f0, f1 = features(np.asarray(images0, np.float32)), features(np.asarray(images1, np.float32))
        distances.append(np.sum((f0 - f1) ** 2, axis=1) / epsilon**2)
    d = np.concatenate(distances)
    low, high = np.quantile(d, [TRIM, 1.0 - TRIM])
    kept = d[(d >= low) & (d <= high)]
    return {"value": float(kept.mean()), "median": float(np.median(d)), "p90": float(np.quantile(d, 0.9)),
            "pairs": int(len(d)), "epsilon": epsilon}
