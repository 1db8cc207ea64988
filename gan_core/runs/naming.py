"""Names on disk: run folders (NNNNN-name), epoch files, the runs and pretrained roots."""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from ..errors import RunError

STATES = ("starting", "running", "stopped", "done", "failed")
ACTIVE_STATES = ("starting", "running")
RUN_RE = re.compile(r"^(\d{5})-(.+)$")
EPOCH_RE = re.compile(r"^epoch_(\d{4,})\.(png|keras)$")
STEP_RE = re.compile(r"^step_(\d{8,})$")
# A launcher takes the run lock itself and hands the locked descriptor to the trainer it spawns (pass_fds), so
# the run is locked from the first instant of the child's life until its last: liveness is the lock, on any host.
LOCK_FD_ENV = "GAN_EXPLORER_LOCK_FD"
CREATION_GRACE_S = 30.0  # a new run's folder exists a moment before its trainer takes the lock


def default_runs_dir() -> Path:
    return Path(os.environ.get("GAN_EXPLORER_RUNS", "runs"))


PACKAGE_PRETRAINED_DIR = Path(__file__).resolve().parents[2] / "pretrained"


def default_pretrained_dir() -> Path:
    """The shipped generators: `pretrained/<name>/`, laid out like a run folder (config.json, generators/...)."""
    return Path(os.environ.get("GAN_EXPLORER_PRETRAINED", PACKAGE_PRETRAINED_DIR))


def shipped_roots() -> list[Path]:
    """The folders of shipped models, resolved: the one the app reads (GAN_EXPLORER_PRETRAINED, else the
    package's) and the package's own, which stays protected when the variable points elsewhere."""
    return list(dict.fromkeys(Path(os.path.realpath(p)) for p in (default_pretrained_dir(), PACKAGE_PRETRAINED_DIR)))


def is_shipped(path: str | Path) -> bool:
    """Whether `path` (a model folder, a file in one, or a folder yet to be made) lies inside a shipped-models
    folder, symbolic links followed: those are read-only to every command (see runs.shipped)."""
    real = Path(os.path.realpath(path))
    return any(real == root or root in real.parents for root in shipped_roots())


# the key that orders each kind of training record; a record re-logged after a resume replaces the earlier ones
_LATIN = str.maketrans({"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d",
                        "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "ı": "i"})


def transliterate(name: str) -> str:
    """ASCII spelling of accented Latin text ("Café" -> "Cafe", "Straße" -> "Strasse"); other scripts are dropped."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_LATIN))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def sanitize_name(name: str, max_length: int = 60) -> str:
    """A name safe as one path component: letters, digits, '.', '_', '-' only; never '..' or empty."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", transliterate(name).strip()).strip(".-_")[:max_length]
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    return cleaned or "run"


_INVISIBLE = ("Cc", "Cf", "Zl", "Zp")  # controls (a terminal's ESC), format characters (bidi overrides, isolates,
# marks, zero-width ones), line and paragraph separators: none is a visible letter of a name


def shown_name(name: str) -> str:
    """`name` as it may be displayed: without control and format characters. A folder named before names were made
    ASCII (or by hand) can hold U+202E, which shows everything after it reversed ('gnp.exe' as 'exe.png'), or a
    terminal escape; new names never hold them (see sanitize_name)."""
    return "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE)


def run_folder_name(name: str) -> str:
    """The folder name for a run called `name`; RunError when that would lose its letters or digits (a Cyrillic or
    Chinese name, or one of punctuation only, used to become a folder named 'run' without a word)."""
    shown = name.strip()[:60]
    if not any(c.isalnum() for c in name):
        raise RunError(f"the run name {shown!r} has no letters or digits; choose a name such as 'digits-test'")
    lost = "".join(dict.fromkeys(c for c in name if c.isalnum() and not any(t.isalnum() for t in transliterate(c))))
    if lost:
        raise RunError(f"the run name {shown!r} has letters a folder name cannot keep ({lost[:20]}); use A-Z, a-z, "
                       "0-9 and . _ - (accents are dropped: 'Café' becomes 'Cafe'), e.g. 'digits-test'")
    return sanitize_name(name)


def epoch_file(epoch: int, ext: str) -> str:
    return f"epoch_{epoch:04d}.{ext}"
