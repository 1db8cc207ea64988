"""One training session of a run: take its lock, mark it running, run its task's trainer, and record how it ended
(a full disk included: the app must show why a trainer died).

A `multiworker` run (tf.distribute.MultiWorkerMirroredStrategy, the cluster in TF_CONFIG) has one session per
machine: worker 0, the chief, runs :func:`run_training` on the run folder and sends the others its config; every
other worker runs :func:`run_as_worker`, which takes that config and trains in a scratch folder of its own, outside
the runs folder, removed when it ends. Nothing but the chief writes into a runs folder.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

from .. import devices
from ..config import TrainConfig
from ..errors import ClusterError, GanError, ResourceError, RunError, first_line
from ..files.disk import (
    overwrite_in_place,
    read_json,
)
from ..runs import RETRAIN_COPY, RunDir, refuse_shipped, resolve_run
from . import workers
from ..devices import (MULTIWORKER, Worker, check_own_port, cluster_worker, interruptible,
                       multiworker_strategy)
from .execution import Progress
from .loop import Trainer


def run_training(run: RunDir, trainer: type[Trainer], *, progress: Progress | None = None,
                 should_stop: Callable[[], bool] | None = None, log: Callable[[str], None] | None = None,
                 restart: bool = False, epochs: int | None = None) -> str:
    """Train (or resume) the run in `run` to its configured epochs with its task's `trainer` class (the caller,
    gan_core.tasks.train, looks it up). Returns the final state:
    'done', 'stopped' (asked to stop; resumable) or raises after marking the run 'failed'.

    A stop asked for before this process took the lock (Stop pressed while the run was 'starting') is kept and
    honoured before the first step; the trainer removes the STOP file only when it acts on it. `restart` moves
    everything trained so far aside (attempts/NN/) and starts at epoch 0; `epochs` raises the run's target, written
    under the lock (a run another trainer holds is refused with its config untouched). A shipped model is refused before
    anything is written (it has no checkpoint to continue from, and starting over would move its files)."""
    refuse_shipped(run, "starting it over" if restart else "training", RETRAIN_COPY)
    cfg = run.config().validate()
    with run.lock():
        if epochs is not None and epochs != cfg.epochs:
            if epochs < cfg.epochs:
                raise RunError(f"run {run.name} already targets {cfg.epochs} epochs; --epochs can only add")
            cfg.epochs = epochs
            run.write_config(cfg.validate())
        if restart:
            moved = run.move_attempt_aside()
            run.write_status(state="starting", epoch=0, step=0, error=None, traceback=None)
            run.log_metrics({"kind": "event", "level": "info",
                             "message": "restarted from epoch 0; the previous attempt is in "
                                        f"{moved.relative_to(run.path)}"})
        run.write_status(state="running", pid=os.getpid(), host=socket.gethostname(), error=None, traceback=None,
                         started_at=time.time(), finished_at=None)
        try:
            if cfg.strategy == MULTIWORKER:
                start_as_chief(run, cfg, log or (lambda message: None))
            state = trainer(cfg, run, progress=progress, should_stop=should_stop, log=log).fit()
        except BaseException as exc:
            lost = cluster_lost(exc) if cfg.strategy == MULTIWORKER else None
            message = str(lost) if lost else failure_message(exc, run)
            record_failure(run, message, None if isinstance(exc, GanError) else traceback.format_exc(limit=8))
            if lost:
                raise lost from exc
            if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
                raise ResourceError(message) from exc
            if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":  # TensorFlow's OOM
                raise ResourceError(f"out of memory while training: {first_line(exc, 200)}; lower the batch size "
                                    "or the model's size") from exc
            raise
        run.write_status(state=state, finished_at=time.time())
        return state


def start_as_chief(run: RunDir, cfg: TrainConfig, log: Callable[[str], None]) -> None:
    """Worker 0 of a multiworker run: make the strategy (TensorFlow's threads and GPU memory set first, as before
    any op) and send every other worker the run's config and name."""
    worker = cluster_worker()
    if not worker.chief:
        raise ClusterError(f"TF_CONFIG makes this process {worker.describe()}: only worker 0 trains the run folder; "
                           "start the other workers with the same `python -m gan_core train ...` command (their "
                           "own TF_CONFIG index): they join worker 0 and write nowhere in the runs folder")
    devices.apply_threads(cfg.threads, cfg.inter_op_threads)
    devices.configure("trainer")
    log(f"{worker.describe()}: waiting for the other {worker.count - 1} worker(s) at "
        f"{', '.join(worker.addresses[1:])} (Ctrl-C ends this process at once until they are there)")
    with interruptible():
        workers.send_json(multiworker_strategy(), {"config": cfg.to_dict(), "run": run.name})


def run_as_worker(trainer_of: Callable[[RunDir], type[Trainer]], *, progress: Progress | None = None,
                  should_stop: Callable[[], bool] | None = None, log: Callable[[str], None] | None = None,
                  data: str | None = None) -> str:
    """A non-chief worker of a multiworker run (TF_CONFIG index > 0): wait for the chief's config, then train
    with the run's task trainer (`trainer_of(run)`) in a scratch folder that is removed when training ends. All
    workers stop together (see Trainer.stop_wanted); returns the state ('done' or 'stopped'). `data` is this
    machine's path to the training data where it differs from the chief's."""
    worker = cluster_worker()
    if worker.chief:
        raise ClusterError("TF_CONFIG makes this process worker 0, the chief: it trains the run folder itself")
    say = log or (lambda message: None)
    devices.configure("trainer")
    say(f"{worker.describe()}: waiting for the chief at {worker.addresses[0]} (and any other worker; Ctrl-C ends "
        "this process at once until they are there)")
    with interruptible():
        sent = workers.send_json(multiworker_strategy(), None)
    cfg = TrainConfig.from_dict(sent["config"])
    if data:
        cfg.data = data
    cfg.validate()
    say(f"{worker.describe()}: training run {sent['run']} with the chief; this worker's own writes go to a "
        "scratch folder that is removed at the end")
    with tempfile.TemporaryDirectory(prefix=f"gan-explorer-worker{worker.index}-") as scratch:
        run = RunDir(Path(scratch) / sent["run"])
        run.path.mkdir()
        run.write_config(cfg)
        try:
            return trainer_of(run)(cfg, run, progress=progress, should_stop=should_stop, log=log).fit()
        except Exception as exc:  # a lost peer becomes one line; anything else is re-raised as it was
            lost = cluster_lost(exc)
            if lost:
                raise lost from exc
            raise


# TensorFlow's errors when a collective's peer is gone: it crashed, was killed, or stopped answering heartbeats
_PEER_LOST = ("UnavailableError", "AbortedError", "CancelledError", "DeadlineExceededError")


def cluster_lost(exc: BaseException) -> ClusterError | None:
    """A ClusterError in words for a collective that failed because another worker went away, else None."""
    if type(exc).__name__ not in _PEER_LOST:
        return None
    text = " ".join(str(exc).split())
    why = text.split("aborted by: ", 1)[1][:100] if "aborted by: " in text else first_line(exc, 100)
    return ClusterError(f"another worker of the cluster went away ({type(exc).__name__}: {why}); see that "
                        "worker's own output for why, then start every worker again with the same commands and "
                        "--resume RUN: they continue from the chief's last checkpoint")


def joins_as_worker(strategy: str | None, resume: str | None, runs_dir=None) -> Worker | None:
    """This process's place when it is a non-chief worker of a multiworker run, else None: a new run with
    `strategy` multiworker, or a resumed one (`resume`) whose config says multiworker or that is not on this
    machine (per-worker runs folders) while TF_CONFIG gives this process an index above 0. ClusterError for a
    multiworker run without a usable TF_CONFIG, before anything is created."""
    if strategy == MULTIWORKER:
        worker = cluster_worker()
        check_own_port(worker)
        return None if worker.chief else worker
    if not resume:
        return None
    try:
        multi = resolve_run(resume, runs_dir).config_dict().get("strategy") == MULTIWORKER
    except RunError:
        multi = None  # not here: the chief's run, if this machine is a non-chief worker
    if multi is False or (multi is None and not os.environ.get("TF_CONFIG")):
        return None
    worker = cluster_worker()
    check_own_port(worker)
    return None if worker.chief else worker


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


