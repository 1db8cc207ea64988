"""Speed options (issue #5): precision "auto", steps_per_call, jit_compile, thread settings."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gan_core import config, models, runs
from gan_core.devices import precision

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("gpus,flags,expected", [
    ([], {"fpu", "avx2", "avx512_bf16"}, "mixed_bfloat16"),
    ([], {"fpu", "amx_bf16"}, "mixed_bfloat16"),
    ([], {"fpu", "avx2", "avx512f"}, "float32"),
    ([], set(), "float32"),
    ([(8, 0)], set(), "mixed_bfloat16"),
    ([(9, 0), (8, 6)], set(), "mixed_bfloat16"),
    ([(7, 5)], {"avx512_bf16"}, "float32"),  # a GPU decides, whatever the CPU has
    ([(8, 0), (7, 0)], set(), "float32"),  # the slowest GPU decides
])
def test_auto_precision_follows_the_hardware(gpus, flags, expected):
    value, reason = precision.resolve_precision("auto", gpus=gpus, flags=flags)
    assert value == expected
    assert reason.startswith(f"precision auto -> {expected}") and "\n" not in reason


def test_concrete_precisions_pass_through_without_looking_at_the_hardware(monkeypatch):
    monkeypatch.setattr(precision, "gpu_capabilities", lambda: pytest.fail("looked for GPUs"))
    for value in ("float32", "mixed_bfloat16", "mixed_float16"):
        assert precision.resolve_precision(value)[0] == value


def test_cpu_flags_reads_the_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx512_bf16 amx_bf16\n"
                    "bugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert precision.cpu_flags(info) == {"fpu", "sse2", "avx512_bf16", "amx_bf16"}
    assert precision.cpu_flags(tmp_path / "missing") == set()


def test_jit_auto_is_on_with_a_gpu_only():
    assert precision.resolve_jit("auto", on_gpu=True)[0] is True
    assert precision.resolve_jit("auto", on_gpu=False)[0] is False
    assert precision.resolve_jit("on", on_gpu=False)[0] is True
    assert precision.resolve_jit("off", on_gpu=True)[0] is False


def test_auto_is_the_default_and_no_preset_sets_precision():
    assert config.TrainConfig().precision == "auto"
    for name in models.preset_names():
        assert "precision" not in models.preset(name).values, name
        data_b = "/x" if models.preset(name).values.get("dataset_b") else None  # a domain B is CycleGAN's alone
        assert config.from_preset(name, {"data": "/x", "data_b": data_b}).precision == "auto"


@pytest.mark.parametrize("flags,expected", [({"avx512_bf16"}, "mixed_bfloat16"), (set(), "float32")])
def test_a_new_run_saves_the_concrete_precision_and_why(flags, expected, tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "gpu_capabilities", lambda: [])
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    cfg = config.from_preset("mnist_dcgan")
    run = runs.create_run(tmp_path, cfg)
    assert json.loads(run.config_path.read_text())["precision"] == expected
    assert run.config().precision == expected
    events = [r["message"] for r in run.metrics("event")]
    assert events == [precision.resolve_precision("auto", gpus=[], flags=flags)[1]]


def test_an_explicit_precision_is_kept_and_not_logged(tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "gpu_capabilities", lambda: pytest.fail("looked for GPUs"))
    run = runs.create_run(tmp_path, config.from_preset("mnist_dcgan", {"precision": "float32"}))
    assert run.config().precision == "float32" and not run.metrics("event")
    assert precision.resolve_config(run.config()) is None  # what a resume sees: nothing to resolve


def test_real_hardware_resolves_to_a_concrete_value(tmp_path):
    run = runs.create_run(tmp_path, config.from_preset("mnist_dcgan"))
    assert run.config().precision in ("float32", "mixed_bfloat16")


def test_new_fields_take_set_strings():
    cfg = config.from_preset("mnist_dcgan", sets=["steps_per_call=4", "jit_compile=off", "threads=2",
                                                  "inter_op_threads=1", "precision=auto"])
    assert (cfg.steps_per_call, cfg.jit_compile, cfg.threads, cfg.inter_op_threads, cfg.precision) == (
        4, "off", 2, 1, "auto")


def test_threads_after_tensorflow_started_are_reported_not_raised():
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # TensorFlow's runtime is up now
    wanted = tf.config.threading.get_intra_op_parallelism_threads() + 3
    message = precision.apply_threads(wanted, 0)
    assert f"could not apply threads={wanted}" in message and "already initialised" in message
    assert precision.apply_threads(0, 0) is None


@pytest.mark.slow
def test_threads_are_applied_before_tensorflow_starts():
    script = """
from gan_core.devices import precision
print("RESULT", precision.apply_threads(1, 2))
import tensorflow as tf
threading = tf.config.threading
print("RESULT", threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    assert lines == ["RESULT TensorFlow threads: threads=1, inter_op_threads=2", "RESULT 1 2"]
