"""The training chart: windows and epoch means on one epoch axis, in two panels, with an optional marker line; and
the quality chart: one panel per metric over epochs, each with its real-data floor."""
import pytest
from gan_core.runs import compare_charts, quality_charts, training_charts
from gan_core.runs.series import SERIES, window_epoch


def window(epoch, step_in_epoch, steps=4, **values):
    return {"kind": "window", "epoch": epoch, "step_in_epoch": step_in_epoch, "steps_per_epoch": steps,
            "g_loss": 1.0, "d_loss": 1.2, "d_real": 0.6, "d_fake": 0.4, **values}


def test_windows_sit_at_fractional_epochs():
    assert window_epoch(window(1, 2)) == pytest.approx(0.5)
    assert window_epoch(window(3, 4)) == pytest.approx(3.0)


def test_losses_on_top_and_discriminator_outputs_below():
    windows = [window(1, 2), window(1, 4), window(2, 2, g_loss=0.8)]
    means = [{"kind": "epoch", "epoch": 1, "g_loss": 0.9, "d_loss": 1.1, "d_real": 0.6, "d_fake": 0.4}]
    fig = training_charts.training_figure(windows, means, mark_epoch=1)
    lines = {t.name: t for t in fig.data if t.mode == "lines"}
    assert set(lines) == {"G loss", "D loss", "D(x)", "D(G(z))"}
    assert list(lines["G loss"].x) == [0.5, 1.0, 1.5] and list(lines["G loss"].y) == [1.0, 1.0, 0.8]
    assert lines["G loss"].yaxis == "y" and lines["D(x)"].yaxis == "y2"
    markers = [t for t in fig.data if t.mode == "markers"]
    assert len(markers) == 4 and all(list(t.x) == [1] for t in markers)
    assert [s.x0 for s in fig.layout.shapes] == [1, 1]  # the marker line crosses both panels


def test_no_records_make_an_empty_figure_without_a_marker():
    fig = training_charts.training_figure([])
    assert not fig.data and not fig.layout.shapes


BCE_BALANCE = {"g_loss": 0.6931, "d_loss": 1.3863, "d_real": 0.5, "d_fake": 0.5}  # objectives.get("bce")'s


def test_balance_lines_are_off_by_default_and_one_per_series_in_its_colour_and_panel():
    windows = [window(1, 2), window(1, 4)]
    assert not training_charts.training_figure(windows).layout.shapes
    fig = training_charts.training_figure(windows, mark_epoch=1, reference=BCE_BALANCE)
    assert [s.x0 for s in fig.layout.shapes[:2]] == [1, 1]  # the epoch marker stays the first shape
    balance = [s for s in fig.layout.shapes if s.y0 == s.y1]
    colours = {name: colour for _, name, colour, _ in SERIES}
    assert [(s.y0, s.yref, s.line.color, s.line.dash) for s in balance] == [
        (0.6931, "y", colours["G loss"], "dot"), (1.3863, "y", colours["D loss"], "dot"),
        (0.5, "y2", "#999", "dot")]  # D(x) and D(G(z)) share one line
    assert all(s.xref.endswith("domain") and (s.x0, s.x1) == (0, 1) for s in balance)  # across the whole panel
    assert [a.text for a in fig.layout.annotations] == ["0.69", "1.39", "0.50"]  # beside the lines
    assert [t.name for t in fig.data if t.line.dash == "dot"] == ["balance"]  # the legend says what dots are


def test_balance_lines_only_for_series_on_the_chart_and_keyword_only_on_series_figure():
    fig = training_charts.series_figure({"g_loss": ([0.5, 1.0], [0.9, 0.8])}, reference=BCE_BALANCE)
    assert [s.y0 for s in fig.layout.shapes] == [0.6931]
    with pytest.raises(TypeError):
        training_charts.series_figure({}, (), None, 440, BCE_BALANCE)
    assert not training_charts.series_figure({"g_loss": ([1.0], [0.9])}, reference=None).layout.shapes


def test_the_training_note_explains_the_balance_only_when_it_is_drawn():
    assert "Dotted" not in training_charts.training_note() and "D(G(z))" in training_charts.training_note()
    note = training_charts.training_note({"g_loss": 0.693147, "d_loss": 1.386294, "d_real": 0.5, "d_fake": 0.5})
    assert "G loss ln 2 ≈ 0.69" in note and "D loss 2 ln 2 ≈ 1.39" in note and "D(x) = D(G(z)) = 0.50" in note
    assert "G loss 0.80" in training_charts.balance_note({"g_loss": 0.798, "d_real": 0.45})


# --- the quality chart (records as metrics.append_quality writes them to quality.jsonl) -----------------------------

def quality(epoch, metric, value, floor, n=500, better="lower", **extra):
    return {"kind": "quality", "time": 1.0 + epoch, "epoch": epoch, "metric": metric, "value": value, "floor": floor,
            "n": n, "better": better, "dataset": "mnist", **extra}


def digit_records(n=500, epochs=(2, 1)):
    out = []
    for e in epochs:  # any order: the chart sorts by epoch
        out += [quality(e, "classifier_fid", 30.0 / e, 0.5, n),
                quality(e, "classifier_score", 5.0 + e, 9.8, n, better="higher", max=10),
                quality(e, "mode_coverage", 0.3 / e, 0.002, n, classes_covered=8 + e, num_classes=10)]
    return out


def test_quality_one_panel_per_metric_with_epochs_on_x():
    fig = quality_charts.quality_figure(digit_records())
    assert [t.name for t in fig.data] == ["classifier-FID", "classifier score", "mode coverage KL"]
    assert [t.yaxis for t in fig.data] == ["y", "y2", "y3"]  # each metric in its own panel
    fid = fig.data[0]
    assert list(fid.x) == [1, 2] and list(fid.y) == [30.0, 15.0]
    assert "9/10 classes covered" in fig.data[2].customdata[0]
    titles = [a.text for a in fig.layout.annotations if a.yref == "paper"]
    assert titles == ["classifier-FID (lower is better)", "classifier score (higher is better)",
                      "mode coverage KL (lower is better)"]
    assert fig.layout.xaxis3.title.text == "epoch (n = 500 images per set)"


def test_quality_floor_is_a_labelled_dashed_horizontal_line_per_panel():
    fig = quality_charts.quality_figure(digit_records())
    floors = [s for s in fig.layout.shapes if s.y0 == s.y1]
    assert [(s.y0, s.yref) for s in floors] == [(0.5, "y"), (9.8, "y2"), (0.002, "y3")]
    assert all(s.line.dash == "dash" and s.xref.endswith("domain") for s in floors)  # across the whole panel
    labels = [a for a in fig.layout.annotations if a.text == "real-data floor"]
    assert [a.yref for a in labels] == ["y", "y2", "y3"]
    assert not [s for s in fig.layout.shapes if s.x0 == s.x1]  # no epoch marker unless asked


def test_quality_marker_crosses_every_panel_like_the_training_chart():
    fig = quality_charts.quality_figure(digit_records(), mark_epoch=2)
    markers = [s for s in fig.layout.shapes if s.x0 == s.x1]
    assert [(s.x0, s.xref) for s in markers] == [(2, "x"), (2, "x2"), (2, "x3")]
    loss_marker = training_charts.training_figure([window(1, 4)], mark_epoch=2).layout.shapes[0]
    assert all(s.line == loss_marker.line for s in markers)


def test_quality_shows_one_sample_size_and_the_latest_record_of_an_epoch():
    records = digit_records(n=500) + digit_records(n=2000, epochs=(1,))
    records.append(quality(1, "classifier_fid", 7.0, 0.4, n=2000))  # epoch 1 evaluated again at n=2000
    assert quality_charts.quality_sample_sizes(records) == [2000, 500]
    latest = quality_charts.quality_figure(records)  # default: the latest n
    assert list(latest.data[0].x) == [1] and list(latest.data[0].y) == [7.0]
    assert latest.layout.shapes[0].y0 == 0.4
    older = quality_charts.quality_figure(records, n=500)
    assert list(older.data[0].y) == [30.0, 15.0]


def test_quality_faces_swd_and_unknown_metrics_get_panels_too():
    records = [quality(1, "swd", 40.0, 3.0, n=1000, levels={"64": 40.0}), quality(1, "sharpness", 0.7, 0.9, n=1000)]
    fig = quality_charts.quality_figure(records, mark_epoch=1)
    assert [t.name for t in fig.data] == ["SWD ×1e3", "sharpness"]
    assert len([a for a in fig.layout.annotations if a.text == "real-data floor"]) == 2


def test_quality_without_records_is_an_empty_figure():
    fig = quality_charts.quality_figure([{"kind": "quality", "epoch": None, "metric": "swd", "value": 1.0, "n": 10}],
                                mark_epoch=1)
    assert not fig.data and not fig.layout.shapes
    assert quality_charts.quality_sample_sizes([]) == []


def test_d_panels_say_whether_they_show_a_probability_or_a_score():
    from gan_core.algorithm import objectives

    series = {"d_real": ([0.5, 1.0], [2.0, 3.5])}
    critic = training_charts.series_figure(series, reading=objectives.CRITIC)
    assert critic.layout.yaxis2.title.text == "critic score" and critic.layout.yaxis2.range is None
    probability = training_charts.series_figure(series, reading=objectives.PROBABILITY)
    assert probability.layout.yaxis2.title.text == "D's probability of real"
    assert list(probability.layout.yaxis2.range) == [0, 1]
    hist = training_charts.score_histogram({"real_hist": [1, 0], "fake_hist": [0, 1], "hist_range": [-2.0, 4.0]},
                                  reading=objectives.LS_SCORE)
    assert list(hist.layout.xaxis.range) == [-2, 4] and list(hist.data[0].x) == [-0.5, 2.5]
    assert hist.layout.xaxis.title.text == "D's least-squares score"
    lines = {"d_real": ([1.0], [0.3])}
    same = compare_charts.compare_figure([compare_charts.RunLines("a", lines, reading=objectives.CRITIC),
                                  compare_charts.RunLines("b", lines, reading=objectives.CRITIC)])
    mixed = compare_charts.compare_figure([compare_charts.RunLines("a", lines, reading=objectives.CRITIC),
                                   compare_charts.RunLines("b", lines, reading=objectives.PROBABILITY)])
    titles = lambda fig: [a.text for a in fig.layout.annotations]  # noqa: E731
    assert "D(x): D's output on real images (critic score)" in titles(same)
    assert "D(x): D's output on real images (each run's own reading: probability or score)" in titles(mixed)
