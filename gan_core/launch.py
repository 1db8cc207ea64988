"""Training in its own process, so a page reload, a second tab or a closed browser never touches it."""
from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from .config import TrainConfig
from .errors import RunError
from .runs import RunDir, create_run, default_runs_dir, list_runs


@contextlib.contextmanager
def launch_lock(runs_dir: str | Path | None) -> Iterator[None]:
    """Serialise check-then-spawn across tabs and processes: two Start clicks at once give one trainer."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".launch.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunError(f"cannot use the runs folder {root}: {exc.strerror}; pick a writable one") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held for milliseconds: the time to create a folder and spawn
        yield
    finally:
        os.close(fd)


def active_runs(runs_dir: str | Path | None = None) -> list[RunDir]:
    return [r for r in list_runs(runs_dir) if r.is_active()]


def start(cfg: TrainConfig, runs_dir: str | Path | None = None) -> RunDir:
    """Create a run folder for `cfg` and train it in a background process; refused while another trains."""
    cfg.validate()
    with launch_lock(runs_dir):
        busy = active_runs(runs_dir)
        if busy:
            raise RunError(f"run {busy[0].name} is still training; stop it (or wait for it) before starting another")
        run = create_run(runs_dir, cfg)
        spawn(run)  # writes the child's pid into status.json before the lock is released
        return run


def resume(run: RunDir, epochs: int | None = None) -> RunDir:
    """Continue a stopped, interrupted or failed run (optionally to more epochs) in a background process."""
    with launch_lock(run.path.parent):
        if run.is_active() or run.is_locked():
            raise RunError(f"run {run.name} is already training; there is nothing to resume")
        busy = [r for r in active_runs(run.path.parent) if r != run]
        if busy:
            raise RunError(f"run {busy[0].name} is still training; stop it (or wait for it) before resuming another")
        if epochs is not None:
            cfg = run.config()
            if epochs < cfg.epochs:
                raise RunError(f"run {run.name} is configured for {cfg.epochs} epochs; resume can only add epochs")
            cfg.epochs = epochs
            run.write_config(cfg.validate())
        run.write_status(state="starting", pid=None, error=None, host=socket.gethostname())
        spawn(run)
        return run


def spawn(run: RunDir) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    project_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (project_root, env.get("PYTHONPATH")) if p)
    with open(run.log_path, "ab") as log:
        log.write(f"\n--- launched {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
        proc = subprocess.Popen(
            [sys.executable, "-m", "gan_core", "train", "--resume", str(run.path.resolve()), "--quiet"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,  # not in the app's process group: a Ctrl-C on the app leaves it training
        )
    run.write_status(state="starting", pid=proc.pid, host=socket.gethostname())
    return proc


def wait(run: RunDir, states=("done", "stopped", "failed", "interrupted"), timeout: float = 600.0,
         poll: float = 0.5) -> dict:
    """Block until the run reaches one of `states` (tests and scripts; the app polls instead)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = run.status()
        if status.get("state") in states:
            return status
        time.sleep(poll)
    raise TimeoutError(f"run {run.name} did not reach {states} within {timeout:.0f} s (now {run.state})")
