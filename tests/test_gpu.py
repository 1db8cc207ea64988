"""GPU memory and the app's device, tested with a fake device list (no GPU here): the calls made, the spawned
trainer's environment."""
import subprocess
from types import SimpleNamespace

import pytest

from gan_core import config, launch, runs
from gan_core.devices import placement
from gan_core.errors import ConfigError


class FakeTF:
    """tf.config's GPU calls, recorded."""

    def __init__(self, n_gpus=2, refuse=False):
        self.calls = []
        gpus = [SimpleNamespace(name=f"/physical_device:GPU:{i}") for i in range(n_gpus)]

        def record(name):
            def call(*args, **kwargs):
                if refuse:
                    raise RuntimeError("Physical devices cannot be modified after being initialized")
                self.calls.append((name, args))
            return call

        self.config = SimpleNamespace(
            list_physical_devices=lambda kind: gpus if kind == "GPU" else [],
            set_visible_devices=record("set_visible_devices"),
            set_logical_device_configuration=record("set_logical_device_configuration"),
            LogicalDeviceConfiguration=lambda memory_limit: ("limit", memory_limit),
            experimental=SimpleNamespace(set_memory_growth=record("set_memory_growth")))


def test_the_trainer_grows_memory_on_every_gpu_by_default():
    tf = FakeTF()
    notes = placement.configure("trainer", env={}, tf=tf)
    assert [(name, args[1]) for name, args in tf.calls] == [("set_memory_growth", True)] * 2
    assert [args[0].name for _, args in tf.calls] == ["/physical_device:GPU:0", "/physical_device:GPU:1"]
    assert "grows its memory on demand on 2 GPU(s)" in notes[0]


def test_a_memory_share_in_mib_becomes_a_logical_device_limit():
    tf = FakeTF(n_gpus=1)
    placement.configure("app", env={placement.MEMORY_ENV: "4096"}, tf=tf)
    assert tf.calls == [("set_logical_device_configuration", (tf.config.list_physical_devices("GPU")[0],
                                                               [("limit", 4096)]))]


def test_the_app_on_cpu_hides_its_gpus_and_the_trainer_ignores_that_setting():
    env = {placement.APP_DEVICE_ENV: "cpu"}
    app, trainer = FakeTF(), FakeTF()
    assert "runs its generators on the CPU" in placement.configure("app", env=env, tf=app)[0]
    assert app.calls == [("set_visible_devices", ([], "GPU"))]
    placement.configure("trainer", env=env, tf=trainer)
    assert [name for name, _ in trainer.calls] == ["set_memory_growth"] * 2


def test_no_gpu_means_no_calls_and_a_late_call_is_a_note_not_a_crash():
    tf = FakeTF(n_gpus=0)
    assert placement.configure("trainer", env={}, tf=tf) == ["no GPU visible to TensorFlow: nothing to configure"]
    assert tf.calls == []
    late = placement.configure("trainer", env={}, tf=FakeTF(n_gpus=1, refuse=True))
    assert "refused (TensorFlow's GPUs are initialised)" in late[1]


def test_the_real_tensorflow_has_the_calls_we_make():
    import tensorflow as tf

    for name in ("list_physical_devices", "set_visible_devices", "set_logical_device_configuration",
                 "LogicalDeviceConfiguration"):
        assert callable(getattr(tf.config, name)), name
    assert callable(tf.config.experimental.set_memory_growth)
    assert placement.configure("trainer", env={}, tf=tf)[0].startswith(("no GPU", "the trainer"))


@pytest.mark.parametrize("env,needle", [({placement.MEMORY_ENV: "lots"}, "neither 'grow' nor a number of MiB"),
                                        ({placement.MEMORY_ENV: "0"}, "neither 'grow' nor a number of MiB"),
                                        ({placement.APP_DEVICE_ENV: "tpu"}, "is not one of auto, cpu")])
def test_bad_settings_name_the_variable_and_the_fix(env, needle):
    with pytest.raises(ConfigError, match=needle):
        placement.configure("app", env=env, tf=FakeTF())


def test_the_spawned_trainer_gets_tensorflows_allow_growth_switch(tmp_path, monkeypatch):
    assert placement.trainer_env({})["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert placement.trainer_env({"TF_FORCE_GPU_ALLOW_GROWTH": "false"})["TF_FORCE_GPU_ALLOW_GROWTH"] == "false"
    assert "TF_FORCE_GPU_ALLOW_GROWTH" not in placement.trainer_env({placement.MEMORY_ENV: "2048"})

    seen = {}

    class FakePopen:
        pid = 12345

        def __init__(self, cmd, env, **kwargs):
            seen.update(cmd=cmd, env=env)

        def wait(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    monkeypatch.setenv(placement.APP_DEVICE_ENV, "cpu")
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    run = runs.create_run(tmp_path, config.from_preset("mnist_dense", {"data": str(tmp_path)}))
    launch.spawn(run)
    assert seen["env"]["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" and seen["env"]["PYTHONUNBUFFERED"] == "1"
    assert seen["cmd"][1:4] == ["-m", "gan_core", "train"]


# --- a run's device ------------------------------------------------------------------------------------------------

def test_a_run_on_one_gpu_hides_the_others_and_cpu_hides_them_all():
    tf = FakeTF(n_gpus=3)
    assert "training on /physical_device:GPU:1 alone" in placement.place_trainer("gpu:1", tf=tf)
    assert tf.calls == [("set_visible_devices", ([tf.config.list_physical_devices("GPU")[1]], "GPU"))]
    tf = FakeTF(n_gpus=2)
    assert "3 GPU" not in placement.place_trainer("cpu", tf=tf) and tf.calls == [("set_visible_devices", ([], "GPU"))]
    tf = FakeTF(n_gpus=2)
    assert placement.place_trainer("auto", tf=tf) is None and tf.calls == []


def test_the_train_page_offers_each_gpu_it_sees():
    assert placement.train_device_choices(tf=FakeTF(n_gpus=2)) == ["auto", "cpu", "gpu:0", "gpu:1"]
    assert placement.train_device_choices(tf=FakeTF(n_gpus=0)) == ["auto", "cpu"]


def test_a_gpu_the_machine_lacks_is_refused_naming_what_it_has():
    with pytest.raises(ConfigError, match="TensorFlow sees GPUs 0-1 on this machine"):
        placement.place_trainer("gpu:2", tf=FakeTF(n_gpus=2))
    with pytest.raises(ConfigError, match="sees no GPU"):
        placement.place_trainer("gpu:0", tf=FakeTF(n_gpus=0))


@pytest.mark.parametrize("bad", ["GPU", "gpu", "gpu:x", "cuda:0", "", "gpu:-1"])
def test_a_device_that_is_not_auto_cpu_or_gpu_n_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="device must be auto"):
        config.from_preset("mnist_dense", {"device": bad})
    assert config.from_preset("mnist_dense", {"device": "gpu:0"}).device == "gpu:0"


def test_the_trainer_is_placed_before_it_builds(tmp_path, mnist_npz):
    """The device setting reaches the trainer: a tiny run on "cpu" trains and says where."""
    from gan_core import tasks

    cfg = config.from_preset("mnist_dense", {"data": str(mnist_npz), "epochs": 1, "limit": 32, "batch_size": 32,
                                             "grid": 2, "device": "cpu", "precision": "float32"})
    run = runs.create_run(tmp_path, cfg)
    assert tasks.train(run) == "done"
    assert any(r["message"].startswith("device cpu: training on the CPU") for r in run.metrics("event"))
