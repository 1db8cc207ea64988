"""Training in its own process, so a page reload, a second tab or a closed browser never touches it."""
from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

from . import devices
from .config import TrainConfig
from .errors import RunError
from .runs import LOCK_FD_ENV, RETRAIN_COPY, RunDir, create_run, default_runs_dir, list_runs, refuse_shipped

# How each trainer this process launched ended (run path -> return code), filled by its reaper thread: the app
# can name a death by signal even where the dying trainer could write nothing.
_EXITS: dict[Path, int] = {}


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


def resume(run: RunDir, epochs: int | None = None, *, restart: bool = False) -> RunDir:
    """Continue a stopped, interrupted or failed run (optionally to more epochs) in a background process.
    `restart` starts over at epoch 0, moving what was trained aside (attempts/NN/) rather than over it. A shipped
    model is refused before anything is written (nor the runs folder's launch lock beside it). The run's trainer
    lock is taken before its config or status is written and handed to the trainer, so a trainer started on the run
    some other way in between (a terminal's `train --resume`) is refused with nothing of its run rewritten."""
    refuse_shipped(run, "starting it over" if restart else "training", RETRAIN_COPY)
    with launch_lock(run.path.parent):
        if run.is_active() or run.is_locked():
            raise RunError(f"run {run.name} is already training; there is nothing to resume")
        busy = [r for r in active_runs(run.path.parent) if r != run]
        if busy:
            raise RunError(f"run {busy[0].name} is still training; stop it (or wait for it) before resuming another")
        fd = run.take_lock()  # from here on no other trainer can take the run: what is written below stays ours
        try:
            cfg = run.config()
            if not restart:  # the cheap half of the trainer's check, so the refusal shows at once, not in a log
                found, notes = run.checkpoints()
                run.refuse_start_over(found, notes, cfg.checkpoint_every)
            if epochs is not None:
                if epochs < cfg.epochs:
                    raise RunError(f"run {run.name} is configured for {cfg.epochs} epochs; resume can only add "
                                   "epochs")
                cfg.epochs = epochs
                run.write_config(cfg.validate())
            with contextlib.suppress(FileNotFoundError):
                run.stop_path.unlink()  # an old request; one made from now on reaches the new trainer
            run.write_status(state="starting", pid=None, error=None, host=socket.gethostname())
            spawn(run, restart=restart, lock_fd=fd)
        finally:
            os.close(fd)  # the trainer holds its own copy of the lock
        return run


def spawn(run: RunDir, *, restart: bool = False, lock_fd: int | None = None) -> subprocess.Popen:
    """Start the trainer holding the run's lock from its first instant: the lock is taken here (or was taken by the
    caller: `lock_fd`, which stays the caller's to close) and the locked descriptor handed down (pass_fds), so
    'starting' is as alive as 'running' and any death frees the run."""
    # no PYTHONPATH: the child imports gan_core installed (pip install -e .) or from the working directory it inherits
    # the app's environment plus GPU memory growth, so the trainer and the app can share one GPU (gan_core.devices)
    env = {**devices.trainer_env(), "PYTHONUNBUFFERED": "1"}
    fd = run.take_lock() if lock_fd is None else lock_fd
    try:
        env[LOCK_FD_ENV] = str(fd)
        with open(run.log_path, "ab") as log:
            log.write(f"\n--- launched {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
            proc = subprocess.Popen(
                [sys.executable, "-m", "gan_core", "train", "--resume", str(run.path.resolve()), "--quiet",
                 *(["--restart"] if restart else [])],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, pass_fds=(fd,),
                start_new_session=True,  # not in the app's process group: a Ctrl-C on the app leaves it training
            )
    finally:
        if lock_fd is None:
            os.close(fd)  # the child's copy keeps the lock
    status = run.status()
    if status.get("state") == "starting":  # unless the child already wrote 'running'
        run.write_status(state="starting", pid=proc.pid, host=socket.gethostname())
    _EXITS.pop(run.path.resolve(), None)
    threading.Thread(target=_reap, args=(proc, run), name=f"reap-{proc.pid}", daemon=True).start()
    return proc


def _reap(proc: subprocess.Popen, run: RunDir) -> None:
    """Wait for the child so it never lingers as a zombie; note how it ended in its log."""
    code = proc.wait()
    _EXITS[run.path.resolve()] = code
    if code != 0:
        with contextlib.suppress(OSError), open(run.log_path, "ab") as log:
            log.write(f"--- trainer {describe_exit(code)} ---\n".encode())


def describe_exit(code: int) -> str:
    """'exited with code 2' or 'killed by SIGKILL (kill -9 or the out-of-memory killer)'."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    why = {"SIGKILL": " (kill -9 or the out-of-memory killer)", "SIGSEGV": " (a crash in native code)",
           "SIGTERM": " (terminated)", "SIGABRT": " (aborted)"}.get(name, "")
    return f"killed by {name}{why}"


def last_exit(run: RunDir) -> str | None:
    """How the trainer this process last launched for `run` ended, if it has (None otherwise)."""
    code = _EXITS.get(run.path.resolve())
    return None if code is None else describe_exit(code)


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
