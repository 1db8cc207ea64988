"""bench/quality_at_speed.py end to end on tiny real data, and the TF DCGAN tutorial's baseline in its epoch/save
mode."""
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quality_at_speed_smoke(shared_data, tmp_path):
    """One epoch of 1,024 images each for the baseline and gan_core's mnist_dcgan, scored at n=500: every section
    of the JSON is there with plausible numbers, and the kept generators load through gan_core's Generator."""
    out, keep = tmp_path / "qas.json", tmp_path / "keep"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "quality_at_speed.py"), "--data", str(shared_data / "mnist.npz"),
         "--limit", "1024", "--baseline-epochs", "1", "--n", "500", "--recipe", "mnist_dcgan", "--no-fill",
         "--out", str(out), "--keep", str(keep)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "GAN_EXPLORER_CACHE": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    for heading in ("same epochs", "same wall time", "time to quality", "images/s"):
        assert heading in proc.stdout
    summary = json.loads(out.read_text())
    assert {"floors", "contestants", "same_epochs", "same_wall_time", "time_to_quality", "images_per_sec",
            "settings"} <= set(summary)
    assert list(summary["contestants"]) == ["tutorial baseline", "mnist_dcgan"]
    assert summary["floors"]["n"] == 500 and 0 < summary["floors"]["classifier_fid"] < 50
    for name, c in summary["contestants"].items():
        assert [r["epoch"] for r in c["epochs"]] == [1], name
        row = c["epochs"][0]
        assert math.isfinite(row["fid"]) and row["fid"] > 0
        assert 1 <= row["score"] <= 10 and 0 <= row["classes"] <= 10 and row["kl"] >= 0 and row["n"] == 500
        assert row["train_seconds"] > 0 and row["images"] == 1024
        assert c["images_per_sec"] > 0 and summary["images_per_sec"][name] == c["images_per_sec"]
        assert Path(row["path"]).is_file()
    assert summary["same_epochs"]["final"]["epoch"] == 1 and summary["same_epochs"]["rows"][0]["fid"].keys() == {
        "tutorial baseline", "mnist_dcgan"}
    wall = summary["same_wall_time"]
    assert wall["wall_s"] == summary["contestants"]["tutorial baseline"]["epochs"][-1]["train_seconds"]
    assert set(wall["contestants"]) == set(summary["contestants"])
    assert wall["contestants"]["tutorial baseline"]["epoch"] == 1
    ttq = summary["time_to_quality"]
    assert ttq["target"]["kl_max"] == 0.05 and set(ttq["contestants"]) == set(summary["contestants"])
    for r in ttq["contestants"].values():
        assert isinstance(r["reached"], bool) and r["epochs_tried"] == 1
    # the baseline's folder is readable by gan_core itself
    from gan_core.inference import Generator

    g = Generator.load(keep / "baseline" / "epoch_0001.keras")
    assert (g.noise_dim, g.noise, g.pixel_range) == (100, "normal", "tanh")
    assert g(np.zeros((2, 100), "float32")).shape == (2, 28, 28, 1)


@pytest.mark.slow
def test_baseline_seconds_cutoff(shared_data, tmp_path):
    """--seconds stops mid-epoch and saves that partial epoch; the timeline's training time excludes saving."""
    save = tmp_path / "b"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "tutorial_baseline.py"), "--data", str(shared_data / "mnist.npz"),
         "--limit", "2048", "--epochs", "3", "--seconds", "0.001", "--save-dir", str(save)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["total_steps"] == 1 and result["epochs"] == 1
    timeline = [json.loads(line) for line in (save / "timeline.jsonl").read_text().splitlines()]
    assert len(timeline) == 1 and timeline[0]["partial"] is True and timeline[0]["steps"] == 1
    assert timeline[0]["train_seconds"] == pytest.approx(result["train_seconds"], abs=1e-3)
    assert Path(timeline[0]["path"]).is_file() and json.loads((save / "config.json").read_text())["noise_dim"] == 100


def test_comparisons_from_rows():
    """The three comparisons on hand-made rows: same epochs, last epoch within W, first epoch at the target."""
    qas = _bench_module("quality_at_speed")

    def rows(*items):
        return [{"epoch": e, "train_seconds": s, "images": e * 1000, "fid": f, "score": 5.0, "classes": k,
                 "num_classes": 10, "kl": kl} for e, s, f, k, kl in items]

    contestants = {
        qas.BASELINE: {"epochs": rows((1, 100, 30.0, 8, 0.2), (2, 200, 20.0, 10, 0.04))},
        "mnist_dcgan": {"epochs": rows((1, 60, 28.0, 9, 0.1), (2, 120, 21.0, 10, 0.06), (3, 180, 15.0, 10, 0.03),
                                       (4, 240, 12.0, 10, 0.02))},
    }
    se = qas.same_epochs(contestants)
    assert [r["epoch"] for r in se["rows"]] == [1, 2]
    assert se["final"]["epoch"] == 2 and se["final"]["no_worse"] is False
    sw = qas.same_wall_time(contestants, 200.0, "test")
    assert sw["contestants"]["mnist_dcgan"]["epoch"] == 3 and sw["contestants"][qas.BASELINE]["epoch"] == 2
    ttq = qas.time_to_quality(contestants, 0.05, 1200)
    assert ttq["contestants"][qas.BASELINE]["epoch"] == 2
    fast = ttq["contestants"]["mnist_dcgan"]
    assert fast["train_seconds"] == 180 and fast["within_goal"]
    assert qas.parse_recipe("mnist_dcgan_fast:g_lr=3e-4,beta_1=0.5") == ("mnist_dcgan_fast",
                                                                          ["g_lr=3e-4", "beta_1=0.5"])
    with pytest.raises(SystemExit):
        qas.parse_recipe("mnist_dcgan:oops")
    assert qas.images_per_sec(contestants["mnist_dcgan"]) == pytest.approx(4000 / 240)


def test_step_flops_of_seed_000s_networks_counted_by_hand():
    """G: Dense 100x12544 + ConvT 7x7x(5x5x256x128) + 7x7x(5x5x128x64) + 14x14x(5x5x64x1) multiply-adds; D: Conv
    14x14x(5x5x1x64) + 7x7x(5x5x64x128) + Dense 6272; a step is 3 G + 7 D forwards (the issue's 455 MFLOP)."""
    peak, seed = _bench_module("peak"), _bench_module("tutorial_baseline")
    g = 2 * (100 * 12544 + 49 * 25 * 256 * 128 + 49 * 25 * 128 * 64 + 196 * 25 * 64)
    d = 2 * (196 * 25 * 64 + 49 * 25 * 64 * 128 + 6272)
    assert peak.forward_flops(seed.make_generator_model()) == g
    assert peak.forward_flops(seed.make_discriminator_model()) == d
    flops, counted = peak.step_flops(g, d)
    assert flops == 3 * g + 7 * d and round(flops / 1e6) == 455 and "simultaneous" in counted
    assert peak.step_flops(g, d, "alternating")[0] == 4 * g + 8 * d


def test_cpu_peak_names_its_assumptions(tmp_path):
    peak = _bench_module("peak")
    info = tmp_path / "cpuinfo"
    cores = len(os.sched_getaffinity(0))
    info.write_text("processor\t: 0\ncpu MHz\t\t: 2000.000\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16\n")
    bf16, f32 = peak.cpu_peak("mixed_bfloat16", str(info)), peak.cpu_peak("float32", str(info))
    assert bf16.flops_per_s == cores * 2e9 * 1024 and "AMX" in bf16.assumptions and "2.00 GHz" in bf16.assumptions
    assert f32.flops_per_s == cores * 2e9 * 64 and f"{cores} cores" in f32.assumptions and "nominal" in f32.assumptions
    info.write_text("cpu MHz\t\t: 3000.000\nflags\t\t: avx2 fma\n")
    assert peak.cpu_peak("mixed_bfloat16", str(info)).flops_per_s == cores * 3e9 * 32  # no bf16 units: float32's


def test_cpu_peak_at_the_measured_clock_and_amd_vector_widths(tmp_path):
    """A VM's cpuinfo gives the nominal clock (2.6 GHz on an EPYC that runs at ~4): the measured clock wins. Zen 4
    (family 25) runs AVX-512 on 256-bit units, Zen 5 (26) at full width."""
    peak = _bench_module("peak")
    info = tmp_path / "cpuinfo"
    cores = len(os.sched_getaffinity(0))
    amd = "vendor_id\t: AuthenticAMD\ncpu family\t: {}\ncpu MHz\t\t: 2600.000\nflags\t\t: avx512f avx512_bf16\n"
    info.write_text(amd.format(26))
    zen5 = peak.cpu_peak("mixed_bfloat16", str(info), clock_ghz=4.0)
    assert zen5.flops_per_s == cores * 4e9 * 128 and "4.00 GHz (measured" in zen5.assumptions
    info.write_text(amd.format(25))
    assert peak.cpu_peak("mixed_bfloat16", str(info), clock_ghz=4.0).flops_per_s == cores * 4e9 * 64
    assert peak.cpu_peak("float32", str(info)).flops_per_s == cores * 2.6e9 * 32


def test_measured_clock_is_a_plausible_clock_or_none():
    peak = _bench_module("peak")
    assert peak.measured_clock_ghz(compiler="no-such-compiler") is None
    ghz = peak.measured_clock_ghz()
    if shutil.which("cc") and platform.machine() == "x86_64":
        assert 0.5 < ghz < 7.0
    else:
        assert ghz is None


def test_throughput_figures_from_step_times():
    """p50/p95 within a run, steps-only and with-side-work images/s; the machine probe's own p95/p50."""
    tt = _bench_module("train_throughput")
    steps = [100.0] * 18 + [150.0, 300.0]  # ms
    r = tt.summarise_steps(steps, batch=10, wall_s=5.0)
    assert r["images"] == 200 and r["images_per_sec"] == pytest.approx(200 / 2.25)
    assert r["with_side_work"] == 40 and (r["p50_ms"], r["p95_ms"]) == (100.0, 150.0) and r["p95_over_p50"] == 1.5
    probe = _bench_module("peak").machine_jitter(0.2)
    assert probe["n"] >= 1 and probe["p95_ms"] >= probe["p50_ms"] > 0 and probe["p95_over_p50"] >= 1
