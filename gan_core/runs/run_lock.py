"""A run's trainer lock: an exclusive flock on the run's ``.lock`` file, held by the one process that writes the run.

The kernel drops it when that process dies (kill -9, the OOM killer, a segfault), so a crash never leaves it stuck,
and readers tell a live trainer from a dead one by probing it, never by a pid. A trainer spawned by `launch` is
handed the lock its launcher took (the descriptor in LOCK_FD_ENV) instead of taking it. :class:`.rundir.RunDir`'s
``lock``, ``lock_handed_down`` and ``is_locked`` are these, on its lock file.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Callable, Iterator

from ..errors import RunError
from ..files.disk import try_lock
from .naming import LOCK_FD_ENV


@contextlib.contextmanager
def hold_lock(lock_path: Path, busy_error: Callable[[], RunError]) -> Iterator[None]:
    """Exclusive trainer lock on `lock_path` (the handed-down one if this process was given it), its pid written
    into the file; `busy_error()` is raised when another process holds it."""
    fd = _inherited_lock(lock_path)
    if fd is None:
        fd = take_lock(lock_path, busy_error)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def take_lock(lock_path: Path, busy_error: Callable[[], RunError]) -> int:
    """A new descriptor of `lock_path` holding its exclusive lock (the caller closes it, or hands it to a trainer);
    `busy_error()` is raised when another process holds it."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    if not try_lock(fd):
        os.close(fd)
        raise busy_error()
    return fd


def _inherited_lock(lock_path: Path) -> int | None:
    fd = lock_handed_down(lock_path)
    if fd is not None:
        del os.environ[LOCK_FD_ENV]  # used once; a run trained later in this process takes its own lock
    return fd


def lock_handed_down(lock_path: Path) -> int | None:
    """The descriptor of this lock file that a launcher handed this process (LOCK_FD_ENV), else None: then the lock
    held is this process's own, and the run is not busy for it."""
    value = os.environ.get(LOCK_FD_ENV)
    if not value:
        return None
    try:
        held, mine = os.fstat(int(value)), os.stat(lock_path)
    except (ValueError, OSError):
        return None
    if (held.st_dev, held.st_ino) != (mine.st_dev, mine.st_ino):
        return None  # a descriptor for some other run: not ours to use
    return int(value)


def is_locked(lock_path: Path) -> bool:
    """True while a trainer holds the lock (a quick probe that never blocks)."""
    if not lock_path.exists():
        return False
    fd = os.open(lock_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
