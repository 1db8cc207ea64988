"""The step-through lab's engine: each button changes what it says, and the knobs are checked."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.io
import pytest

from gan_core.errors import ConfigError
from gan_core.explore.step_lab import HISTORY_POINTS, History, Knobs, StepLab, curves_figure


@pytest.fixture(scope="module")
def lab(mnist_npz):
    return StepLab(str(mnist_npz), n_images=512)


def test_a_d_step_leaves_g_and_its_grid_alone_and_a_g_step_moves_them(lab):
    before = lab.grid()
    g_weights = [v.numpy().copy() for v in lab.G.variables]
    lab.d_step()
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(g_weights, lab.G.variables))
    assert np.array_equal(before, lab.grid())
    lab.g_step()
    assert not np.array_equal(before, lab.grid())


def test_a_full_step_makes_k_d_updates_then_one_g_update_and_knobs_apply(lab):
    lab.set_knobs(Knobs(d_steps=3, g_lr=1e-3, loss="lsgan", real_label=0.9))
    start = len(lab.history.rows)
    lab.full_step()
    assert [r["network"] for r in lab.history.rows[start:]] == ["D", "D", "D", "G"]
    assert float(lab.g_opt.learning_rate.numpy()) == pytest.approx(1e-3)
    view = lab.view()
    assert view["grid"].shape == (8 * 28 + 9 * 2, 8 * 28 + 9 * 2, 1) and len(view["d_real_scores"]) == 64
    # lsgan's D output is a least-squares score, shown as it is (not a probability): the last batch's raw scores
    assert view["reading"].name == "ls_score" and lab.history.rows[-1]["d_reading"] == "ls_score"
    assert lab.history.rows[-1]["d_fake"] == pytest.approx(float(np.mean(view["d_fake_scores"])), abs=1e-5)


@pytest.mark.parametrize("knobs, message", [
    (Knobs(loss="wgan-gp"), "the lab's loss is one of"),
    (Knobs(loss="hinge", real_label=0.9), "label smoothing means nothing to the hinge loss"),
    (Knobs(d_lr=0), "d_lr must be between 0 and 1"),
    (Knobs(d_steps=0), "D steps per G step must be 1 to 20"),
])
def test_bad_knobs_are_refused_and_the_old_ones_kept(lab, knobs, message):
    kept = lab.knobs
    with pytest.raises(ConfigError, match=message):
        lab.set_knobs(knobs)
    assert lab.knobs == kept


LABS_BUILT_AND_DROPPED = """
import gc, json, sys
from gan_core.explore.step_lab import StepLab

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))

def build_and_drop():
    lab = StepLab(sys.argv[1], n_images=512)
    lab.full_step()
    lab.view()
    del lab
    gc.collect()

build_and_drop()  # TensorFlow's own one-off allocations (kernels, thread pools) come with the first lab
start = rss_mb()
for _ in range(int(sys.argv[2])):
    build_and_drop()
print(json.dumps({"start": start, "end": rss_mb()}))
"""


@pytest.mark.slow
def test_dropped_labs_give_their_memory_back(mnist_npz):
    """Each Start over (and each closed tab) drops a lab: its networks and traced steps must go with it (each lab
    kept ~30 MB before, for TensorFlow's custom-gradient registry held its traced graphs)."""
    n = 5
    done = subprocess.run([sys.executable, "-c", LABS_BUILT_AND_DROPPED, str(mnist_npz), str(n)], capture_output=True,
                          text=True, timeout=600, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    rss = json.loads(done.stdout.strip().splitlines()[-1])
    assert (rss["end"] - rss["start"]) / n < 8, f"RSS grew {rss['start']:.0f} -> {rss['end']:.0f} MB over {n} labs"


def _played(updates: int) -> History:
    """A history fed `updates` alternating D and G updates whose figures say which update they come from."""
    history = History()
    for update in range(1, updates + 1):
        network = "DG"[update % 2 == 0]
        history.add(network=network, g_loss=update / updates, d_loss=float(network == "D"), d_real=0.5, d_fake=0.5)
    return history


def test_a_long_play_keeps_a_bounded_history_whose_chart_costs_what_a_short_ones_does():
    """Play once kept and drew every update: at 100,000 updates each tick sent a ~10 MB chart. The history now keeps
    at most HISTORY_POINTS points, spread over the whole run, and the chart's JSON stays the size it has early on."""
    short, long = _played(HISTORY_POINTS - 1), _played(100_000)  # short: every update drawn
    assert long.updates == 100_000 and long.last["update"] == 100_000
    points = long.points()
    assert len(points) <= HISTORY_POINTS + 1 and points[-1] is long.last
    updates = [p["update"] for p in points]
    assert updates == sorted(set(updates)) and updates[0] <= 100_000 / HISTORY_POINTS * 2  # the start is still there
    assert max(b - a for a, b in zip(updates, updates[1:])) <= 2 * long.span  # and no stretch of the run is missing
    assert all(p["g_loss"] == p["update"] / 100_000 for p in points)  # each point is one real update's figures

    def chart_bytes(history):
        return len(plotly.io.to_json(curves_figure(history.points()), validate=False))

    assert chart_bytes(long) < 1.5 * chart_bytes(short)


def test_a_decimated_history_keeps_d_and_g_updates_alike():
    """Keeping every k-th update would keep only G's when D and G alternate; one update drawn per block does not."""
    kept = [p["network"] for p in _played(100_000).points()]
    assert 0.35 < kept.count("D") / len(kept) < 0.65
