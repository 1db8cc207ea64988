"""The live view's reader: metrics.jsonl parsed incrementally, restarted when the file is replaced or cut, re-logged
steps replaced, and every series downsampled to what a chart can show without losing its spikes."""
import json
import os

import numpy as np
import pytest

from gan_core import runs
from gan_core.files import disk
from gan_core.runs import metrics_tail, training_charts
from gan_core.runs.metrics_tail import MetricsTail, downsample
from gan_core.runs.series import window_epoch, window_series


def window(step, steps_per_epoch=100, **values):
    epoch, in_epoch = (step - 1) // steps_per_epoch + 1, (step - 1) % steps_per_epoch + 1
    return {"kind": "window", "epoch": epoch, "step": step, "step_in_epoch": in_epoch,
            "steps_per_epoch": steps_per_epoch, "g_loss": 1.0 + step / 1000, "d_loss": 1.2, "d_real": 0.6,
            "d_fake": 0.4, **values}


def write(path, records, mode="w"):
    with open(path, mode) as f:
        f.writelines(json.dumps(r) + "\n" for r in records)


def as_lists(series):
    return {k: (list(x), list(y)) for k, (x, y) in series.items()}


def test_small_logs_are_drawn_whole_and_match_the_full_chart(tmp_path):
    path = tmp_path / "metrics.jsonl"
    records = [window(s) for s in range(1, 51)] + [{"kind": "event", "message": "hi"}]
    write(path, records)
    tail = MetricsTail(path)
    assert tail.refresh() and tail.n_windows == 50
    assert as_lists(tail.series()) == as_lists(window_series(records[:50]))
    assert not tail.refresh()  # nothing new: nothing changed


def test_a_refresh_parses_only_the_appended_lines(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    write(path, [window(s) for s in range(1, 1001)])
    tail = MetricsTail(path)
    tail.refresh()
    parsed = []
    real_loads = json.loads
    monkeypatch.setattr(metrics_tail.json, "loads", lambda line: parsed.append(line) or real_loads(line))
    for s in (1001, 1002, 1003):
        disk.append_jsonl(path, window(s))
    assert tail.refresh() and len(parsed) == 3 and tail.n_windows == 1003


def test_a_line_being_written_waits_and_a_torn_one_is_skipped(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write(path, [window(1)])
    line = json.dumps(window(2))
    with open(path, "a") as f:
        f.write(line[:20])  # half written
    tail = MetricsTail(path)
    tail.refresh()
    assert tail.n_windows == 1
    with open(path, "a") as f:
        f.write(line[20:] + "\n")
    tail.refresh()
    assert tail.n_windows == 2
    with open(path, "a") as f:
        f.write('{"kind": "window", "st')  # the trainer killed mid-line; the resumed one appends
    disk.append_jsonl(path, window(3))
    tail.refresh()
    assert tail.n_windows == 3


@pytest.mark.parametrize("how", ["truncated", "replaced", "rewritten in place"])
def test_a_cut_or_replaced_file_is_read_again_from_the_start(tmp_path, how):
    path = tmp_path / "metrics.jsonl"
    write(path, [window(s, g_loss=5.0) for s in range(1, 101)])
    tail = MetricsTail(path)
    tail.refresh()
    new = [window(s, g_loss=2.0) for s in range(1, 11 if how == "truncated" else 121)]
    if how == "replaced":
        write(tmp_path / "new.jsonl", new)
        os.replace(tmp_path / "new.jsonl", path)
    else:
        with open(path, "r+") as f:  # same inode: cut, or overwritten with other records, longer than before
            f.truncate(0)
            f.writelines(json.dumps(r) + "\n" for r in new)
    assert tail.refresh() and tail.resets == 1
    assert as_lists(tail.series()) == as_lists(MetricsTail_fresh(path).series())
    assert set(tail.series()["g_loss"][1]) == {2.0}


def MetricsTail_fresh(path):
    tail = MetricsTail(path)
    tail.refresh()
    return tail


def test_a_missing_file_is_empty_and_its_removal_clears_the_chart(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert not tail.refresh() and tail.series() == {}
    write(path, [window(1)])
    assert tail.refresh() and tail.n_windows == 1
    path.unlink()
    assert tail.refresh() and tail.series() == {} and tail.n_windows == 0


def test_steps_logged_again_after_a_resume_replace_the_old_ones(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write(path, [window(s, g_loss=9.0) for s in range(1, 3001)])  # killed at step 3000
    tail = MetricsTail(path)
    tail.refresh()
    tail.series()
    write(path, [window(s, g_loss=1.0) for s in range(2001, 4001)], mode="a")  # resumed from step 2000
    write(path, [{"kind": "epoch", "epoch": 1, "g_loss": 9.0}, {"kind": "epoch", "epoch": 1, "g_loss": 1.0}], "a")
    tail.refresh()
    x, y = tail.series()["g_loss"]
    assert tail.n_windows == 4000 and np.all(np.diff(x) > 0)  # never backwards
    assert set(y[x > 20.0]) == {1.0}  # only the resumed attempt's values after the checkpoint
    assert [r["g_loss"] for r in tail.epochs()] == [1.0]
    deduped = runs.superseded_dropped(disk.read_jsonl(path))
    write(tmp_path / "clean.jsonl", [r for r in deduped if r["kind"] == "window"])
    assert as_lists(tail.series()) == as_lists(MetricsTail_fresh(tmp_path / "clean.jsonl").series())


def test_downsampling_keeps_at_most_max_points_real_points_first_last_and_every_spike():
    rng = np.random.default_rng(0)
    n = 200_000
    x = np.arange(n) / 1000
    y = rng.normal(1.0, 0.05, n)
    spikes = [777, 123_456, 199_998]
    y[spikes] = [9.0, -7.0, 5.0]
    xs, ys = downsample(x, y, max_points=2000)
    assert 1000 <= len(xs) <= 2000
    assert np.all(np.diff(xs) > 0)
    index = np.searchsorted(x, xs)
    assert np.array_equal(x[index], xs) and np.array_equal(y[index], ys)  # every point is a real record
    assert xs[0] == x[0] and xs[-1] == x[-1]
    assert set(spikes) <= set(index.tolist())
    # the envelope: every run of records between two drawn points stays within the drawn neighbours' range
    size = metrics_tail.bucket_size(n, 2000)
    for b in range(0, n, size * 97):
        chunk = y[b:b + size]
        drawn = ys[(xs >= x[b]) & (xs <= x[min(b + size, n) - 1])]
        assert drawn.min() == chunk.min() and drawn.max() == chunk.max()


def test_downsampling_leaves_short_series_alone_and_drops_missing_values():
    xs, ys = downsample(np.arange(5.0), np.array([1.0, np.nan, 3.0, 4.0, np.nan]))
    assert xs.tolist() == [0.0, 2.0, 3.0] and ys.tolist() == [1.0, 3.0, 4.0]


def test_the_incremental_series_equal_a_fresh_reader_and_plain_downsampling(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path, max_points=200)
    rng = np.random.default_rng(1)
    step = 0
    for batch in (50, 150, 300, 1, 1, 700, 2000, 3):  # through several bucket sizes
        records = []
        for _ in range(batch):
            step += 1
            records.append(window(step, g_loss=float(rng.normal()), cycle=float(rng.normal())))
        write(path, records, mode="a")
        tail.refresh()
        series = tail.series()
        assert max(len(y) for _, y in series.values()) <= 200
        assert as_lists(series) == as_lists(MetricsTail_fresh_small(path).series())
        all_records = disk.read_jsonl(path)
        x = np.array([window_epoch(r) for r in all_records])
        for key in ("g_loss", "cycle"):
            expected = downsample(x, np.array([r[key] for r in all_records]), 200)
            assert [list(a) for a in series[key]] == [list(a) for a in expected]


def MetricsTail_fresh_small(path):
    tail = MetricsTail(path, max_points=200)
    tail.refresh()
    return tail


def test_series_absent_from_a_run_are_not_drawn(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write(path, [window(s) for s in range(1, 5001)])
    tail = MetricsTail(path)
    tail.refresh()
    assert set(tail.series()) == {"g_loss", "d_loss", "d_real", "d_fake"}
    fig = training_charts.series_figure(tail.series())
    assert {t.name for t in fig.data} == {"G loss", "D loss", "D(x)", "D(G(z))"}
    assert all(len(t.x) <= metrics_tail.MAX_POINTS for t in fig.data)


def test_a_roll_back_inside_cached_buckets_recomputes_them(tmp_path):
    """The resumed attempt re-logs steps whose buckets were already summarised (same bucket size before and after):
    they are summarised again from the new values."""
    path = tmp_path / "metrics.jsonl"
    write(path, [window(s, g_loss=9.0) for s in range(1, 3001)])
    tail = MetricsTail(path, max_points=200)
    tail.refresh()
    before = metrics_tail.bucket_size(tail.n_windows, 200)
    assert max(tail.series()["g_loss"][1]) == 9.0
    write(path, [window(s, g_loss=1.0) for s in range(1001, 3001)], mode="a")  # resumed from step 1000
    tail.refresh()
    assert metrics_tail.bucket_size(tail.n_windows, 200) == before
    x, y = tail.series()["g_loss"]
    assert set(y[x > 10.0]) == {1.0}
    write(tmp_path / "clean.jsonl", [window(s, g_loss=9.0) for s in range(1, 1001)]
          + [window(s, g_loss=1.0) for s in range(1001, 3001)])
    assert as_lists(tail.series()) == as_lists(MetricsTail_fresh_small(tmp_path / "clean.jsonl").series())


def test_the_tail_knows_what_the_windows_d_outputs_are(tmp_path):
    """The live chart labels D(x) / D(G(z)) by the run's d_reading; a log from before readings has none."""
    path = tmp_path / "metrics.jsonl"
    write(path, [window(1), window(2)])
    old = MetricsTail(path)
    old.refresh()
    assert old.d_reading is None
    write(path, [window(3, d_reading="critic")], mode="a")
    old.refresh()
    assert old.d_reading == "critic"
