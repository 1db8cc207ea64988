"""Faults: kill -9 at random moments, two trainers on one run, a read-only runs folder."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gan_core import config, runs

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def trainer(run_path, *extra):
    return subprocess.Popen([sys.executable, "-m", "gan_core", "train", "--resume", str(run_path), "--quiet", *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def every_file_parses(run: runs.RunDir) -> None:
    json.loads(run.status_path.read_text())
    json.loads(run.config_path.read_text())
    lines = run.metrics_path.read_text().splitlines()
    for line in lines[:-1]:
        json.loads(line)  # only the very last line may be torn
    assert runs.read_jsonl(run.metrics_path)
    if (run.checkpoints_dir / "latest.json").exists():
        json.loads((run.checkpoints_dir / "latest.json").read_text())


def wait_for_step(run, minimum, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if runs.read_json(run.status_path, {}).get("step", 0) >= minimum:
            return
        time.sleep(0.05)
    raise AssertionError(f"no step {minimum} within {timeout}s")


def test_kill_9_at_random_moments_loses_at_most_one_checkpoint_interval(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    cfg = config.from_preset("mnist_dcgan", {"data": str(shared_data / "mnist.npz"), "epochs": 6, "limit": 192,
                                             "batch_size": 32, "log_every": 1, "grid": 2})  # 6 steps an epoch
    run = runs.create_run(tmp_path / "runs", cfg)
    rng = random.Random(1234)
    for kill in range(3):
        proc = trainer(run.path)
        before = runs.read_json(run.status_path, {}).get("step", 0)
        wait_for_step(run, before + 1)
        time.sleep(rng.uniform(0.0, 1.5))  # mid-step, mid-checkpoint or mid-write: wherever it lands
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        every_file_parses(run)
        assert run.state == "interrupted"
        killed_at = run.status()["step"]
        latest = runs.read_json(run.checkpoints_dir / "latest.json", None)
        saved = latest["step"] if latest else 0
        assert killed_at - saved <= cfg.checkpoint_every * 6  # at most one checkpoint interval
    proc = trainer(run.path)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    status = run.status()
    assert status["state"] == "done" and status["step"] == 36 and status["epoch"] == 6
    every_file_parses(run)
    assert run.sample_epochs()[-1] == 6 and run.load_generator(6).noise_dim == 100
    latest = runs.read_json(run.checkpoints_dir / "latest.json")
    assert (run.checkpoints_dir / latest["dir"] / "ckpt.index").is_file()


def test_two_trainers_on_one_run_exactly_one_trains(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    cfg = config.from_preset("mnist_dcgan", {"data": str(shared_data / "mnist.npz"), "epochs": 2, "limit": 256,
                                             "batch_size": 32, "grid": 2})
    run = runs.create_run(tmp_path / "runs", cfg)
    first, second = trainer(run.path), trainer(run.path)
    results = [p.communicate(timeout=300) + (p.returncode,) for p in (first, second)]
    codes = sorted(code for _, _, code in results)
    assert codes == [0, 2], results
    refused = next(err for _, err, code in results if code == 2)
    assert "already being trained" in refused
    assert run.status()["state"] == "done" and run.status()["step"] == 16


def test_disk_full_is_a_clear_error_and_keeps_the_last_checkpoint(tmp_path, shared_data, monkeypatch):
    import errno

    from gan_core.errors import GanError
    from gan_core.train import Trainer, train

    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    cfg = config.from_preset("mnist_dcgan", {"data": str(shared_data / "mnist.npz"), "epochs": 2, "limit": 128,
                                             "batch_size": 32, "grid": 2})
    run = runs.create_run(tmp_path / "runs", cfg)
    real_save = Trainer.save_generator

    def full_disk_in_epoch_two(self, epoch):
        if epoch == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(run.generators_dir / "epoch_0002.keras"))
        real_save(self, epoch)

    monkeypatch.setattr(Trainer, "save_generator", full_disk_in_epoch_two)
    with pytest.raises(GanError, match="No space left on device.*free disk space.*resume"):
        train(run)
    assert run.state == "failed" and "No space left" in run.status()["error"]
    assert runs.read_json(run.checkpoints_dir / "latest.json")["epoch"] == 1  # epoch 1's checkpoint kept
    monkeypatch.setattr(Trainer, "save_generator", real_save)
    assert train(run) == "done" and run.status()["step"] == 8


def test_unwritable_runs_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    out = subprocess.run([sys.executable, "-m", "gan_core", "train", "--preset", "mnist_dcgan",
                          "--runs-dir", str(blocker / "runs")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "cannot create the runs folder" in out.stderr
    assert blocker.read_text().startswith("a file")  # nothing lost
