"""What D sees: the per-epoch summary of its verdicts, and the trainer writing it."""
import numpy as np
import pytest

from gan_core import config, runs
from gan_core.algorithm import objectives
from gan_core.evaluation import discriminator_view
from gan_core.evaluation.discriminator import BINS, PROBE
from gan_core.tasks import train


def test_a_winning_d_separates_the_distributions_and_a_balanced_one_overlaps_them():
    rng = np.random.default_rng(0)
    winning = discriminator_view(rng.normal(4, 1, 500), rng.normal(-4, 1, 500), [3.0, -3.0])
    assert winning["d_accuracy"] > 0.99
    assert winning["real_quantiles"][0] > 0.8 and winning["fake_quantiles"][-1] < 0.2
    assert sum(winning["real_hist"]) == sum(winning["fake_hist"]) == 500 and len(winning["real_hist"]) == BINS
    assert winning["grid_scores"] == [pytest.approx(0.95257, abs=1e-5), pytest.approx(0.04743, abs=1e-5)]
    balanced = discriminator_view(rng.normal(0, 0.1, 500), rng.normal(0, 0.1, 500))
    assert 0.4 < balanced["d_accuracy"] < 0.6
    assert abs(balanced["real_quantiles"][2] - 0.5) < 0.02 and abs(balanced["fake_quantiles"][2] - 0.5) < 0.02
    assert balanced["real_quantiles"] == sorted(balanced["real_quantiles"])


@pytest.mark.slow
@pytest.mark.parametrize("loss, reading", [("bce", "probability"), ("hinge", "critic")])
def test_the_trainer_logs_what_d_sees_each_epoch(tmp_path, mnist_npz, loss, reading):
    cfg = config.from_preset("mnist_dense", {"data": str(mnist_npz), "epochs": 2, "limit": 96, "batch_size": 32,
                                             "grid": 3, "precision": "float32", "loss": loss})
    run = runs.create_run(tmp_path, cfg)
    assert train(run) == "done"
    views = run.metrics("discriminator")
    assert [v["epoch"] for v in views] == [0, 1, 2]  # the untrained G's grid too
    for v in views:
        assert v["n"] == 96 < PROBE and len(v["grid_scores"]) == 9 and v["d_reading"] == reading
        assert sum(v["real_hist"]) == sum(v["fake_hist"]) == 96 and 0 <= v["d_accuracy"] <= 1
        low, high = v.get("hist_range", (0, 1))  # a probability on [0, 1]; a critic's score on its own range
        assert all(low <= s <= high for s in v["real_quantiles"] + v["fake_quantiles"])
        assert ("hist_range" in v) == (reading != "probability")
    assert views[0]["real_quantiles"] != views[-1]["real_quantiles"]  # D learned something between them
    assert {w["d_reading"] for w in run.metrics("window")} == {reading}  # the curves say what d_real / d_fake are


@pytest.mark.parametrize("reading, accuracy", [
    (objectives.PROBABILITY, 0.5),  # sigmoid above 0.5 is "real": -0.5 is called fake, the fake 0.4 real
    (objectives.LS_SCORE, 0.75),  # nearer 1 than 0 is "real": -0.5 is called fake, 0.4 fake too (right)
    (objectives.CRITIC, 0.5),  # the sign
    (objectives.RELATIVE, 1.0),  # against the other set's mean: -0.5 > mean(fake) -1.3, 0.4 < mean(real) 0.75
])
def test_what_d_sees_is_what_its_objective_says_its_output_is(reading, accuracy):
    real, fake = [2.0, -0.5], [-3.0, 0.4]
    view = discriminator_view(np.array(real), np.array(fake), [0.3], reading=reading)
    assert view["d_reading"] == reading.name and view["d_accuracy"] == pytest.approx(accuracy)
    assert view["grid_scores"] == [pytest.approx(reading.show([0.3])[0], abs=1e-5)]
    assert view["real_quantiles"][-1] == pytest.approx(np.quantile(reading.show(real), 0.95), abs=1e-5)
    if reading.sigmoid:
        assert "hist_range" not in view and 0 < min(view["real_quantiles"]) < max(view["real_quantiles"]) < 1
    else:  # the raw score, binned over its own range
        assert view["hist_range"] == [-3.0, 2.0] and view["real_quantiles"][0] == pytest.approx(-0.375)
        assert view["real_hist"][-1] == view["fake_hist"][0] == 1  # the extremes in the end bins
    assert sum(view["real_hist"]) == sum(view["fake_hist"]) == 2


def test_the_d_wins_alarm_says_how_its_objective_judges_d():
    from gan_core.runs import run_warnings

    won = {"kind": "discriminator", "epoch": 4, "diversity": 0.95, "d_accuracy": 0.99}
    assert "probability above 0.5 = real" in run_warnings([won], [])[0]  # a run from before readings, as logged
    assert "score above 0 = real" in run_warnings([{**won, "d_reading": "critic"}], [])[0]


# --- the live view's warnings -----------------------------------------------------------------------------------

def test_collapsed_fakes_have_low_diversity_and_varied_ones_about_one():
    from gan_core.evaluation.discriminator import diversity_ratio

    rng = np.random.default_rng(1)
    reals = rng.uniform(-1, 1, (200, 28, 28, 1))
    assert 0.9 < diversity_ratio(rng.uniform(-1, 1, (200, 28, 28, 1)), reals) < 1.1
    one_image = np.repeat(reals[:2], 100, axis=0) + rng.normal(0, 0.01, (200, 28, 28, 1))  # G draws two images
    assert diversity_ratio(one_image, reals) < 0.6


def test_warnings_name_what_crossed_the_line_and_what_to_try():
    from gan_core.runs import run_warnings

    healthy = [{"kind": "discriminator", "epoch": 3, "diversity": 0.95, "d_accuracy": 0.7}]
    coverage = {"metric": "mode_coverage", "epoch": 3, "classes_covered": 10, "num_classes": 10, "value": 0.02}
    assert run_warnings(healthy, [coverage]) == []
    collapsed = [{"kind": "discriminator", "epoch": 4, "diversity": 0.21, "d_accuracy": 0.99}]
    found = run_warnings(collapsed, [{**coverage, "classes_covered": 3, "epoch": 4}])
    assert len(found) == 3
    assert "Mode collapse likely at epoch 4" in found[0] and "0.21x" in found[0] and "what to try" in found[0]
    assert "D wins outright at epoch 4 (accuracy 99%" in found[1]
    assert "only 3 of 10 digit classes" in found[2]
    assert "lopsided" in run_warnings([], [{**coverage, "value": 0.8}])[0]
    # the untrained G's epoch 0 is all D: never an alarm
    assert run_warnings([{"kind": "discriminator", "epoch": 0, "diversity": 0.9, "d_accuracy": 1.0}], []) == []


@pytest.mark.slow
def test_a_run_without_records_has_its_grid_scored_by_its_checkpoints_d(tiny_run):
    from gan_core.inference import grid_scores_from_checkpoint

    scores, which = grid_scores_from_checkpoint(tiny_run, 2)
    logged = next(v for v in tiny_run.metrics("discriminator") if v["epoch"] == 2)["grid_scores"]
    assert len(scores) == len(logged) == tiny_run.config().grid ** 2 and "checkpoint step_" in which
    # the same D on the same cells, give or take the PNG's 8-bit rounding of the images it was logged on
    assert np.allclose(scores, logged, atol=0.05)
