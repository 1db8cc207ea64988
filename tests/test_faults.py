"""Faults: kill -9 at random moments, two trainers on one run, a read-only runs folder."""
import contextlib
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
from gan_core.files import disk
from gan_core.inference import Generator

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
    assert disk.read_jsonl(run.metrics_path)
    if (run.checkpoints_dir / "latest.json").exists():
        json.loads((run.checkpoints_dir / "latest.json").read_text())


def wait_for_step(run, minimum, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if disk.read_json(run.status_path, {}).get("step", 0) >= minimum:
            return
        time.sleep(0.05)
    raise AssertionError(f"no step {minimum} within {timeout}s")


def test_kill_9_at_random_moments_loses_at_most_one_checkpoint_interval(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    cfg = config.from_preset("mnist_dcgan", {"data": str(shared_data / "mnist.npz"), "epochs": 12, "limit": 192,
                                             "batch_size": 32, "log_every": 1, "grid": 2})  # 6 steps an epoch
    # 72 steps: enough that no kill (each lands within 1.5 s of a step) can come after the last one
    run = runs.create_run(tmp_path / "runs", cfg)
    rng = random.Random(1234)
    for kill in range(3):
        proc = trainer(run.path)
        before = disk.read_json(run.status_path, {}).get("step", 0)
        wait_for_step(run, before + 1)
        time.sleep(rng.uniform(0.0, 1.5))  # mid-step, mid-checkpoint or mid-write: wherever it lands
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        every_file_parses(run)
        assert run.state == "interrupted"
        killed_at = run.status()["step"]
        latest = disk.read_json(run.checkpoints_dir / "latest.json", None)
        saved = latest["step"] if latest else 0
        assert killed_at - saved <= cfg.checkpoint_every * 6  # at most one checkpoint interval
    proc = trainer(run.path)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    status = run.status()
    assert status["state"] == "done" and status["step"] == 72 and status["epoch"] == 12
    every_file_parses(run)
    assert run.sample_epochs()[-1] == 12 and Generator.from_run(run, 12).noise_dim == 100
    latest = disk.read_json(run.checkpoints_dir / "latest.json")
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
    from gan_core.tasks import train
    from gan_core.train import LatentTrainer as Trainer

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
    assert disk.read_json(run.checkpoints_dir / "latest.json")["epoch"] == 1  # epoch 1's checkpoint kept
    monkeypatch.setattr(Trainer, "save_generator", real_save)
    assert train(run) == "done" and run.status()["step"] == 8


def test_unwritable_runs_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    out = subprocess.run([sys.executable, "-m", "gan_core", "train", "--preset", "mnist_dcgan",
                          "--runs-dir", str(blocker / "runs")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "cannot create the runs folder" in out.stderr
    assert blocker.read_text().startswith("a file")  # nothing lost


# --- resume never trains over trained epochs (hostile-user sweep, item 1) ---------------------------------------

def tiny_cfg(shared_data, **extra):
    return config.from_preset("mnist_dcgan", {"data": str(shared_data / "mnist.npz"), "limit": 128, "batch_size": 32,
                                             "grid": 2, **extra})  # 4 steps an epoch


@pytest.fixture
def three_epochs(tmp_path, shared_data, monkeypatch):
    """A run trained for 3 epochs (checkpoints of epochs 2 and 3 kept), in this process."""
    from gan_core.tasks import train

    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    run = runs.create_run(tmp_path / "runs", tiny_cfg(shared_data, epochs=3))
    assert train(run) == "done"
    return run


def trained_files(run):
    return {p.relative_to(run.path): p.read_bytes() for folder in (run.generators_dir, run.samples_dir)
            for p in folder.iterdir()}


def epoch_numbers(run):
    return [r["epoch"] for r in run.metrics("epoch")]


def more_epochs(run, epochs):
    from gan_core.tasks import train

    cfg = run.config()
    cfg.epochs = epochs
    run.write_config(cfg)
    return train(run)


@pytest.mark.parametrize("latest", ["{garbage", "[]", '{"epoch": 3, "step": 12}', '{"dir": "step_99999999"}'])
def test_an_unreadable_latest_json_resumes_from_the_newest_checkpoint_on_disk(three_epochs, latest):
    run = three_epochs
    before = trained_files(run)
    (run.checkpoints_dir / "latest.json").write_text(latest)
    assert more_epochs(run, 4) == "done"
    assert epoch_numbers(run) == [1, 2, 3, 4]  # not a second 1..4 from scratch
    after = trained_files(run)
    assert all(after[name] == data for name, data in before.items())  # epochs 1-3 untouched
    events = " ".join(r["message"] for r in run.metrics("event"))
    assert "resumed from step_00000012: epoch 3, step 12" in events and "checkpoint skipped" in events


def test_a_truncated_newest_checkpoint_falls_back_to_the_one_before(three_epochs):
    run = three_epochs
    newest = run.checkpoints_dir / "step_00000012"
    data_file = next(newest.glob("ckpt.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:100])
    assert more_epochs(run, 4) == "done"
    events = " ".join(r["message"] for r in run.metrics("event"))
    assert "step_00000012 does not read back" in events
    assert "resumed from step_00000008: epoch 2, step 8" in events
    assert run.status()["step"] == 16 and sorted(set(epoch_numbers(run))) == [1, 2, 3, 4]


def test_no_checkpoint_left_refuses_to_resume_and_restart_moves_the_old_epochs_aside(three_epochs, shared_data):
    import shutil

    from gan_core import launch
    from gan_core.errors import RunError
    from gan_core.tasks import train

    run = three_epochs
    for folder in run.checkpoints_dir.glob("step_*"):
        shutil.rmtree(folder)
    before, metrics_before = trained_files(run), run.metrics_path.read_bytes()
    with pytest.raises(RunError, match=r"trained epochs up to 3 .*no readable checkpoint.*--restart"):
        more_epochs(run, 4)
    with pytest.raises(RunError, match="no readable checkpoint"):
        launch.resume(run, epochs=5)  # the app's Resume is refused at once, before a trainer starts
    assert trained_files(run) == before  # nothing written over
    assert run.metrics_path.read_bytes().startswith(metrics_before) and epoch_numbers(run) == [1, 2, 3]
    assert run.state == "failed" and "no readable checkpoint" in run.status()["error"]

    assert train(run, restart=True) == "done"
    attempt = run.path / "attempts" / "01"
    assert {p.name for p in (attempt / "generators").iterdir()} >= {"epoch_0001.keras", "epoch_0003.keras"}
    assert (attempt / "metrics.jsonl").read_bytes().startswith(metrics_before)
    assert epoch_numbers(run) == [1, 2, 3, 4]  # the new attempt's own log, epochs 1..4 once


def test_old_checkpoints_without_meta_json_still_resume(three_epochs):
    run = three_epochs
    for meta in run.checkpoints_dir.glob("step_*/meta.json"):
        meta.unlink()  # as written by the previous release
    (run.checkpoints_dir / "latest.json").unlink()
    assert more_epochs(run, 4) == "done"
    assert epoch_numbers(run) == [1, 2, 3, 4]


# --- the app never locks up when a trainer dies (item 2) and a Stop while starting is kept (item 3) ----------------

@pytest.fixture
def launched_root(tmp_path):
    """A runs folder for trainers launched as the app launches them; any still alive when the test ends is killed
    (a failed assertion must never leave a trainer running)."""
    root = tmp_path / "runs"
    yield root
    for run in runs.list_runs(root):
        pid = disk.read_json(run.status_path, {}).get("pid")
        if run.is_locked() and pid:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)



def test_a_launched_trainer_killed_by_a_signal_frees_the_run_within_two_seconds(tmp_path, shared_data, monkeypatch,
                                                                                 launched_root):
    from gan_core import launch

    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    root = launched_root
    run = launch.start(tiny_cfg(shared_data, epochs=200, log_every=1), root)  # spawned as the app does
    status = launch.wait(run, ("running",), poll=0.05)
    wait_for_step(run, 1)
    os.kill(status["pid"], signal.SIGKILL)
    killed = time.time()
    launch.wait(run, ("interrupted",), timeout=2, poll=0.05)
    assert time.time() - killed < 2
    deadline = time.time() + 5
    while launch.last_exit(run) is None and time.time() < deadline:
        time.sleep(0.05)
    assert launch.last_exit(run) == "killed by SIGKILL (kill -9 or the out-of-memory killer)"  # reaped: no zombie
    with open(f"/proc/{status['pid']}/status") if os.path.exists(f"/proc/{status['pid']}") else open(os.devnull) as f:
        assert "zombie" not in f.read()
    assert "killed by SIGKILL" in run.log_path.read_text()

    second = launch.start(tiny_cfg(shared_data, epochs=1, name="next"), root)  # Start is accepted again
    assert launch.wait(second, ("done",), poll=0.05)["state"] == "done"


def test_a_trainer_killed_while_starting_reads_interrupted_at_once(tmp_path, shared_data, monkeypatch, launched_root):
    from gan_core import launch

    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    run = runs.create_run(launched_root, tiny_cfg(shared_data, epochs=1))
    proc = launch.spawn(run)
    assert run.state == "starting" and run.is_locked()  # locked from the child's first instant
    proc.kill()
    proc.wait()
    assert run.state == "interrupted"


def test_stop_pressed_while_a_run_is_starting_stops_it_before_its_first_step(tmp_path, shared_data, monkeypatch,
                                                                             launched_root):
    from gan_core import launch

    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    run = launch.start(tiny_cfg(shared_data, epochs=50), launched_root)
    assert run.state == "starting"
    run.request_stop()
    status = launch.wait(run, ("stopped", "done", "failed"), poll=0.05)
    assert status["state"] == "stopped" and status["step"] == 0
    assert not run.stop_requested()  # consumed: Resume trains
    launch.resume(run, epochs=50)
    wait_for_step(run, 2)
    run.request_stop()
    assert launch.wait(run, ("stopped", "done", "failed"), poll=0.05)["state"] == "stopped"


def test_a_disk_full_death_still_shows_its_error(tmp_path, shared_data, monkeypatch):
    import errno

    from gan_core.errors import GanError
    from gan_core.tasks import train
    from gan_core.train import LatentTrainer as Trainer

    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    run = runs.create_run(tmp_path / "runs", tiny_cfg(shared_data, epochs=2))
    real_atomic = disk.atomic_write  # under every atomic write, however a module imported it
    volume = {"full": False}

    def atomic(path, write):
        if volume["full"]:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_atomic(path, write)

    def save_generator(self, epoch):
        volume["full"] = True  # from here on no new file can be made
        raise OSError(errno.ENOSPC, "No space left on device", str(run.generators_dir / "epoch_0001.keras"))

    monkeypatch.setattr(disk, "atomic_write", atomic)
    monkeypatch.setattr(Trainer, "save_generator", save_generator)
    with pytest.raises(GanError, match="No space left"):
        train(run)
    assert run.state == "failed" and "No space left on device" in run.status()["error"]
