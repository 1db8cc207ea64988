"""What D sees: its verdicts on real and generated images, summed up per epoch for the viewers.

D's score here is its output as the run's objective reads it (gan_core.algorithm.objectives.Reading, recorded as
``d_reading``): the probability of "real" for cross-entropy, the least-squares score for lsgan, the critic's score for
hinge and wgan-gp (the trainer's d_real and d_fake are its means). Early in training the two distributions sit apart
(D wins); a balanced game overlaps them; a D that calls everything real or everything fake is a warning sign.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..algorithm.objectives import PROBABILITY, Reading

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BINS = 20  # histogram bins over [0, 1] (a probability), or over the scores' own range (hist_range)
PROBE = 256  # real images and generated ones scored per epoch


def diversity_ratio(fakes: np.ndarray, reals: np.ndarray, pairs: int = 2048, seed: int = 0) -> float:
    """How varied the fakes are against the reals: the mean distance between random pairs of generated images over
    the same for real ones (pixels as given). About 1 for a healthy generator; well below 1 when G draws the same
    few images whatever z (mode collapse)."""
    def mean_pair_distance(x):
        x = np.asarray(x, np.float32).reshape(len(x), -1)
        rng = np.random.default_rng(seed)
        i, j = rng.integers(0, len(x), pairs), rng.integers(0, len(x), pairs)
        keep = i != j
        return float(np.linalg.norm(x[i[keep]] - x[j[keep]], axis=1).mean())

    return mean_pair_distance(fakes) / max(mean_pair_distance(reals), 1e-12)


def discriminator_view(real_logits: np.ndarray, fake_logits: np.ndarray, grid_logits: Sequence[float] = (),
                       reading: Reading = PROBABILITY, real_label: float = 1.0) -> dict[str, Any]:
    """The epoch's summary: quantiles and histograms of D's score (`reading` of its raw outputs) on real and fake
    images, D's accuracy (a real image called real, a fake called fake, as `reading` decides; averaged over the two
    sets) and the score of each snapshot-grid cell. A score that is no probability is binned over its own range,
    recorded as ``hist_range``."""
    real, fake = reading.show(real_logits), reading.show(fake_logits)
    if reading.sigmoid:
        low, high, extra = 0.0, 1.0, {}
    else:
        low, high = float(min(real.min(), fake.min())), float(max(real.max(), fake.max()))
        high = high if high > low else low + 1.0  # every score equal: one bin holds them
        extra = {"hist_range": [round(low, 5), round(high, 5)]}
    edges = np.linspace(low, high, BINS + 1)
    return {
        "d_reading": reading.name,
        "real_quantiles": [round(float(q), 5) for q in np.quantile(real, QUANTILES)],
        "fake_quantiles": [round(float(q), 5) for q in np.quantile(fake, QUANTILES)],
        "real_hist": np.histogram(real, edges)[0].tolist(),
        "fake_hist": np.histogram(fake, edges)[0].tolist(),
        **extra,
        "d_accuracy": round(reading.accuracy(real, fake, real_label), 5),
        "grid_scores": [round(float(s), 5) for s in reading.show(grid_logits)],
        "n": int(min(len(real), len(fake))),
    }
