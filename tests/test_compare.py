"""Comparing runs (gan_core.runs.comparison and its figures in gan_core.runs.compare_charts) on small hand-written run
folders, and the objectives' balance points the charts draw as reference lines."""
import json
import math

import numpy as np
import pytest

from gan_core import config
from gan_core.algorithm import objectives
from gan_core.files import pictures
from gan_core.runs import RunDir, compare_charts, comparison


def make_run(root, name, *, overrides=None, drop=(), windows=(), epochs=(), events=(), samples=(0, 1, 2),
             quality=()) -> RunDir:
    """A run folder as a trainer leaves it: config.json (a real mnist_dcgan config, `overrides` applied and `drop`
    fields removed as an older version would have left them out), metrics.jsonl, grids and quality.jsonl."""
    path = root / name
    (path / "samples").mkdir(parents=True)
    values = json.loads(config.from_preset("mnist_dcgan", {"epochs": 2, "name": name}).to_json())
    values.update(overrides or {})
    for field in drop:
        values.pop(field)
    (path / "config.json").write_text(json.dumps(values))
    lines = [*events, *windows, *epochs]
    lines.sort(key=lambda r: r["time"])
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    grid = pictures.png_bytes(np.zeros((4, 4, 1), np.uint8))
    for epoch in samples:
        (path / "samples" / f"epoch_{epoch:04d}.png").write_bytes(grid)
    if quality:
        (path / "quality.jsonl").write_text("".join(json.dumps({"kind": "quality", **q}) + "\n" for q in quality))
    return RunDir(path)


def window(epoch, step_in_epoch, time, steps=2, **values):
    return {"kind": "window", "epoch": epoch, "step": (epoch - 1) * steps + step_in_epoch, "step_in_epoch":
            step_in_epoch, "steps_per_epoch": steps, "time": time, "g_loss": 1.0, "d_loss": 1.2, "d_real": 0.6,
            "d_fake": 0.4, "images_per_sec": 100.0, **values}


def epoch_mean(epoch, time, images_per_sec=100.0, **values):
    return {"kind": "epoch", "epoch": epoch, "step": 2 * epoch, "time": time, "g_loss": 0.9, "d_loss": 1.3,
            "d_real": 0.55, "d_fake": 0.45, "images_per_sec": images_per_sec, "seconds": 10.0, **values}


def fid(epoch, value, n=500, floor=0.5):
    return {"epoch": epoch, "metric": "classifier_fid", "value": value, "floor": floor, "n": n, "better": "lower",
            "time": 1000.0 + epoch}


def two_epochs(start=100.0, **values):
    """Windows and epoch means of a 2-epoch run that trained 10 s per epoch from `start`."""
    return dict(windows=[window(1, 1, start + 5, **values), window(1, 2, start + 10, **values),
                         window(2, 1, start + 15, **values), window(2, 2, start + 20, **values)],
                epochs=[epoch_mean(1, start + 10.5, 90.0), epoch_mean(2, start + 20.5, 110.0, g_loss=0.8)],
                events=[{"kind": "event", "message": "data: 128 images", "time": start}])


# --- training time ------------------------------------------------------------------------------------------------

def test_training_time_leaves_out_the_pause_before_a_resume():
    records = [{"kind": "event", "message": "data: ...", "time": 100.0},
               {"kind": "window", "time": 110.0},
               {"kind": "epoch", "time": 111.0},
               {"kind": "event", "message": "stopped at epoch 1, step 2; resume to continue", "time": 112.0},
               {"kind": "event", "message": "EMA of G's weights: ...", "time": 5000.0},  # the next process
               {"kind": "event", "message": "resumed from step_00000002: epoch 1, step 2", "time": 5001.0},
               {"kind": "window", "time": 5011.0},
               {"kind": "event", "message": "torn", "time": "not a time"}]
    seconds = comparison.training_seconds(records)
    assert seconds[:3] == [0.0, 10.0, 11.0]
    assert seconds[5:7] == [11.0, 21.0]  # the 4890 s between the last epoch and the resume are not training
    assert seconds[7] is None


# --- loading and curves -------------------------------------------------------------------------------------------

def test_curves_by_epoch_and_by_training_time_with_each_runs_balance(tmp_path):
    plain = make_run(tmp_path, "00000-plain", **two_epochs())
    hinge = make_run(tmp_path, "00001-hinge", overrides={"loss": "hinge"}, **two_epochs(start=500.0, g_loss=2.0))
    compared = comparison.load([plain, hinge])
    assert [c.label for c in compared] == ["00000-plain", "00001-hinge"]
    by_epoch = comparison.run_lines(compared, "epoch")
    assert by_epoch[0].windows["g_loss"] == ([0.5, 1.0, 1.5, 2.0], [1.0] * 4)  # windows at fractional epochs
    assert by_epoch[0].means["g_loss"] == ([1, 2], [0.9, 0.8])
    assert by_epoch[1].windows["g_loss"][1] == [2.0] * 4
    assert by_epoch[0].reference == pytest.approx({"g_loss": math.log(2), "d_loss": 2 * math.log(2),
                                                   "d_real": 0.5, "d_fake": 0.5})
    assert by_epoch[1].reference is None  # hinge has no balance point
    by_time = comparison.run_lines(compared, "minutes")
    assert by_time[0].windows["d_loss"][0] == pytest.approx([5 / 60, 10 / 60, 15 / 60, 20 / 60])
    assert by_time[1].means["d_real"][0] == pytest.approx([10.5 / 60, 20.5 / 60])  # from its own first record
    with pytest.raises(ValueError, match="x must be one of"):
        comparison.run_lines(compared, "steps")


def test_long_curves_are_downsampled_keeping_the_extremes(tmp_path):
    windows = [window(1 + i // 100, 1 + i % 100, 100.0 + i, steps=100, g_loss=1.0) for i in range(3000)]
    windows[1234]["g_loss"] = 9.0
    run = make_run(tmp_path, "00000-long", windows=windows, epochs=[epoch_mean(30, 4000.0)])
    (lines,) = comparison.run_lines(comparison.load([run]), max_points=200)
    xs, ys = lines.windows["g_loss"]
    assert len(ys) <= 200 and max(ys) == 9.0
    assert xs == sorted(xs) and xs[0] == pytest.approx(0.01) and xs[-1] == pytest.approx(30.0)


def test_two_runs_with_one_name_get_distinct_labels(tmp_path):
    a = make_run(tmp_path / "runs", "tiny", **two_epochs())
    b = make_run(tmp_path / "pretrained", "tiny", **two_epochs())
    assert comparison.labels([a, b]) == ["tiny", "tiny (2)"]


# --- what differs -------------------------------------------------------------------------------------------------

def test_config_diff_lists_only_the_fields_that_differ_in_config_order(tmp_path):
    base = make_run(tmp_path, "00000-base", **two_epochs())
    smooth = make_run(tmp_path, "00001-smooth", overrides={"real_label": 0.9, "beta_1": 0.5, "d_lr": 2e-4},
                      **two_epochs())
    rows = comparison.config_diff(comparison.load([base, smooth]))
    assert rows == [{"field": "d_lr", "00000-base": "0.0001", "00001-smooth": "0.0002"},
                    {"field": "beta_1", "00000-base": "0.9", "00001-smooth": "0.5"},
                    {"field": "real_label", "00000-base": "1", "00001-smooth": "0.9"}]  # not the names


def test_a_field_an_older_config_lacks_counts_at_its_default(tmp_path):
    new = make_run(tmp_path, "00000-new", **two_epochs())
    old = make_run(tmp_path, "00001-old", drop=("loss", "ema_decay", "task"), **two_epochs())
    assert comparison.config_diff(comparison.load([new, old])) == []
    hinge = make_run(tmp_path, "00002-hinge", overrides={"loss": "hinge"}, **two_epochs())
    assert comparison.config_diff(comparison.load([old, hinge])) == [
        {"field": "loss", "00001-old": "bce", "00002-hinge": "hinge"}]


def test_config_values_are_shown_short_and_plain():
    assert [comparison.show_value(v) for v in (2e-4, 1.0, 3, True, None, "", "mnist", [1, 2])] == \
        ["0.0002", "1", "3", "true", "none", "(empty)", "mnist", "[1, 2]"]


# --- how each did -------------------------------------------------------------------------------------------------

def test_summary_has_last_epoch_losses_speed_time_and_quality_at_the_common_n(tmp_path):
    a = make_run(tmp_path, "00000-a", quality=[fid(1, 80.0), fid(2, 50.0), fid(2, 40.0, n=2000)], **two_epochs())
    b = make_run(tmp_path, "00001-b", quality=[fid(2, 30.0), fid(2, 20.0, n=10000)], **two_epochs())
    compared = comparison.load([a, b])
    assert comparison.quality_sizes(compared) == [500]  # the only n both measured
    first, second = comparison.summary(compared, 500)
    assert first["run"] == "00000-a" and first["epochs"] == 2
    assert first["classifier-FID ↓"] == 50.0 and second["classifier-FID ↓"] == 30.0
    assert first["quality at epoch"] == 2
    assert (first["G loss"], first["D loss"], first["D(x)"], first["D(G(z))"]) == (0.8, 1.3, 0.55, 0.45)
    assert first["images/s"] == 100  # the median of 90 and 110
    assert first["training time (min)"] == round(20.5 / 60, 1)
    table = comparison.summary_table(compared, 500)
    assert table[0] == {"measure": "epochs", "00000-a": "2", "00001-b": "2"}
    assert {"measure": "classifier-FID ↓", "00000-a": "50", "00001-b": "30"} in table
    # without a common n each run's own latest n is used, and named
    rows = comparison.summary(compared, None)
    assert [r["quality n"] for r in rows] == [2000, 10000] and [r["classifier-FID ↓"] for r in rows] == [40.0, 20.0]


def test_summary_of_runs_without_epochs_or_quality_has_blanks(tmp_path):
    empty = make_run(tmp_path, "00000-empty", samples=(0,))
    done = make_run(tmp_path, "00001-done", **two_epochs())
    compared = comparison.load([empty, done])
    assert comparison.quality_sizes(compared) == [] and comparison.quality_runs(compared) == []
    evaluated = make_run(tmp_path, "00002-evaluated", quality=[fid(2, 30.0)], **two_epochs())
    assert comparison.quality_sizes(comparison.load([empty, evaluated])) == [500]  # the unevaluated run has no n
    row = comparison.summary(compared)[0]
    assert row["epochs"] is None and row["G loss"] is None and row["images/s"] is None
    assert {"measure": "G loss", "00000-empty": "—", "00001-done": "0.8"} in comparison.summary_table(compared)


# --- grids at one epoch -------------------------------------------------------------------------------------------

def test_grid_slider_uses_the_common_epochs_or_every_epoch_with_the_nearest_grid(tmp_path):
    a = make_run(tmp_path, "00000-a", samples=(0, 1, 2, 3, 4))
    b = make_run(tmp_path, "00001-b", samples=(0, 2, 4, 6))
    compared = comparison.load([a, b])
    assert comparison.grid_epochs(compared) == ([0, 2, 4], True)
    assert comparison.grid_epochs(compared, every_epoch=True) == ([0, 1, 2, 3, 4, 6], False)
    assert comparison.grid_at(compared[1], 3) == (2, b.sample_path(2))  # a tie goes to the earlier grid
    assert comparison.grid_at(compared[0], 6) == (4, a.sample_path(4))
    short = make_run(tmp_path, "00002-short", samples=(0,))
    assert comparison.grid_epochs(comparison.load([a, short])) == ([0, 1, 2, 3, 4], False)  # only epoch 0 in common
    bare = make_run(tmp_path, "00003-bare", samples=())
    assert comparison.grid_at(comparison.load([bare])[0], 2) == (None, None)
    assert comparison.grid_epochs(comparison.load([bare])) == ([], True)


def test_version_changes_when_a_run_logs_more(tmp_path):
    run = make_run(tmp_path, "00000-a", **two_epochs())
    before = comparison.version([run])
    with open(run.metrics_path, "a") as f:
        f.write(json.dumps(epoch_mean(3, 200.0)) + "\n")
    assert comparison.version([run]) != before


# --- the figures --------------------------------------------------------------------------------------------------

def lines(name, g_loss=1.0, reference=None):
    return compare_charts.RunLines(name, {"g_loss": ([0.5, 1.0], [g_loss, g_loss]), "d_real": ([0.5, 1.0], [0.6, 0.6])},
                           {"g_loss": ([1], [g_loss])}, reference)


BCE = objectives.get("bce").balance_point()


def test_compare_figure_overlays_runs_one_colour_each_on_shared_panels():
    fig = compare_charts.compare_figure([lines("a"), lines("b", 2.0)])
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == ["a", "b"]  # one entry per run (its epoch means), windows grouped under it
    g_loss = [t for t in fig.data if t.xaxis == "x" and t.yaxis == "y"]
    assert [(t.name, t.mode, t.line.color) for t in g_loss] == [
        ("a", "lines", compare_charts.RUN_COLOURS[0]), ("a", "lines+markers", compare_charts.RUN_COLOURS[0]),
        ("b", "lines", compare_charts.RUN_COLOURS[1]), ("b", "lines+markers", compare_charts.RUN_COLOURS[1])]
    assert {t.yaxis for t in fig.data if t.name == "a"} == {"y", "y3"}  # G loss and D(x): the series it has
    assert not fig.layout.shapes  # no balance without a reference
    assert fig.layout.xaxis3.title.text == "epoch" and list(fig.layout.yaxis3.range) == [0, 1]


def test_compare_figure_draws_a_shared_balance_grey_and_a_runs_own_in_its_colour():
    fig = compare_charts.compare_figure([lines("a", reference=BCE), lines("b", reference=BCE)], x_title="minutes")
    lines_drawn = [(s.y0, s.yref, s.line.color, s.line.dash) for s in fig.layout.shapes]
    assert lines_drawn == [(pytest.approx(math.log(2)), "y", "#999", "dot"), (0.5, "y3", "#999", "dot")]
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == ["G loss · balance 0.69", "D loss · balance 1.39", "D(x): D's output on real images · "
                                                                             "balance 0.50"]
    assert any(t.name == "balance" and t.line.dash == "dot" for t in fig.data)  # the legend says what dots are
    smoothed = objectives.get("bce").balance_point(0.9)
    fig = compare_charts.compare_figure([lines("a", reference=BCE), lines("b", reference=smoothed), lines("c")])
    assert [(round(s.y0, 2), s.line.color) for s in fig.layout.shapes if s.yref == "y"] == [
        (0.69, compare_charts.RUN_COLOURS[0]), (0.8, compare_charts.RUN_COLOURS[1])]
    assert fig.layout.annotations[0].text == "G loss · balance 0.69 / 0.80"
    assert "each run's balance" in compare_charts.compare_note([lines("a", reference=BCE),
                                                                lines("b", reference=smoothed)])
    assert "ln 2 ≈ 0.69" in compare_charts.compare_note([lines("a", reference=BCE), lines("b", reference=BCE)])
    assert "No dotted balance lines" in compare_charts.compare_note([lines("a"), lines("b")])


def test_compare_quality_figure_one_line_per_run_per_metric_with_the_floor():
    records_a = [fid(1, 80.0), fid(2, 50.0), {**fid(2, 3.0), "metric": "mode_coverage"}]
    records_b = [fid(2, 30.0)]
    fig = compare_charts.compare_quality_figure([("a", records_a), ("b", records_b)], n=500)
    assert [(t.name, t.yaxis, list(t.x), list(t.y)) for t in fig.data] == [
        ("a", "y", [1, 2], [80.0, 50.0]), ("b", "y", [2], [30.0]), ("a", "y2", [2], [3.0])]
    assert [t.line.color for t in fig.data[:2]] == list(compare_charts.RUN_COLOURS[:2])
    floors = [(s.y0, s.yref) for s in fig.layout.shapes]
    assert floors == [(0.5, "y"), (0.5, "y2")]  # the shared floor once per panel
    assert fig.layout.xaxis2.title.text == "epoch (n = 500 images per set)"
    fig = compare_charts.compare_quality_figure([("a", [fid(2, 50.0, floor=0.4)]), ("b", [fid(2, 30.0, floor=1.3)])],
                                                n=500)
    assert [(s.y0, s.line.color) for s in fig.layout.shapes] == [(0.4, compare_charts.RUN_COLOURS[0]),
                                                                 (1.3, compare_charts.RUN_COLOURS[1])]
    assert not compare_charts.compare_quality_figure([("a", [])]).data


def test_quality_by_training_time_uses_the_minute_its_epoch_ended(tmp_path):
    run = make_run(tmp_path, "00000-a", quality=[fid(0, 200.0), fid(1, 80.0), fid(2, 50.0)], **two_epochs())
    (compared,) = comparison.load([run])
    assert [r.get("minutes") for r in compared.quality] == pytest.approx([0.0, 10.5 / 60, 20.5 / 60])
    fig = compare_charts.compare_quality_figure(comparison.quality_runs([compared]), 500, x_key="minutes",
                                        x_title=comparison.X_AXES["minutes"])
    assert list(fig.data[0].x) == pytest.approx([0.0, 10.5 / 60, 20.5 / 60])
    assert fig.layout.xaxis.title.text == "training time (minutes) (n = 500 images per set)"


# --- balance points -----------------------------------------------------------------------------------------------

def test_bce_balance_is_ln2_2ln2_and_one_half_or_half_the_smoothed_label():
    assert objectives.get("bce").balance_point() == pytest.approx(
        {"g_loss": math.log(2), "d_loss": 2 * math.log(2), "d_real": 0.5, "d_fake": 0.5})
    smoothed = objectives.get("bce").balance_point(0.9)
    assert smoothed["d_real"] == smoothed["d_fake"] == pytest.approx(0.45)
    assert smoothed["g_loss"] == pytest.approx(-math.log(0.45))
    assert objectives.get("hinge").balance_point() is None and objectives.get("wgan-gp").balance_point() is None


@pytest.mark.parametrize("loss, real_label", [("bce", 1.0), ("bce", 0.9), ("lsgan", 1.0), ("lsgan", 0.9)])
def test_balance_is_where_the_objective_itself_puts_the_losses_and_d_cannot_do_better(loss, real_label):
    """With real and fake logits equal (D cannot tell them apart), the objective's own losses at the balance's D
    output are the declared values, and that output is D's best answer: nudging it raises D's loss."""
    import tensorflow as tf

    objective, point = objectives.get(loss), objectives.get(loss).balance_point(real_label)
    p = point["d_real"]  # D's output as its objective shows it: a probability (bce), the score itself (lsgan)
    logit = math.log(p / (1 - p)) if objective.reading.sigmoid else p

    def losses(value):
        logits = tf.fill([8, 1], value)
        g, d, _ = objective(logits, logits, real_label=real_label)
        return float(g), float(d)

    g_loss, d_loss = losses(logit)
    assert g_loss == pytest.approx(point["g_loss"], rel=1e-5) and d_loss == pytest.approx(point["d_loss"], rel=1e-5)
    assert losses(logit - 0.05)[1] > d_loss and losses(logit + 0.05)[1] > d_loss


def test_a_runs_balance_follows_its_loss_label_and_task(tmp_path):
    assert make_run(tmp_path, "00000-bce").balance_point() == pytest.approx(BCE)
    assert make_run(tmp_path, "00001-old", drop=("loss", "task")).balance_point() == pytest.approx(BCE)
    assert make_run(tmp_path, "00002-smooth", overrides={"real_label": 0.9}).balance_point()["d_real"] == 0.45
    assert make_run(tmp_path, "00003-hinge", overrides={"loss": "hinge"}).balance_point() is None
    assert make_run(tmp_path, "00004-unknown", overrides={"loss": "nope"}).balance_point() is None
    assert make_run(tmp_path, "00005-label", overrides={"real_label": "x"}).balance_point() is None
    pix2pix = make_run(tmp_path, "00006-pix2pix", overrides={"architecture": "pix2pix"})
    assert pix2pix.balance_point() is None  # G's loss adds L1: no balance value for it
