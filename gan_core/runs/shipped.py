"""Shipped models are read-only: `pretrained/` (wherever the package finds it) is never written by any command.

A pretrained model is laid out like a run folder, so every command that takes a run also takes it; those that
would write into a run (train, resume, start over, recording quality, caching directions, exports) ask
:func:`refuse_shipped` first, before anything is written, or write elsewhere. :func:`copy_model` makes a run of
a model: a numbered folder under the runs folder that is the user's to evaluate, export and start over.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..errors import RunError
from .listing import new_run_folder
from .naming import ACTIVE_STATES, is_shipped, run_folder_name, sanitize_name
from .rundir import RunDir

COPY_COMMAND = "python -m gan_core copy"
# what to do with a copy to train it: pretrained models ship G alone (no D, no optimizer state, no checkpoint)
RETRAIN_COPY = ("start that run over (`train --resume COPY --restart`: a pretrained model ships no checkpoint to "
                "continue from, so its recipe trains again from epoch 0)")
# what a copy leaves out: a trainer's lock and stop request, and temporary files of killed writes
_NOT_COPIED = shutil.ignore_patterns(".lock", "STOP", ".tmp-*", ".*.tmp", "train.log")


def refuse_shipped(run: RunDir | str | Path, doing: str, then: str = "") -> None:
    """RunError when `run` is a shipped model: `doing` (e.g. "training") would write into it. The message names
    the copy command; `then` says what to do with the copy (default: `doing` it there)."""
    path = Path(run.path if isinstance(run, RunDir) else run)
    if is_shipped(path):
        raise RunError(f"{path} is a shipped pretrained model and read-only: {doing} would write into it; make a "
                       f"run of it with `{COPY_COMMAND} {path}` and {then or 'use that run instead'}")


def refuse_output_in_shipped(path: str | Path, flag: str) -> None:
    """RunError for an output file or folder (`flag`, e.g. --out) inside a shipped-models folder."""
    if is_shipped(path):
        raise RunError(f"{flag} {path} is inside the shipped models' folder, which is read-only; write it elsewhere")


def copy_model(source: RunDir, runs_dir: str | Path | None = None, name: str | None = None,
               data: str | None = None) -> RunDir:
    """A new numbered run folder holding a copy of `source` (a pretrained model or a run that is not training):
    its config (renamed; `data`: where the training data is on this machine, which a shipped config leaves out),
    generators, grids, logs and quality records, status 'done' or as it was. The copy is a run like any other:
    evaluate it, export it, compute its directions, or start it over."""
    if source.status().get("state") in ACTIVE_STATES or source.is_locked():
        raise RunError(f"run {source.name} is training; copy it once it has stopped (its files are changing)")
    cfg = source.config()
    cfg.name = run_folder_name(name) if name else sanitize_name(cfg.name or source.name)  # checked as train checks
    cfg.data = data or cfg.data
    run = new_run_folder(runs_dir, cfg.name)
    try:
        shutil.copytree(source.path, run.path, ignore=_NOT_COPIED, dirs_exist_ok=True, symlinks=False)
        for sub in (run.samples_dir, run.generators_dir, run.checkpoints_dir, run.exports_dir):
            sub.mkdir(exist_ok=True)
        run.write_config(cfg)
        state = source.status().get("state")
        run.write_status(state=state if state in ("done", "stopped", "failed") else "stopped", pid=None,
                         copied_from=str(source.path), copied_at=time.time())
        run.log_metrics({"kind": "event", "level": "info", "message": f"copied from {source.path}"})
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)  # never leave half a copy that reads as a run
        raise
    return run
