"""The latent walk's path length (evaluation.smoothness): zero for a constant generator, quadratic in how fast the
picture changes, and reported by evaluate for digits and faces."""
from pathlib import Path

import numpy as np
import pytest

from gan_core import evaluation
from gan_core.evaluation import smoothness

ROOT = Path(__file__).resolve().parents[1]


class LinearGenerator:
    """Images that are a fixed linear map of z (squashed into [0, 1] by a small gain): the pyramid features are
    linear in the image, so the path length scales with the gain squared."""

    noise_dim, noise, num_classes = 8, "normal", 0

    def __init__(self, gain: float, size: int = 32):
        self.gain = gain
        self.basis = np.random.default_rng(7).normal(size=(8, size * size)).astype(np.float32) / 8

    def __call__(self, z, labels=None):
        flat = 0.5 + self.gain * (np.asarray(z, np.float32) @ self.basis) / 10
        return flat.reshape(len(z), 32, 32, 1)


def test_a_generator_that_ignores_z_has_no_path_length():
    class Constant(LinearGenerator):
        def __call__(self, z, labels=None):
            return np.full((len(z), 32, 32, 1), 0.5, np.float32)

    assert smoothness.path_length(Constant(1.0), smoothness.pyramid_features, pairs=20)["value"] == 0.0


def test_path_length_is_quadratic_in_how_fast_the_picture_changes():
    one = smoothness.path_length(LinearGenerator(1.0), smoothness.pyramid_features, pairs=200, seed=3)
    half = smoothness.path_length(LinearGenerator(0.5), smoothness.pyramid_features, pairs=200, seed=3)
    assert one["value"] > 0 and one["pairs"] == 200 and one["epsilon"] == smoothness.EPSILON
    assert half["value"] == pytest.approx(one["value"] / 4, rel=1e-3)  # same pairs and points: exactly a quarter
    assert one["median"] <= one["p90"]


def test_pyramid_features_cover_every_band_and_are_normalised():
    images = np.random.default_rng(0).uniform(size=(3, 64, 64, 3)).astype(np.float32)
    f = smoothness.pyramid_features(images)
    bands = sum(s * s * 3 for s in (64, 32, 16))  # 64 -> 16: three levels, the last the low-pass residual
    assert f.shape == (3, bands)
    assert np.allclose(np.sum(f ** 2, axis=1), np.sum(np.concatenate(
        [b.reshape(3, -1) for b in evaluation.laplacian_pyramid(images, 3)], axis=1) ** 2, axis=1) / bands)


def test_evaluate_reports_ppl_for_a_digit_generator_only_when_asked(tmp_path, mnist_npz):
    model = ROOT / "pretrained" / "mnist_dense"
    if not (model / "generators").is_dir():
        pytest.skip("pretrained/mnist_dense is not shipped")
    result = evaluation.evaluate(model, n=100, metrics=["ppl"], cache_dir=tmp_path)
    rec = result["metrics"]["ppl"]
    assert list(result["metrics"]) == ["ppl"]
    assert rec["value"] > 0 and rec["floor"] is None and rec["n"] == 100 and rec["better"] == "lower"
    assert rec["features"].startswith("evaluator features")
    again = evaluation.evaluate(model, n=100, metrics=["ppl"], cache_dir=tmp_path)["metrics"]["ppl"]
    assert again["value"] == rec["value"]  # seeds and walk points are fixed: the same figure every time
    default = evaluation.evaluate(model, data_path=str(mnist_npz), n=100, cache_dir=tmp_path)["metrics"]
    assert "ppl" not in default
