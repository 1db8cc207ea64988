"""Files that readers may see at any moment: atomic replaces, appends that survive a kill, tolerant readers.

No project imports (gan_core.files sits just above the bottom layer): the run directory, the data cache, exports and
uploads all write through here, so every file the app shows is either the old one or the new one, never half of each.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

LOCK_RETRY_S = 0.5  # readers probe a lock for microseconds; a writer taking it retries past them

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: the process's umask, which plain open() would apply

def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call `write(file)` on a temporary file in the same folder, then rename it over `path`: readers see the old
    file or the new one. The file gets the mode plain open() would give (mkstemp's 0600 would hide runs and caches
    from other users, and Docker's)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: str | Path, default: Any = None) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default


def read_json_object(path: str | Path) -> dict[str, Any]:
    """A file that should hold a JSON object (config.json, status.json): {} when it is missing, unreadable or holds
    anything else, so a hand-edited `[]` reads as empty instead of breaking every `.get` after it."""
    value = read_json(path, None)
    return value if isinstance(value, dict) else {}


def json_object_problem(path: str | Path, required: bool = True) -> str | None:
    """Why `path` is not a readable JSON object (None if it is, or if it is missing and not `required`)."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return f"{path.name} is missing" if required else None
    except OSError as exc:
        return f"{path.name} cannot be read ({exc.strerror})"
    try:
        value = json.loads(text)
    except ValueError:
        return f"{path.name} is not valid JSON"
    if not isinstance(value, dict):
        return f"{path.name} is not a JSON object (it holds {_json_kind(value)})"
    return None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """Append one record as one line. A line torn by a killed writer is closed first (its last byte is checked,
    nothing more is read), so the torn line stays one unreadable line and this record is not glued onto it."""
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    with open(path, "a+b") as f:  # appends always go to the end; the read is of one byte
        if f.seek(0, os.SEEK_END) > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                line = b"\n" + line
        f.write(line)
        f.flush()


def read_jsonl(path: str | Path, keep_lines: bool = False) -> list[dict[str, Any]]:
    """Every complete record; a line being written (or torn by a kill) is skipped, not fatal. `keep_lines`: None in
    place of each skipped line, so that a record's index + 1 is its line number."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    records = []
    for line in lines:
        rec = None
        with contextlib.suppress(ValueError):
            rec = json.loads(line)
        if isinstance(rec, dict):
            records.append(rec)
        elif keep_lines:
            records.append(None)
    return records


def pid_alive(pid: int | None) -> bool:
    """Whether a process of this pid exists on this host (for temporary files named by their writer's pid; run
    liveness is the run lock, never this)."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def overwrite_in_place(path: str | Path, data: bytes) -> None:
    """Last resort on a full disk: rewrite an existing file's blocks instead of allocating a new file. Not atomic
    (a reader may see a torn file for an instant and reads it as missing); used only for a dying trainer's error."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def try_lock(fd: int, *, wait_s: float = LOCK_RETRY_S) -> bool:
    """Take an exclusive flock on `fd` without blocking for long; False if another process holds it."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
