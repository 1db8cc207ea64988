"""Temporary files that killed or out-of-disk writes left in a run folder, and their cleaning."""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from ..files.disk import (
    pid_alive,
)
from .rundir import RunDir

# --- temporary files left by killed writes ---------------------------------------------------------------

STALE_TEMP_SECONDS = 600.0  # a temporary file untouched this long is abandoned: a live writer keeps it fresh
_PID_TEMP_RE = re.compile(r"^\.tmp-(?:(\d+)-.+|.+-(\d+))$")  # the trainer's .tmp-PID-epoch_N.keras, .tmp-step_N-PID/
_MKSTEMP_TEMP_RE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")  # atomic_write_bytes' .NAME.XXXXXXXX.tmp
_TEMP_FOLDERS = (".", "samples", "generators", "checkpoints", "exports")


def stale_temp_files(run: RunDir, since: float) -> list[Path]:
    """Temporary files (and checkpoint folders) that killed or out-of-disk writes left in a run folder: one whose
    name carries a pid is stale once that process is gone; any is stale when untouched since STALE_TEMP_SECONDS
    before `since`. A file another live writer is filling (the app writing status.json while a trainer starts, an
    export) is neither: its pid lives, or its mtime is fresh."""
    found = []
    for folder in _TEMP_FOLDERS:
        directory = run.path / folder
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            pid_match, mkstemp = _PID_TEMP_RE.match(name), _MKSTEMP_TEMP_RE.match(name)
            if not (pid_match or mkstemp):
                continue
            path = directory / name
            try:
                mtime = path.lstat().st_mtime
            except OSError:
                continue
            if mtime < since - STALE_TEMP_SECONDS:
                found.append(path)
            elif pid_match:
                pid = int(pid_match.group(1) or pid_match.group(2))
                if pid != os.getpid() and not pid_alive(pid):
                    found.append(path)
    return sorted(found)


def clean_temp_files(run: RunDir, since: float | None = None) -> list[Path]:
    """Remove :func:`stale_temp_files` (`since`: when the caller took the run's lock, default now); returns what
    was removed. For the trainer as it starts, holding the lock, so no other trainer writes this run."""
    removed = []
    for path in stale_temp_files(run, time.time() if since is None else since):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed
