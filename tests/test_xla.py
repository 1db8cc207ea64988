"""XLA (jit_compile=on) on the CPU: the same training as without it, for every task.

"auto" turns XLA on only where a GPU is visible, so without these tests the compiled step would first run on a
user's GPU. Each task trains a few steps of a tiny run twice from the same seed, XLA off and on, and every network
weight and BatchNorm statistic must agree to float32 rounding (XLA fuses and reorders the arithmetic, so not bit for
bit). The runs use float32: bfloat16 would hide a real difference under its own rounding.

XLA's random generators give other numbers for the same key, so the trainers make a step's keyed draws (noise,
classes, the image pool's swaps) outside the compiled step. Keras's Dropout draws inside it, so here the networks are
built without dropout: with it, XLA and not train on different masks (as two seeds would). And they train with SGD
(the `sgd` fixture): Adam's first steps are nearly sign(gradient), which rounding flips where a gradient is ~0."""
import numpy as np
import pytest

from checkpoints import initial_weights, network_weights, update_difference
from gan_core import config, runs, tasks

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("private_cache")]

TINY = {"epochs": 1, "limit": 64, "batch_size": 16, "log_every": 2, "grid": 2, "eval_every": 0, "seed": 5,
        "precision": "float32"}
# preset, its tiny settings, and how far XLA's update may differ (a share of the update's size). Measured on this
# CPU: 2.4e-7, 1.8e-6, 1.1e-6 and 5.0e-3. CycleGAN's is larger with or without its pool (4.3e-3 at pool_size 0),
# while its losses agree to 1e-5: its instance norms over 8 narrow channels amplify XLA's reordered rounding.
TASKS = {
    "latent": ("mnist_dense", {}, 1e-4),
    "latent, conditional, with EMA": ("mnist_cdcgan", {"ema_decay": 0.9}, 1e-4),
    "pix2pix": ("pix2pix_edges_digits", {"filters": 8}, 1e-4),
    "cyclegan, with its image pool": ("cyclegan_mnist_fashion", {"filters": 8, "res_blocks": 1, "pool_size": 8},
                                      2e-2),
}


def trained(root, preset, values, jit):
    run = runs.create_run(root / jit, config.from_preset(preset, {**values, "jit_compile": jit}))
    assert tasks.train(run) == "done"
    return run


@pytest.fixture
def no_dropout(monkeypatch):
    import keras

    monkeypatch.setattr(keras.layers, "Dropout", lambda rate, **_: keras.layers.Identity())


@pytest.mark.parametrize("what", list(TASKS))
def test_xla_step_trains_the_same_weights_as_the_plain_step(tmp_path, mnist_npz, fashion_mnist, no_dropout, sgd, what):
    preset, extra, tolerance = TASKS[what]
    values = {**TINY, "data": str(mnist_npz), **extra}
    if preset.startswith("cyclegan"):
        values["data_b"] = str(fashion_mnist)
    plain, xla = (trained(tmp_path, preset, values, jit) for jit in ("off", "on"))
    for run, said in ((plain, "jit_compile off"), (xla, "jit_compile on")):
        assert any(said in r["message"] for r in run.metrics("event")), f"{run.name} did not log {said!r}"
    init, a, b = initial_weights(tmp_path, plain.config()), network_weights(plain), network_weights(xla)
    assert a.keys() == b.keys() == init.keys() and len(a) >= 4
    difference = update_difference(init, a, b)
    print(f"{what}: XLA's update differs from the plain step's by {difference:.2e} of its size")
    assert difference < tolerance
    windows = [(run.metrics("window")) for run in (plain, xla)]
    assert [r["step"] for r in windows[0]] == [r["step"] for r in windows[1]]
    for key in ("g_loss", "d_loss"):
        assert np.allclose([r[key] for r in windows[0]], [r[key] for r in windows[1]], rtol=1e-4), key
