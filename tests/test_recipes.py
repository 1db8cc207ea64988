"""The training options of the modern recipes, end to end on tiny real data: EMA of G, objectives, SN, DiffAugment."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_core import config, runs
from gan_core.inference import Generator
from gan_core.tasks import train
from gan_core.train import LatentTrainer as Trainer
from checkpoints import checkpoint_tensors

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("private_cache")]


def tiny(preset, shared_data, **overrides):
    faces = config.presets()[preset]["dataset"] == "folder"
    data = shared_data / ("celeba_align_89x109" if faces else "mnist.npz")
    values = {"data": str(data), "epochs": 1, "limit": 96, "batch_size": 32, "log_every": 2, "grid": 2}
    values.update(overrides)
    return config.from_preset(preset, values)


def weights(model) -> list:
    return [np.asarray(v) for v in model.get_weights()]


# --- EMA of G ---------------------------------------------------------------------------------------------------

def test_ema_is_the_saved_generator_is_the_same_for_any_steps_per_call_and_resumes_exactly(tmp_path, shared_data):
    made = {}
    for k in (1, 2):  # 4 steps per epoch: calls of 2+2 with k=2
        cfg = tiny("mnist_dense", shared_data, limit=128, precision="float32", ema_decay=0.6, steps_per_call=k)
        run = runs.create_run(tmp_path / f"k{k}", cfg)
        assert train(run) == "done"
        made[k] = run
    one, two = checkpoint_tensors(made[1]), checkpoint_tensors(made[2])
    assert any(key.startswith("generator_ema/") for key in one) and one.keys() == two.keys()
    for key in one:
        np.testing.assert_allclose(two[key], one[key], rtol=1e-6, atol=1e-7, err_msg=key)

    run = made[2]
    trainer = Trainer(run.config(), run)
    trainer.build()  # restores the last checkpoint, as a resume does
    assert trainer.step == 4
    saved = weights(Generator.from_run(run, 1).model)
    for got, want in zip(weights(trainer.G_ema), saved):  # the file the app loads is the average, restored exactly
        np.testing.assert_array_equal(got, want)
    assert not all(np.array_equal(a, b) for a, b in zip(weights(trainer.G), saved))  # and not the raw G
    events = [r["message"] for r in run.metrics("event")]
    assert any(m.startswith("EMA of G's weights: decay 0.6") for m in events)


def test_ema_switched_on_for_an_old_run_starts_from_the_restored_generator(tmp_path, shared_data):
    run = runs.create_run(tmp_path, tiny("mnist_dense", shared_data, limit=64))
    assert train(run) == "done"
    values = run.config_dict()
    values.update(ema_decay=0.9, epochs=2)  # as a learner may edit config.json before --resume
    (run.path / "config.json").write_text(json.dumps(values))
    assert train(run) == "done"
    events = [r["message"] for r in run.metrics("event")]
    assert any("the average starts from the restored generator" in m for m in events)
    assert any(k.startswith("generator_ema/") for k in checkpoint_tensors(run))


def test_ema_sn_hinge_r1_diffaugment_under_the_mirrored_strategy_on_two_logical_cpus(tmp_path, shared_data):
    script = f"""
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import json
import numpy as np
from gan_core import config, runs, tasks
from gan_core.inference import Generator
from gan_core.train import LatentTrainer
cfg = config.from_preset("mnist_dcgan", dict(data={str(shared_data / 'mnist.npz')!r}, epochs=1, limit=128,
                         batch_size=32, strategy="mirrored", grid=2, ema_decay=0.5, spectral_norm=True,
                         loss="hinge", r1_gamma=1.0, augment="translation,cutout,color"))
run = runs.create_run({str(tmp_path)!r}, cfg)
state = tasks.train(run)
t = LatentTrainer(run.config(), run)
t.build()
replicas = [np.array_equal(v.value.values[0].numpy(), v.value.values[1].numpy())
            for m in (t.G_ema, t.D) for v in m.weights]  # D's weights include SN's u vectors
saved = Generator.from_run(run, 1).model.get_weights()
same = all(np.array_equal(a, b) for a, b in zip(t.G_ema.get_weights(), saved))
print("RESULT", json.dumps({{"state": state, "replicas_agree": all(replicas), "saved_is_ema": same}}))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.split("RESULT", 1)[1])
    assert result == {"state": "done", "replicas_agree": True, "saved_is_ema": True}


# --- objectives -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset,sets,extra", [
    ("mnist_dense", {"loss": "lsgan"}, ()),
    ("mnist_dense", {"loss": "hinge", "r1_gamma": 1.0}, ("d_penalty",)),
    ("mnist_dense", {"loss": "wgan-gp", "precision": "mixed_bfloat16"}, ("w_distance", "d_penalty")),
    ("mnist_dcgan", {"r1_gamma": 0.5, "r1_every": 2, "d_joint_batch": True}, ("d_penalty",)),
])
def test_each_objective_trains_and_reports_its_logs(preset, sets, extra, tmp_path, shared_data):
    run = runs.create_run(tmp_path, tiny(preset, shared_data, limit=128, **sets))
    assert train(run) == "done"
    windows = run.metrics("window")
    for record in windows:
        assert set(extra) <= set(record)
        assert all(np.isfinite(record[k]) for k in ("g_loss", "d_loss", "d_real", "d_fake", *extra))
    if "d_penalty" in extra:
        assert any(record["d_penalty"] > 0 for record in windows)
    assert run.config().loss == sets.get("loss", "bce")


# --- spectral normalisation -------------------------------------------------------------------------------------

def test_spectral_norm_trains_in_bfloat16_stops_and_resumes_with_u_in_the_checkpoint(tmp_path, shared_data):
    run = runs.create_run(tmp_path, tiny("mnist_dcgan", shared_data, epochs=2, limit=128, spectral_norm=True,
                                         precision="mixed_bfloat16"))
    calls = {"n": 0}

    def stop_after_five_steps():
        calls["n"] += 1
        return calls["n"] >= 5

    assert train(run, should_stop=stop_after_five_steps) == "stopped"
    saved = checkpoint_tensors(run)
    assert sum("sn_u" in k for k in saved) == 3  # two convolutions and the Dense
    trainer = Trainer(run.config(), run)
    trainer.build()
    restored = [layer.sn_u.numpy() for layer in trainer.D.layers if hasattr(layer, "sn_u")]
    stored = [v for k, v in saved.items() if "sn_u" in k and k.startswith("discriminator/")]
    assert len(restored) == 3 and all(any(np.array_equal(r, s) for s in stored) for r in restored)
    assert not any(np.allclose(r, 0) for r in restored)
    assert train(run) == "done"
    assert run.status()["step"] == 8


# --- DiffAugment ------------------------------------------------------------------------------------------------

def test_diffaugment_trains_and_is_the_same_training_for_any_steps_per_call(tmp_path, shared_data):
    made = {}
    for k in (1, 2):
        cfg = tiny("mnist_dcgan", shared_data, limit=128, precision="float32", steps_per_call=k,
                   augment="translation,cutout,color", r1_gamma=0.5)
        run = runs.create_run(tmp_path / f"k{k}", cfg)
        assert train(run) == "done"
        made[k] = checkpoint_tensors(run)
    assert made[1].keys() == made[2].keys()
    for key in made[1]:  # the augmentations are keyed by the step, not by the call
        np.testing.assert_allclose(made[2][key], made[1][key], rtol=1e-6, atol=1e-7, err_msg=key)


# --- the modern face presets -------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset,channels", [("faces_rgb64_modern", 3), ("faces_gray64_modern", 1)])
def test_each_modern_face_preset_trains_an_epoch_into_the_run_contract(preset, channels, tmp_path, shared_data):
    """One epoch of 96 faces: the resolved config before step 1, an epoch record, grids 0 and 1, and the saved
    generator loads as a 64x64 face model, and the checkpoint holds the raw G beside its EMA (for resuming)."""
    cfg = tiny(preset, shared_data, eval_every=0)
    assert (cfg.loss, cfg.spectral_norm, cfg.ema_decay, cfg.architecture) == ("bce", False, 0.999, "dcgan64")
    run = runs.create_run(tmp_path / "runs", cfg)
    assert train(run) == "done"
    assert run.config().to_dict() == {**cfg.to_dict(), "precision": run.config().precision}
    assert [r["epoch"] for r in run.metrics("epoch")] == [1] and run.sample_epochs() == [0, 1]
    g = Generator.from_run(run, 1)
    assert g.image_shape == (64, 64, channels) and g.noise_dim == 128
    held = {k.split("/", 1)[0] for k in checkpoint_tensors(run)}
    assert {"generator", "generator_ema", "discriminator", "g_opt", "d_opt"} <= held


# --- the notes' update schemes: D:G steps, alternating updates, gradient clipping -----------------------------------

def optimizer_steps(run: runs.RunDir) -> dict[str, int]:
    tensors = checkpoint_tensors(run)
    return {opt: int(next(v for k, v in tensors.items() if k.startswith(f"{opt}/") and "iteration" in k))
            for opt in ("g_opt", "d_opt")}


def test_d_steps_updates_g_on_every_kth_batch_only(tmp_path, shared_data):
    run = runs.create_run(tmp_path, tiny("mnist_dense", shared_data, epochs=2, d_steps=3, precision="float32"))
    assert train(run) == "done"
    assert optimizer_steps(run) == {"g_opt": 2, "d_opt": 6}  # 6 batches of 32: G learns on the 3rd and 6th


def test_alternating_update_trains_g_through_the_updated_d(tmp_path, shared_data):
    made = {}
    for update in ("simultaneous", "alternating"):  # one step each, on the same batch, z and initial weights
        cfg = tiny("mnist_dense", shared_data, update=update, precision="float32", seed=4, limit=32)
        made[update] = runs.create_run(tmp_path / update, cfg)
        assert train(made[update]) == "done"
    assert optimizer_steps(made["alternating"]) == {"g_opt": 1, "d_opt": 1}
    one, two = (checkpoint_tensors(made[u]) for u in ("simultaneous", "alternating"))
    d_keys = [k for k in one if k.startswith("d_opt/_trainable_variables/")]
    g_keys = [k for k in one if k.startswith("g_opt/_trainable_variables/")]
    # D's update is the same in both (D learns before G changed anything); G's is not: it stepped through the
    # updated D
    assert d_keys and all(np.allclose(one[k], two[k], atol=1e-7) for k in d_keys)
    assert g_keys and any(not np.allclose(one[k], two[k], atol=1e-7) for k in g_keys)
    (window,) = made["alternating"].metrics("window")
    assert np.isfinite(window["g_loss"]) and 0 < window["d_real"] < 1


def test_clip_norm_bounds_each_networks_gradient(tmp_path, shared_data, monkeypatch):
    import keras

    seen = []
    real_adam = keras.optimizers.Adam
    monkeypatch.setattr(keras.optimizers, "Adam", lambda *a, **k: seen.append(k.get("global_clipnorm")) or
                        real_adam(*a, **k))
    run = runs.create_run(tmp_path, tiny("mnist_dense", shared_data, clip_norm=0.5, precision="float32"))
    assert train(run) == "done"
    assert seen == [0.5, 0.5]
    assert config.from_preset("mnist_dense").clip_norm == 0  # off by default
