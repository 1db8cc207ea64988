"""The step-through lab's engine: each button changes what it says, and the knobs are checked."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_core.errors import ConfigError
from gan_core.explore.lab import Knobs, StepLab


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
    assert all(0 <= s <= 1 for s in view["d_fake_scores"])


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
from gan_core.explore.lab import StepLab

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
