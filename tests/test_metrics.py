"""Quality metrics: the numerics against closed forms, the shipped evaluators against real test data, and every
metric's value against its real-data floor on real MNIST, Fashion-MNIST and CelebA images."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from gan_core import cli, config, data, evaluation, runs, tasks
from gan_core.errors import GanError
from gan_core.evaluation import metrics as metric_functions



@pytest.fixture
def mnist(mnist_npz):
    return mnist_npz


class ServeImages:
    """A stand-in generator that serves given images in order (ignoring z): a 'perfect' or a broken generator."""

    noise_dim, noise = 8, "normal"

    def __init__(self, images):
        self.images = np.asarray(images, np.float32)
        if self.images.ndim == 3:
            self.images = self.images[..., None]
        self.cursor = 0

    def __call__(self, z):
        out = self.images[self.cursor:self.cursor + len(z)]
        assert len(out) == len(z), "asked for more images than this stand-in holds"
        self.cursor += len(z)
        return out

pytestmark = pytest.mark.usefixtures("private_cache")


def real_digits(dataset, split, path, start=0, count=1000, classes=None):
    images, labels = data.load_labelled(dataset, split, path)
    if classes is not None:
        keep = np.isin(labels, classes)
        images, labels = images[keep], labels[keep]
    return images[start:start + count].astype(np.float32) / 255.0, labels[start:start + count]


def other_test_digits(dataset, path, n):
    """n real test images outside the metrics' reference set of size n (a perfect generator's output)."""
    images, labels = data.load_labelled(dataset, "test", path)
    order = np.random.default_rng(2018).permutation(len(images))
    assert np.array_equal(order[:n], evaluation.subset_indices(len(images), n))
    rest = order[n:2 * n]
    return images[rest].astype(np.float32) / 255.0, labels[rest]


# --- numerics ----------------------------------------------------------------------------------------------------

def test_frechet_distance_of_a_gaussian_set_with_itself_is_zero_and_grows_by_the_mean_term():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(6, 6))
    x = rng.normal(size=(3000, 6)) @ mixing
    assert evaluation.frechet_distance_of(x, x) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([0.5, -1.0, 2.0, 0.0, 0.3, 1.0])
    # Same covariance: only ||mu1 - mu2||^2 remains.
    assert evaluation.frechet_distance_of(x + shift, x) == pytest.approx(float(shift @ shift), rel=1e-6)
    assert evaluation.frechet_distance_of(x + 2 * shift, x) == pytest.approx(4 * float(shift @ shift), rel=1e-6)


def test_frechet_distance_matches_a_hand_computed_2d_case():
    # diag covariances commute: tr sqrt(S1 S2) = sqrt(1*4) + sqrt(4*9) = 8; ||mu||^2 = 2; 2 + 5 + 13 - 16 = 4.
    assert evaluation.frechet_distance([0, 0], np.diag([1.0, 4.0]), [1, 1], np.diag([4.0, 9.0])) == pytest.approx(4.0)
    # A rotated copy of the same covariance: tr sqrt(S R S R^T) needs the non-commuting path; W2 of
    # N(0, diag(1, 4)) and N(0, diag(4, 1)) is (2 - 1)^2 + (1 - 2)^2 = 2.
    assert evaluation.frechet_distance([0, 0], np.diag([1.0, 4.0]), [0, 0], np.diag([4.0, 1.0])) == pytest.approx(2.0)


def test_trace_sqrt_product_agrees_with_scipy_sqrtm_on_random_covariances():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(40, 40)), rng.normal(size=(40, 40))
    s1, s2 = a @ a.T / 40, b @ b.T / 40 + np.outer(a[0], a[0])
    expected = np.trace(linalg.sqrtm(s1 @ s2)).real
    assert evaluation.trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-6)
    # Rank-deficient covariances (fewer samples than dimensions) stay finite and non-negative.
    few = rng.normal(size=(10, 40))
    assert evaluation.frechet_distance_of(few, few + 0.1) >= 0


def test_classifier_score_of_perfect_predictions_counts_the_classes():
    for k in (1, 2, 4, 10):
        probs = np.eye(10)[np.arange(1000) % k]
        assert evaluation.classifier_score_from_probs(probs) == pytest.approx(k)
    assert evaluation.classifier_score_from_probs(np.full((50, 10), 0.1)) == pytest.approx(1.0)


def test_mode_coverage_counts_classes_and_kl_from_generated_to_real():
    p_real = np.full(10, 0.1)
    half = np.eye(10)[np.arange(1000) % 5]
    cov = evaluation.mode_coverage_from_probs(half, p_real)
    assert cov["classes_covered"] == 5 and cov["kl"] == pytest.approx(math.log(2))
    full = evaluation.mode_coverage_from_probs(np.eye(10)[np.arange(1000) % 10], p_real)
    assert full["classes_covered"] == 10 and full["kl"] == pytest.approx(0.0)
    # 9% of the expected count is not covered, 10% is.
    counts = [9] + [110] * 9
    probs = np.eye(10)[np.repeat(np.arange(10), counts)]
    assert evaluation.mode_coverage_from_probs(probs, p_real)["classes_covered"] == 9


def test_swd_of_identical_sets_is_zero_and_pyramid_reconstructs():
    rng = np.random.default_rng(0)
    images = rng.random((8, 64, 64, 3)).astype(np.float32)
    result = evaluation.swd(images, images)
    assert set(result["levels"]) == {"64", "32", "16"} and result["value"] == pytest.approx(0.0, abs=1e-9)
    # A flat image has all-zero band-pass levels: a large, finite distance, not NaN or round-off blown up.
    flat = evaluation.swd(np.full_like(images, 0.5), images)
    assert all(math.isfinite(v) and 100 < v < 5000 for v in flat["levels"].values())
    gray = evaluation.swd(images[..., :1], images[..., 1:2])
    assert gray["value"] < 100  # two noise channels: same distribution
    pyramid = evaluation.laplacian_pyramid(images, 3)
    rebuilt = pyramid[-1]
    for level in pyramid[-2::-1]:
        rebuilt = evaluation.pyr_up(rebuilt) + level
    np.testing.assert_allclose(rebuilt, images, atol=1e-5)


def test_registry_names_and_kinds():
    assert evaluation.names("digits") == ["classifier_fid", "classifier_score", "mode_coverage", "class_agreement"]
    assert evaluation.names("digits", conditional=False) == ["classifier_fid", "classifier_score", "mode_coverage"]
    assert evaluation.names("faces") == ["swd"]
    assert evaluation.data_kind("fashion_mnist") == "digits" and evaluation.data_kind("folder") == "faces"
    with pytest.raises(Exception, match="unknown metric"):
        evaluation.get("inception")


# --- the shipped evaluators ----------------------------------------------------------------------------------------

def test_shipped_mnist_evaluator_is_accurate_on_real_test_images(mnist):
    ev = evaluation.load_evaluator("mnist")
    images, labels = real_digits("mnist", "test", mnist, count=2000)
    assert ev.accuracy(images, labels) >= 0.99
    card = json.loads(Path(ev.path).with_suffix(".json").read_text())
    assert card["test_accuracy"] >= 0.99 and card["sha256"] == ev.sha256
    assert Path(ev.path).stat().st_size < 2_000_000
    # 32x32 zero-padded digits (the digits32 presets) and RGB copies are read the same way.
    padded = np.pad(images[:500], ((0, 0), (2, 2), (2, 2)))
    assert ev.accuracy(np.repeat(padded[..., None], 3, axis=-1), labels[:500]) >= 0.98


def test_shipped_fashion_evaluator_is_accurate_on_real_test_images(fashion_mnist):
    ev = evaluation.load_evaluator("fashion_mnist")
    images, labels = real_digits("fashion_mnist", "test", None, count=2000)
    assert ev.accuracy(images, labels) >= 0.90


def test_read_idx_labels_rejects_an_image_file(tmp_path):
    import struct

    bad = tmp_path / "x-idx3-ubyte"
    bad.write_bytes(struct.pack(">IIII", 0x803, 1, 1, 1) + b"\x00")
    with pytest.raises(Exception, match="image file, not labels"):
        data.read_idx_labels(bad)


# --- metrics on real data -------------------------------------------------------------------------------------------

def test_classifier_metrics_of_real_images_sit_at_the_floor_and_noise_is_far_above(mnist):
    n = 1000
    real, _ = other_test_digits("mnist", mnist, n)
    good = evaluation.evaluate(ServeImages(real), dataset="mnist", data_path=str(mnist), n=n)["metrics"]
    fid = good["classifier_fid"]
    assert fid["n"] == n and fid["floor"] > 0
    assert fid["value"] < 2 * fid["floor"] + 1.0
    score = good["classifier_score"]
    assert 9.0 < score["value"] <= 10.0 and abs(score["value"] - score["floor"]) < 0.5
    assert good["mode_coverage"]["classes_covered"] == 10 and good["mode_coverage"]["value"] < 0.02

    rng = np.random.default_rng(0)
    noise = evaluation.evaluate(ServeImages(rng.random((n, 28, 28))), dataset="mnist", data_path=str(mnist),
                             n=n)["metrics"]
    constant = evaluation.evaluate(ServeImages(np.full((n, 28, 28), 0.5)), dataset="mnist", data_path=str(mnist),
                                n=n)["metrics"]
    for bad in (noise, constant):
        assert bad["classifier_fid"]["value"] > 20 * max(fid["value"], fid["floor"])
        assert bad["classifier_fid"]["floor"] == fid["floor"]  # the same cached real statistics
        assert bad["classifier_score"]["value"] < 3
    assert constant["mode_coverage"]["classes_covered"] == 1


def test_a_generator_collapsed_to_one_digit_covers_one_class_in_ten(mnist):
    images, _ = real_digits("mnist", "test", mnist, start=0, count=500, classes=[3])
    rec = evaluation.compute("mode_coverage", ServeImages(images), n=500, dataset="mnist", data_path=str(mnist))
    assert rec["classes_covered"] == 1 and rec["num_classes"] == 10
    assert rec["value"] > 2.0  # KL ~ log 10 = 2.3, far above the 0.05 target


def test_mode_coverage_of_half_the_digits(mnist):
    images, labels = real_digits("mnist", "test", mnist, start=0, count=1000, classes=[0, 1, 2, 3, 4])
    assert set(labels) == {0, 1, 2, 3, 4}
    rec = evaluation.compute("mode_coverage", ServeImages(images), n=1000, dataset="mnist", data_path=str(mnist))
    assert rec["classes_covered"] == 5 and rec["num_classes"] == 10
    # p_gen(c) ~ p_real(c) / P_real(0..4) on 0..4, so KL(p_gen || p_real) ~ -log P_real(0..4), log 2 if balanced.
    _, all_labels = data.load_labelled("mnist", "test", mnist)
    reference_labels = all_labels[evaluation.subset_indices(len(all_labels), 1000)]
    expected = -math.log(np.isin(reference_labels, [0, 1, 2, 3, 4]).mean())
    assert rec["value"] == pytest.approx(expected, abs=0.05)
    assert rec["value"] == pytest.approx(math.log(2), abs=0.15)
    assert rec["floor"] < 0.02 and rec["floor_classes_covered"] == 10


def test_real_statistics_are_cached_on_disk(mnist, tmp_path):
    real, _ = other_test_digits("mnist", mnist, 500)
    first = evaluation.compute("classifier_fid", ServeImages(real), n=500, dataset="mnist", data_path=str(mnist))
    cached = sorted(p.suffix for p in (tmp_path / "cache" / "metrics").iterdir())
    assert cached == [".json", ".npz"]
    evaluation.clear_memory_cache()
    said = []
    again = evaluation.compute("classifier_fid", ServeImages(real), n=500, dataset="mnist", data_path=str(mnist),
                            log=said.append)
    assert any("from cache" in m for m in said)
    assert again["value"] == pytest.approx(first["value"]) and again["floor"] == pytest.approx(first["floor"])


def test_fashion_classifier_fid_separates_real_from_noise(fashion_mnist):
    real, _ = other_test_digits("fashion_mnist", None, 500)
    rec = evaluation.compute("classifier_fid", ServeImages(real), n=500, dataset="fashion_mnist")
    noise = evaluation.compute("classifier_fid", ServeImages(np.random.default_rng(0).random((500, 28, 28))), n=500,
                            dataset="fashion_mnist")
    assert rec["value"] < 3 * rec["floor"] + 1.0 < noise["value"] / 10


def test_swd_of_real_faces_is_below_blurred_and_noise(celeba, tmp_path):
    faces = celeba
    from gan_core.data import load_images

    n = 128
    images, _ = load_images("folder", path=str(faces), image_size=64, channels=3, pixel_range="sigmoid",
                            limit=3 * n)
    other = images[2 * n:3 * n]  # disjoint from the reference [0, n) and the floor set [n, 2n)

    def score(served):
        return evaluation.compute("swd", ServeImages(served), n=n, dataset="folder", data_path=str(faces))

    real = score(other)
    blurred = score(evaluation.pyr_up(evaluation.pyr_down(other)))
    noise = score(np.random.default_rng(0).random(other.shape))
    assert set(real["levels"]) == {"64", "32", "16"}
    assert real["value"] < 2 * real["floor"] + 1
    assert real["value"] < blurred["value"] and real["value"] < noise["value"]
    assert real["levels"]["64"] < blurred["levels"]["64"]
    # Grayscale works too, and evaluate() picks SWD for a folder dataset.
    gray = images[2 * n:3 * n].mean(axis=-1, keepdims=True)
    result = evaluation.evaluate(ServeImages(gray), dataset="folder", data_path=str(faces), n=n)
    assert list(result["metrics"]) == ["swd"] and result["kind"] == "faces"


# --- the CLI on a real run ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_evaluate_a_tiny_run_prints_json_and_records_quality(mnist, tmp_path, capsys):
    from gan_core.tasks import train

    cfg = config.from_preset("mnist_dcgan", {"data": str(mnist), "epochs": 1, "limit": 128, "batch_size": 32})
    run = runs.create_run(tmp_path / "runs", cfg)
    assert train(run) == "done"
    assert cli.main(["evaluate", str(run.path), "--n", "500", "--json", "--epochs", "all"]) == 0
    report = json.loads(capsys.readouterr().out)
    (result,) = report["results"]
    assert result["epoch"] == 1 and result["n"] == 500
    for name in ("classifier_fid", "classifier_score", "mode_coverage"):
        rec = result["metrics"][name]
        assert math.isfinite(rec["value"]) and math.isfinite(rec["floor"])
    # An untrained-for-long generator is far from real digits.
    assert result["metrics"]["classifier_fid"]["value"] > result["metrics"]["classifier_fid"]["floor"]
    quality = runs.read_quality(run)
    assert {r["metric"] for r in quality} == {"classifier_fid", "classifier_score", "mode_coverage"}
    assert all(r["kind"] == "quality" and r["epoch"] == 1 for r in quality)
    assert not any(r.get("kind") == "quality" for r in run.metrics())  # the trainer's log stays the trainer's
    # The table form, a bare .keras with its dataset, and a clear refusal of a wrong epoch.
    assert cli.main(["evaluate", str(run.generator_path(1)), "--n", "500", "--dataset", "mnist",
                     "--data", str(mnist)]) == 0
    assert "classifier_fid" in capsys.readouterr().out
    assert cli.main(["evaluate", str(run.path), "--epochs", "7", "--n", "500"]) == 2
    assert "saved epochs: 1" in capsys.readouterr().err


# --- issue 15: sample sizes and seeds that cannot work are refused before any image is made ---------------------

PRETRAINED_DENSE = Path(__file__).resolve().parents[1] / "pretrained" / "mnist_dense"


@pytest.mark.parametrize("n,needle", [
    (0, r"--n must be 2 to 100000 images per set \(or left out for the default: 10000 for digits, 1000 for faces\); "
        r"got 0"),
    (-5, r"--n must be 2 to 100000 .*got -5"),
    (1, r"--n must be 2 to 100000 .*got 1"),
    (10**12, r"--n must be 2 to 100000 .*got 1000000000000"),
])
def test_evaluate_refuses_an_n_that_cannot_be_measured(n, needle):
    # before: 0 silently became 10000, -5 said "need at least one array to concatenate", 10**12 ran out of memory
    with pytest.raises(GanError, match=needle):
        tasks.evaluate_model(str(PRETRAINED_DENSE), n=n, record=False)


def test_evaluate_refuses_seeds_past_the_last_one_before_generating(monkeypatch):
    monkeypatch.setattr(metric_functions, "generate", lambda *a, **k: pytest.fail("generated images for refused seeds"))
    with pytest.raises(GanError, match=r"images of seeds 4294967290 \.\. 4294967389 run past the last seed "
                                       r"4294967295: use --seed 4294967196 or lower"):
        tasks.evaluate_model(str(PRETRAINED_DENSE), n=100, seed=4294967290, record=False)
    with pytest.raises(GanError, match="seeds go from 0 to 4294967295; got -1"):
        tasks.evaluate_model(str(PRETRAINED_DENSE), n=100, seed=-1, record=False)
