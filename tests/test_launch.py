"""Starting training from the app: one trainer per runs folder, however many clicks and tabs."""
import os
import socket
import threading

import pytest

from gan_core import config, launch, runs
from gan_core.errors import RunError
from gan_core.files import disk


@pytest.fixture
def fake_spawn(monkeypatch, pretend_training):
    """Stand in for the trainer process: it only claims the run (its lock and status), as the real child does."""
    started = []

    def spawn(run, restart=False, lock_fd=None):
        started.append(run)
        pretend_training(run, lock_fd)

    monkeypatch.setattr(launch, "spawn", spawn)
    return started



def test_simultaneous_starts_give_exactly_one_trainer(tmp_path, fake_spawn):
    cfg = lambda: config.from_preset("mnist_dcgan", {"name": "click"})  # noqa: E731
    barrier, outcomes = threading.Barrier(8), []

    def click():
        barrier.wait()
        try:
            outcomes.append(launch.start(cfg(), tmp_path))
        except RunError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    started = [o for o in outcomes if isinstance(o, runs.RunDir)]
    refused = [o for o in outcomes if isinstance(o, RunError)]
    assert len(started) == 1 and len(fake_spawn) == 1 and len(refused) == 7
    assert all("still training" in str(e) for e in refused)
    assert runs.list_runs(tmp_path) == started


def test_resume_refuses_a_run_that_is_training_and_allows_a_stopped_one(tmp_path, fake_spawn):
    run = runs.create_run(tmp_path, config.from_preset("mnist_dcgan"))
    fd = os.open(run.lock_path, os.O_RDWR | os.O_CREAT)  # held here, released below: the trainer's exit
    assert disk.try_lock(fd)
    run.write_status(state="running", pid=os.getpid(), host=socket.gethostname())
    with pytest.raises(RunError, match="already training"):
        launch.resume(run)
    os.close(fd)
    run.write_status(state="stopped")
    with pytest.raises(RunError, match="can only add epochs"):
        launch.resume(run, epochs=1)
    launch.resume(run, epochs=80)
    assert fake_spawn == [run] and run.config().epochs == 80


def test_a_trainer_that_takes_the_run_after_the_check_finds_nothing_rewritten(tmp_path, fake_spawn, monkeypatch):
    # the window between resume's "is it training?" and its writes: a terminal's `train --resume` locks the run there.
    # Before: resume wrote config.json (epochs) and status.json ('starting', no pid) under the live trainer, then
    # failed to lock. Now the lock comes first, so the other trainer's run is left as it wrote it.
    run = runs.create_run(tmp_path, config.from_preset("mnist_dcgan"))
    run.write_status(state="stopped")
    other = os.open(run.lock_path, os.O_RDWR | os.O_CREAT)
    assert disk.try_lock(other)  # the other trainer, from now on
    run.write_status(state="running", pid=12345, host=socket.gethostname())
    written = {p.name: p.read_bytes() for p in (run.config_path, run.status_path)}
    monkeypatch.setattr(runs.RunDir, "is_locked", lambda self: False)  # what the check saw a moment before
    monkeypatch.setattr(runs.RunDir, "is_active", lambda self: False)
    with pytest.raises(RunError, match="already being trained"):
        launch.resume(run, epochs=80)
    assert {p.name: p.read_bytes() for p in (run.config_path, run.status_path)} == written
    assert fake_spawn == []
    os.close(other)
