"""One training session of a run: take its lock, mark it running, run its task's trainer, and record how it ended
(a full disk included: the app must show why a trainer died)."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
import traceback
from typing import Callable

from ..errors import GanError, ResourceError, first_line
from ..fsutil import (
    overwrite_in_place,
    read_json,
)
from ..runs import RunDir
from .devices import Progress
from .loop import Trainer


def run_training(run: RunDir, trainer: type[Trainer], *, progress: Progress | None = None,
                 should_stop: Callable[[], bool] | None = None, log: Callable[[str], None] | None = None,
                 restart: bool = False) -> str:
    """Train (or resume) the run in `run` to its configured epochs with its task's `trainer` class (the caller,
    gan_core.tasks.train, looks it up). Returns the final state:
    'done', 'stopped' (asked to stop; resumable) or raises after marking the run 'failed'.

    A stop asked for before this process took the lock (Stop pressed while the run was 'starting') is kept and
    honoured before the first step; the trainer removes the STOP file only when it acts on it. `restart` moves
    everything trained so far aside (attempts/NN/) and starts at epoch 0."""
    cfg = run.config().validate()
    with run.lock():
        if restart:
            moved = run.move_attempt_aside()
            run.write_status(state="starting", epoch=0, step=0, error=None, traceback=None)
            run.log_metrics({"kind": "event", "level": "info",
                             "message": "restarted from epoch 0; the previous attempt is in "
                                        f"{moved.relative_to(run.path)}"})
        run.write_status(state="running", pid=os.getpid(), host=socket.gethostname(), error=None, traceback=None,
                         started_at=time.time(), finished_at=None)
        try:
            state = trainer(cfg, run, progress=progress, should_stop=should_stop, log=log).fit()
        except BaseException as exc:
            message = failure_message(exc, run)
            record_failure(run, message, None if isinstance(exc, GanError) else traceback.format_exc(limit=8))
            if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
                raise ResourceError(message) from exc
            if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":  # TensorFlow's OOM
                raise ResourceError(f"out of memory while training: {first_line(exc, 200)}; lower the batch size "
                                    "or the model's size") from exc
            raise
        run.write_status(state=state, finished_at=time.time())
        return state


def record_failure(run: RunDir, message: str, trace: str | None) -> None:
    """Mark the run failed with its error. On a full disk the atomic write (a new file) may be refused: then
    rewrite status.json's existing blocks in place, so the app still shows why the trainer died."""
    try:
        run.write_status(state="failed", error=message, finished_at=time.time(), traceback=trace)
    except OSError:
        status = read_json(run.status_path, {})
        status = status if isinstance(status, dict) else {}
        status.update(state="failed", error=message, finished_at=time.time(), updated_at=time.time())
        with contextlib.suppress(OSError):
            overwrite_in_place(run.status_path, json.dumps(status, sort_keys=True).encode())
    with contextlib.suppress(OSError):
        run.log_metrics({"kind": "event", "level": "error", "message": message})
_DISK_ERRORS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT)


def failure_message(exc: BaseException, run: RunDir) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted before a checkpoint (resume continues from the last one)"
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
        return (f"cannot write {exc.filename or run.path}: {exc.strerror}; free disk space or make the runs "
                "folder writable, then resume (the last good checkpoint is kept)")
    if isinstance(exc, GanError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


