"""Training end to end on tiny real data: every preset writes the run contract; stop, resume, snapshots, strategy."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gan_core import config, runs
from gan_core.explore import grids_and_gifs
from gan_core.files import pictures
from gan_core.inference import Generator
from gan_core.tasks import train
from checkpoints import checkpoint_tensors

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("private_cache")]


def tiny(preset, shared_data, **overrides):
    data = shared_data / ("celeba_align_89x109" if preset in ("celeba_gray64", "faces_rgb64") else "mnist.npz")
    values = {"data": str(data), "epochs": 1, "limit": 96, "batch_size": 32, "log_every": 2, "grid": 3}
    values.update(overrides)
    return config.from_preset(preset, values)


def assert_contract(run: runs.RunDir, epochs: int):
    cfg = run.config()
    status = run.status()
    assert status["state"] == "done" and status["epoch"] == epochs and status["step"] == status["total_steps"]
    windows, per_epoch = run.metrics("window"), run.metrics("epoch")
    assert windows and [r["epoch"] for r in per_epoch] == list(range(1, epochs + 1))
    for r in windows + per_epoch:
        assert {"g_loss", "d_loss", "d_real", "d_fake", "images_per_sec"} <= set(r)
        assert all(np.isfinite(r[k]) for k in ("g_loss", "d_loss", "d_real", "d_fake"))
    # every step's time, and the epoch's time split into steps and the side work after them
    assert sum(len(w["step_ms"]) for w in windows) == status["step"]  # one per step, steps_per_call or not
    assert all(ms > 0 for w in windows for ms in w["step_ms"])
    for r in per_epoch:
        assert 0 < r["step_seconds"] <= r["seconds"] and r["train_images_per_sec"] >= r["images_per_sec"]
    side_work = run.metrics("side_work")
    assert [r["epoch"] for r in side_work] == list(range(1, epochs + 1))
    for r in side_work:
        assert set(r["seconds"]) == {"snapshot", "generator", "checkpoint"} | ({"quality"} if cfg.eval_every else set())
        assert all(s >= 0 for s in r["seconds"].values())
    assert run.fixed_z().shape == (cfg.grid ** 2, cfg.noise_dim)
    assert run.sample_epochs() == list(range(0, epochs + 1))  # 0 = before training
    side = cfg.grid * cfg.image_size + (cfg.grid + 1) * 2
    grid = pictures.read_png(run.latest_sample())
    assert grid.shape[:2] == (side, side)
    assert run.generator_epochs() == list(range(1, epochs + 1))
    assert json.loads((run.checkpoints_dir / "latest.json").read_text())["step"] == status["step"]
    assert any(run.tb_dir.iterdir())
    g = Generator.from_run(run)
    assert g.image_shape == (cfg.image_size, cfg.image_size, cfg.channels)
    assert (g.noise, g.pixel_range) == (cfg.noise, cfg.pixel_range)


@pytest.mark.parametrize("preset", ["mnist_dcgan", "mnist_dense", "celeba_gray64", "faces_rgb64",
                                    "digits32_upsample"])
def test_every_preset_trains_and_writes_the_run_contract(preset, tmp_path, shared_data):
    run = runs.create_run(tmp_path, tiny(preset, shared_data))
    seen = []
    assert train(run, progress=seen.append) == "done"
    assert_contract(run, epochs=1)
    assert [r["kind"] for r in seen][-1] == "epoch"


def test_stop_then_resume_continues_steps_and_optimizer_state(tmp_path, shared_data):
    import tensorflow as tf

    run = runs.create_run(tmp_path, tiny("mnist_dcgan", shared_data, epochs=2, limit=128))  # 4 steps/epoch
    calls = {"n": 0}

    def stop_after_five_steps():
        calls["n"] += 1
        return calls["n"] >= 5

    assert train(run, should_stop=stop_after_five_steps) == "stopped"
    status = run.status()
    assert (status["state"], status["step"], status["epoch"]) == ("stopped", 5, 1)
    assert run.latest_checkpoint() is not None

    def optimizer_iterations():
        reader = tf.train.load_checkpoint(str(run.latest_checkpoint()))
        keys = [k for k in reader.get_variable_to_shape_map() if k.startswith("g_opt/") and "iteration" in k]
        return int(reader.get_tensor(keys[0]))

    assert optimizer_iterations() == 5
    assert train(run) == "done"
    assert_contract(run, epochs=2)
    assert optimizer_iterations() == 8  # 5 restored + 3 more: the optimizer was reloaded, not restarted
    events = [r["message"] for r in run.metrics("event")]
    assert any("resumed from step_00000005: epoch 1, step 5" in m for m in events)
    assert [r["step"] for r in run.metrics("window")] == sorted({r["step"] for r in run.metrics("window")})


def test_snapshots_are_the_same_latents_through_the_same_generator(tmp_path, shared_data):
    run = runs.create_run(tmp_path, tiny("mnist_dcgan", shared_data, epochs=2))
    train(run)
    cfg = run.config()
    for epoch in (1, 2):
        g = Generator.from_run(run, epoch)
        again = pictures.grid(g.images_uint8(run.fixed_z()), cfg.grid, cfg.grid)
        saved = pictures.read_png(run.sample_path(epoch))
        assert np.abs(again.astype(int) - saved.astype(int)).max() <= 1
    # the grids of different epochs differ: the fixed latents show the generator changing
    assert not np.array_equal(pictures.read_png(run.sample_path(1)), pictures.read_png(run.sample_path(2)))
    # and cell i of the snapshot grid is seed i everywhere else in the tool
    g = Generator.from_run(run, 2)
    np.testing.assert_array_equal(grids_and_gifs.sample_grid(g, cfg.grid, cfg.grid, seed=0),
                                  pictures.grid(g.images_uint8(run.fixed_z()), cfg.grid, cfg.grid))


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, shared_data):
    script = f"""
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from gan_core import config, runs, tasks
from gan_core.devices import make_strategy
from gan_core.train import LatentTrainer
cfg = config.from_preset("mnist_dcgan", dict(data={str(shared_data / 'mnist.npz')!r}, epochs=1, limit=128,
                         batch_size=32, strategy="mirrored", grid=2))
run = runs.create_run({str(tmp_path)!r}, cfg)
t = LatentTrainer(cfg, run)
state = tasks.train(run)
import json
print("RESULT", json.dumps({{"state": state, "replicas": make_strategy("mirrored").num_replicas_in_sync}}))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.split("RESULT", 1)[1])
    assert result == {"state": "done", "replicas": 2}
    run = runs.list_runs(tmp_path)[0]
    assert_contract(run, epochs=1)


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "gan_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, **kwargs)


def test_ctrl_c_checkpoints_and_cli_resume_finishes(tmp_path, shared_data):
    proc = subprocess.Popen([sys.executable, "-m", "gan_core", "train", "--preset", "mnist_dcgan",
                             "--data", str(shared_data / "mnist.npz"), "--limit", "512", "--batch-size", "32",
                             "--epochs", "2", "--runs-dir", str(tmp_path), "--set", "log_every=1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (runs.list_runs(tmp_path) and runs.list_runs(tmp_path)[0].metrics("window")):
        time.sleep(0.2)
    run = runs.list_runs(tmp_path)[0]
    assert run.state == "running"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert "resume with: python -m gan_core train --resume" in err
    stopped = run.status()
    assert stopped["state"] == "stopped" and 0 < stopped["step"] < 32
    out = cli("train", "--resume", str(run.path), "--quiet")
    assert out.returncode == 0, out.stderr[-2000:]
    assert run.status()["state"] == "done" and run.status()["step"] == 32

    listing = cli("runs", "--runs-dir", str(tmp_path))
    assert run.name in listing.stdout and "done" in listing.stdout
    png = tmp_path / "grid.png"
    done = cli("sample", str(run.path), "--grid", "2x3", "--seed", "7", "--scale", "1", "--out", str(png))
    assert done.returncode == 0
    assert pictures.read_png(png).shape[:2] == (2 * 28 + 3 * 2, 3 * 28 + 4 * 2)
    gif = tmp_path / "run.gif"
    assert cli("gif", str(run.path), "--out", str(gif), "--fps", "2").returncode == 0
    import imageio.v3 as iio
    assert len(iio.imread(gif, index=None)) == 3  # epochs 0, 1, 2


@pytest.mark.parametrize("args,needle", [
    (["train", "--preset", "nope"], "unknown preset"),
    (["train", "--preset", "mnist_dcgan", "--epochs", "0"], "epochs must be a positive"),
    (["train", "--preset", "mnist_dcgan", "--set", "lr=1"], "unknown config field"),
    (["train", "--preset", "faces_rgb64"], "--data"),
    (["train"], "either --preset"),
    (["sample", "no/such/run", "--out", "x.png"], "no run found"),
    (["sample", "missing.keras", "--out", "x.png"], "no generator file"),
])
def test_cli_bad_arguments_exit_nonzero_with_one_line(args, needle, tmp_path):
    out = cli(*args, "--runs-dir", str(tmp_path)) if args[0] == "train" else cli(*args)
    assert out.returncode != 0
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and needle in errors[0], out.stderr[-1500:]
    assert not list(tmp_path.iterdir())  # nothing created


def test_offline_without_data_says_what_to_provide(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "KERAS_HOME": str(tmp_path / "k"), "GAN_EXPLORER_DATA": str(tmp_path),
           "GAN_EXPLORER_CACHE": str(tmp_path / "c"), "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    out = cli("train", "--preset", "mnist_dcgan", "--runs-dir", str(tmp_path / "runs"), "--epochs", "1", env=env)
    assert out.returncode != 0
    assert "mnist.npz" in out.stderr and "--data" in out.stderr
    run = runs.list_runs(tmp_path / "runs")[0]
    assert run.state == "failed" and "mnist.npz" in run.status()["error"]


def nan_after(real_make_step, bad_steps):
    """Wrap the real train step so that chosen calls report NaN losses, as a diverging GAN would."""

    def make(self):
        step = real_make_step(self)
        calls = {"n": 0}

        def poisoned(*args):
            out = step(*args)
            calls["n"] += 1
            if calls["n"] in bad_steps:
                out = {**out, "g_loss": out["g_loss"] * float("nan")}
            return out

        return poisoned

    return make


def test_nan_rolls_back_to_the_last_checkpoint_with_lower_learning_rates(tmp_path, shared_data, monkeypatch):
    from gan_core.train import LatentTrainer as Trainer

    monkeypatch.setattr(Trainer, "make_train_step", nan_after(Trainer.make_train_step, {6}))
    run = runs.create_run(tmp_path, tiny("mnist_dcgan", shared_data, epochs=2, limit=128))  # 4 steps/epoch
    assert train(run) == "done"
    events = [r["message"] for r in run.metrics("event")]
    assert any("rolled back to step_00000004" in m and "x0.5" in m for m in events), events
    assert_contract(run, epochs=2)
    import tensorflow as tf
    reader = tf.train.load_checkpoint(str(run.latest_checkpoint()))
    lr = [reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
          if k.startswith("g_opt/") and "learning_rate" in k]
    assert lr and abs(float(lr[0]) - 0.5e-4) < 1e-9


def test_nan_that_keeps_coming_back_fails_without_writing_nan_grids(tmp_path, shared_data, monkeypatch):
    from gan_core.errors import GanError
    from gan_core.train import LatentTrainer as Trainer

    monkeypatch.setattr(Trainer, "make_train_step", nan_after(Trainer.make_train_step, set(range(6, 100))))
    run = runs.create_run(tmp_path, tiny("mnist_dcgan", shared_data, epochs=3, limit=128, nan_retries=2))
    with pytest.raises(GanError, match="diverged.*2 roll-backs"):
        train(run)
    status = run.status()
    assert status["state"] == "failed" and "lower the learning rates" in status["error"]
    assert run.sample_epochs() == [0, 1]  # nothing written after the divergence


def test_steps_per_call_is_the_same_training_as_one_step_per_call(tmp_path, shared_data):
    results = {}
    for k in (1, 3):  # 7 steps per epoch, windows of 4: calls of 3+1, 3 and 3+1, 3 (never across a window)
        cfg = tiny("mnist_dense", shared_data, epochs=2, limit=224, log_every=4, precision="float32",
                   steps_per_call=k)
        run = runs.create_run(tmp_path / f"k{k}", cfg)
        assert train(run) == "done"
        assert_contract(run, epochs=2)
        results[k] = run
    one, three = results[1], results[3]
    w1, w3 = one.metrics("window"), three.metrics("window")
    assert [(r["epoch"], r["step"], r["step_in_epoch"]) for r in w1] == [(1, 4, 4), (1, 7, 7), (2, 11, 4), (2, 14, 7)]
    assert [(r["epoch"], r["step"], r["step_in_epoch"]) for r in w3] == [(r["epoch"], r["step"], r["step_in_epoch"])
                                                                         for r in w1]
    for a, b in zip(w1 + one.metrics("epoch"), w3 + three.metrics("epoch")):
        assert np.allclose([a[k] for k in ("g_loss", "d_loss", "d_real", "d_fake")],
                           [b[k] for k in ("g_loss", "d_loss", "d_real", "d_fake")], rtol=1e-6, atol=1e-6)
    t1, t3 = checkpoint_tensors(one), checkpoint_tensors(three)
    assert t1.keys() == t3.keys() and any("generator" in k for k in t1) and any("d_opt" in k for k in t1)
    for key in t1:  # weights, BatchNorm statistics, Adam moments and iteration counts
        np.testing.assert_allclose(t3[key], t1[key], rtol=1e-6, atol=1e-7, err_msg=key)
    assert int(next(v for k, v in t3.items() if k.startswith("g_opt/") and "iteration" in k)) == 14
    assert three.status()["step"] == 14


def test_steps_per_call_stops_on_the_step_it_reached(tmp_path, shared_data):
    run = runs.create_run(tmp_path, tiny("mnist_dense", shared_data, epochs=2, limit=224, log_every=4,
                                         steps_per_call=3))
    calls = {"n": 0}

    def stop_after_two_calls():
        calls["n"] += 1
        return calls["n"] >= 2

    assert train(run, should_stop=stop_after_two_calls) == "stopped"  # calls of 3 and 1 (the window's end)
    assert (run.status()["step"], [r["step"] for r in run.metrics("window")]) == (4, [4])
    assert json.loads((run.checkpoints_dir / "latest.json").read_text())["step"] == 4
    assert train(run) == "done" and run.status()["step"] == 14


def test_a_config_saved_with_precision_auto_is_resolved_once_by_the_trainer(tmp_path, shared_data):
    from gan_core.devices import precision

    run = runs.create_run(tmp_path, tiny("mnist_dense", shared_data, limit=64, precision="float32"))
    cfg = run.config()
    cfg.precision = "auto"  # as a hand-written or older config.json may say
    run.write_config(cfg)
    assert train(run) == "done"
    expected, reason = precision.resolve_precision("auto")
    assert run.config().precision == expected
    assert reason in [r["message"] for r in run.metrics("event")]


def test_quality_measured_during_training_lands_in_quality_jsonl(tmp_path, shared_data):

    run = runs.create_run(tmp_path, tiny("mnist_dcgan", shared_data, epochs=2, eval_every=1, eval_n=200))
    assert train(run) == "done"
    records = runs.read_quality(run)
    assert sorted({(r["epoch"], r["metric"]) for r in records}) == [
        (e, m) for e in (1, 2) for m in ("classifier_fid", "classifier_score", "mode_coverage")]
    assert all(r["n"] == 200 and r["value"] > r["floor"] for r in records if r["metric"] == "classifier_fid")
    events = [r["message"] for r in run.metrics("event")]
    assert sum(m.startswith("quality at epoch") for m in events) == 2


def test_quality_that_cannot_be_measured_warns_and_training_goes_on(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_EVALUATORS", str(tmp_path / "no-evaluators"))
    run = runs.create_run(tmp_path, tiny("mnist_dcgan", shared_data, eval_every=1, eval_n=100))
    assert train(run) == "done"
    warnings = [r for r in run.metrics("event") if r.get("level") == "warning"]
    assert warnings and "quality at epoch 1 not measured: no evaluator classifier" in warnings[0]["message"]
    assert not (run.path / "quality.jsonl").exists()
