"""The run directory: the one contract between a trainer and everything that watches it.

Layout of ``runs/NNNNN-name/`` (StyleGAN's habits; the trainer writes, everyone else reads)::

    config.json             resolved TrainConfig, written before step 1
    status.json             state, epoch/step, pid, times, error; replaced atomically
    metrics.jsonl           append-only, flushed: {"kind": "window"|"epoch"|"event", ...}
    fixed_z.npy             the latents of every epoch's snapshot grid
    examples.npz            image-to-image runs: held-out inputs (and targets) of the grids, instead of fixed_z
    samples/epoch_NNNN.png  snapshot grid per epoch (0000 = before training)
    generators/epoch_NNNN.keras       (a CycleGAN's A -> B; its B -> A is epoch_NNNN.ba.keras)
    checkpoints/            step_NNNNNNNN/ (tf.train.Checkpoint of G, D, optimizers) + latest.json
    tb/                     TensorBoard scalars and images
    exports/                what the app or CLI exported from this run
    train.log               the trainer process's output (runs launched by the app)

Readers tolerate a run being written: a torn last JSONL line is skipped, a missing file reads as empty.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import socket
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .errors import RunError
from .fsutil import (
    append_jsonl,
    atomic_write_bytes,
    atomic_write_json,
    json_object_problem,
    pid_alive,
    read_json,
    read_json_object,
    read_jsonl,
    try_lock,
)

STATES = ("starting", "running", "stopped", "done", "failed")
ACTIVE_STATES = ("starting", "running")
_RUN_RE = re.compile(r"^(\d{5})-(.+)$")
_EPOCH_RE = re.compile(r"^epoch_(\d{4,})\.(png|keras)$")
_STEP_RE = re.compile(r"^step_(\d{8,})$")
# A launcher takes the run lock itself and hands the locked descriptor to the trainer it spawns (pass_fds), so
# the run is locked from the first instant of the child's life until its last: liveness is the lock, on any host.
LOCK_FD_ENV = "GAN_EXPLORER_LOCK_FD"
CREATION_GRACE_S = 30.0  # a new run's folder exists a moment before its trainer takes the lock


def default_runs_dir() -> Path:
    return Path(os.environ.get("GAN_EXPLORER_RUNS", "runs"))


def default_pretrained_dir() -> Path:
    """The shipped generators: `pretrained/<name>/`, laid out like a run folder (config.json, generators/...)."""
    return Path(os.environ.get("GAN_EXPLORER_PRETRAINED", Path(__file__).resolve().parent.parent / "pretrained"))


# the key that orders each kind of training record; a record re-logged after a resume replaces the earlier ones
_RECORD_KEYS = {"window": "step", "epoch": "epoch"}


def _record_key(record: dict[str, Any]) -> tuple[str, float] | None:
    field = _RECORD_KEYS.get(record.get("kind"))
    value = record.get(field) if field else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return field, value
    return None


def superseded_dropped(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records a reader should show, in file order: after a kill (or a roll-back) and resume, the trainer logs
    again from its checkpoint, so a window whose step is not past the last one kept replaces every earlier window
    from that step on (the same for epoch records by epoch). Keeping the later attempt keeps charts going forwards.
    Events and records without a numeric step/epoch are kept as they are."""
    kept: list[dict[str, Any] | None] = []
    stacks: dict[str, list[tuple[float, int]]] = {}  # kind -> (key, index into kept), keys increasing
    for record in records:
        key = _record_key(record)
        if key is not None:
            stack = stacks.setdefault(record["kind"], [])
            while stack and stack[-1][0] >= key[1]:
                kept[stack.pop()[1]] = None
            stack.append((key[1], len(kept)))
        kept.append(record)
    return [r for r in kept if r is not None]


def epoch_label(status: dict[str, Any]) -> str:
    """'epoch E/N' for a progress bar, E the epoch being trained: 'epoch 1/3' while the first epoch runs (status.json
    counts finished epochs), 'epoch 3/3' when done; a run stopped mid-epoch shows the epoch it stopped in."""
    done, total = status.get("epoch"), status.get("epochs")
    done = done if isinstance(done, int) and not isinstance(done, bool) and done >= 0 else 0
    total = total if isinstance(total, int) and not isinstance(total, bool) and total > 0 else None
    current = done
    if status.get("state") in ACTIVE_STATES:
        current = done + 1
    else:
        step, per_epoch = status.get("step"), status.get("steps_per_epoch")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (step, per_epoch)) and per_epoch > 0:
            current = done + (step > done * per_epoch)
    if total is not None:
        current = min(current, total)
    return f"epoch {current}/{total or '?'}"


# Latin letters that Unicode does not decompose into a base letter and an accent
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


# --- the run directory ----------------------------------------------------------------------------

class RunDir:
    """One run folder: read by anyone; written only by the trainer that holds its lock."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunDir) and self.path.resolve() == other.path.resolve()

    def __hash__(self) -> int:
        return hash(self.path.resolve())

    # paths
    @property
    def name(self) -> str:
        return self.path.name

    @property
    def number(self) -> int:
        m = _RUN_RE.match(self.path.name)
        return int(m.group(1)) if m else -1

    config_path = property(lambda self: self.path / "config.json")
    status_path = property(lambda self: self.path / "status.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    fixed_z_path = property(lambda self: self.path / "fixed_z.npy")
    examples_path = property(lambda self: self.path / "examples.npz")
    samples_dir = property(lambda self: self.path / "samples")
    generators_dir = property(lambda self: self.path / "generators")
    checkpoints_dir = property(lambda self: self.path / "checkpoints")
    tb_dir = property(lambda self: self.path / "tb")
    exports_dir = property(lambda self: self.path / "exports")
    log_path = property(lambda self: self.path / "train.log")
    stop_path = property(lambda self: self.path / "STOP")
    lock_path = property(lambda self: self.path / ".lock")

    def exists(self) -> bool:
        return self.config_path.is_file()

    # reading
    def config_dict(self) -> dict[str, Any]:
        return read_json_object(self.config_path)

    def problem(self) -> str | None:
        """Why readers cannot use this folder: a config.json that is not a JSON object, or a status.json that is
        valid JSON but not an object (hand-edited, or written by something else); None for a usable run."""
        return json_object_problem(self.config_path) or _non_object(self.status_path)

    def config(self):
        from .config import TrainConfig

        if not self.config_path.is_file():
            raise RunError(f"{self.path} is not a run folder (no config.json); "
                           "list runs with `python -m gan_core runs`")
        return TrainConfig.load(self.config_path)

    @property
    def task(self) -> str:
        """What its generator maps: 'noise' (a latent GAN), 'pix2pix' or 'cyclegan' (image-to-image)."""
        from . import models
        from .errors import ConfigError

        try:
            return models.task_of(self.config_dict().get("architecture") or "")
        except ConfigError:  # an architecture this version does not know
            return "noise"

    def status(self) -> dict[str, Any]:
        """status.json, with state 'interrupted' when it claims to be training but nobody holds the run's lock.

        The lock, not a pid: the kernel drops it on any death (kill -9, the OOM killer, a segfault, a container
        restart), also for a zombie the app has not reaped and on any host that shares the folder."""
        status = read_json(self.status_path, None)
        if not isinstance(status, dict):
            status = {"state": "starting" if self.exists() else "missing"}
        if status.get("state") in ACTIVE_STATES and not self.is_locked() and not self._just_created(status):
            status = {**status, "state": "interrupted"}
        return status

    def _just_created(self, status: dict[str, Any]) -> bool:
        # create_run writes 'starting' a moment before a trainer (launched or in this process) takes the lock
        updated = status.get("updated_at")
        return (status.get("pid") is None and isinstance(updated, (int, float))
                and time.time() - updated < CREATION_GRACE_S)

    @property
    def state(self) -> str:
        return self.status().get("state", "missing")

    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def metrics(self, kind: str | None = None) -> list[dict[str, Any]]:
        """metrics.jsonl's records (of one kind), the steps a resumed trainer logged again replaced by its records."""
        records = superseded_dropped(read_jsonl(self.metrics_path))
        return [r for r in records if kind is None or r.get("kind") == kind]

    def _epochs_in(self, folder: Path, ext: str) -> list[int]:
        try:
            names = os.listdir(folder)
        except OSError:
            return []
        found = []
        for n in names:
            m = _EPOCH_RE.match(n)
            if m and m.group(2) == ext:
                found.append(int(m.group(1)))
        return sorted(found)

    def sample_epochs(self) -> list[int]:
        return self._epochs_in(self.samples_dir, "png")

    def generator_epochs(self) -> list[int]:
        return self._epochs_in(self.generators_dir, "keras")

    def sample_path(self, epoch: int) -> Path:
        return self.samples_dir / epoch_file(epoch, "png")

    def latest_sample(self) -> Path | None:
        epochs = self.sample_epochs()
        return self.sample_path(epochs[-1]) if epochs else None

    def generator_path(self, epoch: int | None = None, direction: str = "AtoB") -> Path:
        """The saved generator of `epoch` (default: the latest); a CycleGAN's B -> A with direction='BtoA'."""
        epochs = self.generator_epochs()
        if not epochs:
            raise RunError(f"run {self.name} has no saved generator yet; wait for its first epoch to finish")
        if epoch is None:
            epoch = epochs[-1]
        if epoch not in epochs:
            raise RunError(f"run {self.name} has no generator for epoch {epoch}; saved epochs: "
                           f"{', '.join(map(str, epochs))}")
        return self.generators_dir / epoch_file(epoch, "ba.keras" if direction == "BtoA" else "keras")

    def load_generator(self, epoch: int | None = None):
        from .generator import Generator

        if self.task != "noise":
            raise RunError(f"{self.name} is an image-to-image model ({self.task}): it translates images instead of "
                           f"drawing them from z. Open it on the Translate page, or run `python -m gan_core "
                           f"translate {self.path} IMAGE`")

        return Generator.load(self.generator_path(epoch), config=self.config_dict())

    def fixed_z(self):
        """The snapshot grid's latents, (grid^2, noise_dim) float; RunError for a file that is not such an array
        (never numpy's advice to allow pickles, which would run code from the file)."""
        import numpy as np

        damaged = RunError(f"run {self.name}: fixed_z.npy is not a saved array of latents (damaged or replaced); "
                           "delete it and resume: the trainer makes it again from the same seeds")
        try:
            z = np.load(self.fixed_z_path, allow_pickle=False)
        except FileNotFoundError:
            raise RunError(f"run {self.name} has no fixed_z.npy yet; it is written before the first epoch") from None
        except (OSError, ValueError, EOFError):
            raise damaged from None
        if not isinstance(z, np.ndarray):  # an .npz archive under the .npy name
            z.close()
            raise damaged
        if z.ndim != 2 or not np.issubdtype(z.dtype, np.floating) or not np.all(np.isfinite(z)):
            raise damaged
        return z

    def checkpoints(self) -> tuple[list["Checkpoint"], list[str]]:
        """Every complete checkpoint folder on disk, newest step first, and notes on what is wrong with the rest
        (an unreadable or dangling latest.json, a folder without its index or data). Whether a checkpoint's bytes
        really read back is the trainer's check (it needs TensorFlow); this is the cheap, Keras-free part."""
        notes: list[str] = []
        latest = read_json(self.checkpoints_dir / "latest.json", None)
        if (self.checkpoints_dir / "latest.json").exists():
            if not isinstance(latest, dict) or not isinstance(latest.get("dir"), str):
                notes.append("checkpoints/latest.json is unreadable or not a checkpoint record")
                latest = None
            elif not _STEP_RE.match(latest["dir"]) or not (self.checkpoints_dir / latest["dir"]).is_dir():
                notes.append(f"checkpoints/latest.json points to {latest['dir']!r}, which is not on disk")
        try:
            folders = [p for p in self.checkpoints_dir.iterdir() if _STEP_RE.match(p.name) and p.is_dir()]
        except OSError:
            folders = []
        epoch_records = [r for r in self.metrics("epoch") if isinstance(r.get("step"), int)
                         and isinstance(r.get("epoch"), int)]
        found = []
        for folder in sorted(folders, key=lambda p: int(_STEP_RE.match(p.name).group(1)), reverse=True):
            if not (folder / "ckpt.index").is_file() or not list(folder.glob("ckpt.data-*")):
                notes.append(f"checkpoints/{folder.name} is incomplete (no ckpt.index or data file)")
                continue
            step = int(_STEP_RE.match(folder.name).group(1))
            found.append(Checkpoint(folder / "ckpt", step, self._checkpoint_epoch(folder, step, latest,
                                                                                    epoch_records)))
        return found, notes

    def _checkpoint_epoch(self, folder: Path, step: int, latest: dict | None, epoch_records: list[dict]) -> int | None:
        """Completed epochs at a checkpoint: its own meta.json; else latest.json if it names it; else the last
        epoch the metrics log finished at or before its step (a mid-epoch stop is still in that epoch)."""
        meta = read_json(folder / "meta.json", None)
        if isinstance(meta, dict) and isinstance(meta.get("epoch"), int) and meta.get("step") == step:
            return meta["epoch"]
        if latest and latest.get("dir") == folder.name and isinstance(latest.get("epoch"), int):
            return latest["epoch"]
        finished = [r["epoch"] for r in epoch_records if r["step"] <= step]
        return max(finished) if finished else (0 if step == 0 else None)

    def latest_checkpoint(self) -> Path | None:
        """The newest complete checkpoint's path prefix (`.../step_N/ckpt`), or None."""
        found, _ = self.checkpoints()
        return found[0].path if found else None

    def trained_epochs(self) -> int:
        """The last epoch with anything on disk (a generator, a grid or an epoch record): what a restart from
        epoch 0 would overwrite."""
        records = [r["epoch"] for r in self.metrics("epoch") if isinstance(r.get("epoch"), int)]
        return max([0, *self.generator_epochs(), *self.sample_epochs(), *records])

    def refuse_start_over(self, found: list["Checkpoint"], notes: list[str], checkpoint_every: int) -> None:
        """Raise rather than start at epoch 0 over trained epochs whose checkpoints are gone or unreadable.

        Starting over is normal while no checkpoint was due yet (killed in the first interval); past that, the
        checkpoints were lost, and training from scratch would overwrite the epochs already on disk."""
        if found:
            return
        trained = self.trained_epochs()
        every = max(1, int(checkpoint_every or 1))
        due = ((trained - 1) // every) * every if trained else 0  # the last checkpoint that must have been written
        if due < 1:
            return
        why = "; ".join(notes) or "the checkpoints folder holds no checkpoint"
        raise RunError(f"run {self.name} has trained epochs up to {trained} on disk but no readable checkpoint to "
                       f"resume from ({why}). Resuming would start over at epoch 0 and overwrite them, so it is "
                       f"refused: put the checkpoints back, or start over explicitly with `python -m gan_core train "
                       f"--resume {self.path} --restart` (or Start over in the app), which moves the old epochs "
                       "aside into attempts/")

    def move_attempt_aside(self) -> Path:
        """For an explicit restart: move everything a trainer wrote (grids, generators, checkpoints, logs) into
        attempts/NN/, keeping config.json, fixed_z.npy and examples.npz, so epoch 1 is never written over an old
        epoch 1."""
        attempts = self.path / "attempts"
        attempts.mkdir(exist_ok=True)
        taken = [int(p.name) for p in attempts.iterdir() if p.name.isdigit()]
        target = attempts / f"{(max(taken) + 1 if taken else 1):02d}"
        target.mkdir()
        for name in ("samples", "generators", "checkpoints", "tb", "metrics.jsonl", "quality.jsonl"):
            source = self.path / name
            if source.exists():
                shutil.move(str(source), str(target / name))
        for sub in (self.samples_dir, self.generators_dir, self.checkpoints_dir):
            sub.mkdir(exist_ok=True)
        return target

    # control, from any process
    def request_stop(self) -> None:
        """Ask the trainer to finish its step, checkpoint and stop (it polls for this file)."""
        self.stop_path.touch()

    def stop_requested(self) -> bool:
        return self.stop_path.exists()

    # writing (trainer only, under the lock)
    def write_config(self, cfg) -> None:
        atomic_write_bytes(self.config_path, (cfg.to_json() + "\n").encode())

    def write_status(self, **fields: Any) -> dict[str, Any]:
        status = read_json_object(self.status_path)
        status.update(fields, updated_at=time.time())
        atomic_write_json(self.status_path, status)
        return status

    def log_metrics(self, record: dict[str, Any]) -> None:
        append_jsonl(self.metrics_path, {"time": round(time.time(), 3), **record})

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive trainer lock; the kernel drops it when the process dies, so a crash never leaves it stuck.
        A trainer spawned by `launch` inherits the lock its launcher took (LOCK_FD_ENV) instead of taking it."""
        fd = self._inherited_lock()
        if fd is None:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            if not try_lock(fd):
                os.close(fd)
                raise self.busy_error()
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield
        finally:
            os.close(fd)

    def busy_error(self) -> RunError:
        status = read_json(self.status_path, {})
        pid = status.get("pid") if isinstance(status, dict) else None
        return RunError(f"run {self.name} is already being trained (pid {pid}); stop it first "
                        f"(`python -m gan_core stop {self.path}`) or wait for it to finish")

    def _inherited_lock(self) -> int | None:
        value = os.environ.get(LOCK_FD_ENV)
        if not value:
            return None
        try:
            held, mine = os.fstat(int(value)), os.stat(self.lock_path)
        except (ValueError, OSError):
            return None
        if (held.st_dev, held.st_ino) != (mine.st_dev, mine.st_ino):
            return None  # a descriptor for some other run: not ours to use
        del os.environ[LOCK_FD_ENV]  # used once; a run trained later in this process takes its own lock
        return int(value)

    def is_locked(self) -> bool:
        """True while a trainer holds the lock (a quick probe that never blocks)."""
        if not self.lock_path.exists():
            return False
        fd = os.open(self.lock_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint on disk: `path` is the tf.train.Checkpoint prefix; `epoch` completed epochs (None: unknown,
    the trainer derives it from the step)."""
    path: Path
    step: int
    epoch: int | None

    @property
    def name(self) -> str:
        return self.path.parent.name


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


Skipped = list[tuple[RunDir, str]]  # folders left out of a listing, each with the reason


def scan_runs(runs_dir: str | Path | None = None) -> tuple[list[RunDir], Skipped]:
    """Numbered run folders, oldest first, and those skipped because their JSON cannot be read as an object (one
    bad folder must never break a page or `runs`: they say which folder was skipped and why)."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    if not root.is_dir():
        return [], []
    found = sorted((RunDir(p) for p in root.iterdir() if p.is_dir() and _RUN_RE.match(p.name)),
                   key=lambda r: (r.number, r.name))
    return _split_usable(r for r in found if r.exists())


def list_runs(runs_dir: str | Path | None = None) -> list[RunDir]:
    """Numbered, usable run folders, oldest first (see :func:`scan_runs` for the skipped ones)."""
    return scan_runs(runs_dir)[0]


def scan_pretrained(root: str | Path | None = None) -> tuple[list[RunDir], Skipped]:
    """Shipped models, by name (every folder under `root` with a config.json and at least one generator), and the
    skipped ones with the reason."""
    root = Path(root) if root is not None else default_pretrained_dir()
    if not root.is_dir():
        return [], []
    models = [RunDir(p) for p in sorted(root.iterdir()) if p.is_dir() and (p / "config.json").is_file()]
    return _split_usable(m for m in models if m.generator_epochs())


def list_pretrained(root: str | Path | None = None) -> list[RunDir]:
    return scan_pretrained(root)[0]


def _split_usable(folders) -> tuple[list[RunDir], Skipped]:
    usable, skipped = [], []
    for run in folders:
        problem = run.problem()
        if problem:
            skipped.append((run, problem))
        else:
            usable.append(run)
    return usable, skipped


def _non_object(path: Path) -> str | None:
    """A status.json that parses but is not an object; a missing or torn one is the status reader's business."""
    problem = json_object_problem(path, required=False)
    return problem if problem and "not a JSON object" in problem else None


def create_run(runs_dir: str | Path | None, cfg) -> RunDir:
    """A new numbered folder holding the resolved config and a 'starting' status, before any training."""
    name = run_folder_name(cfg.name) if cfg.name else sanitize_name(cfg.preset)  # before anything is created
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create the runs folder {root}: {exc.strerror}; pick another with --runs-dir") from None
    cfg.name = name
    from .speed import resolve_config

    precision_reason = resolve_config(cfg)  # precision "auto" -> this machine's concrete value, saved below
    for _ in range(1000):
        taken = [int(m.group(1)) for p in root.iterdir() if (m := _RUN_RE.match(p.name))]
        path = root / f"{(max(taken) + 1 if taken else 0):05d}-{name}"
        try:
            path.mkdir()
        except FileExistsError:
            continue  # another process took this number between our listing and mkdir
        except OSError as exc:
            raise RunError(f"cannot create run folder {path}: {exc.strerror}") from None
        run = RunDir(path)
        for sub in (run.samples_dir, run.generators_dir, run.checkpoints_dir, run.exports_dir):
            sub.mkdir()
        run.write_config(cfg)
        run.write_status(state="starting", epoch=0, epochs=cfg.epochs, step=0, pid=None,
                         host=socket.gethostname(), created_at=time.time())
        if precision_reason:
            run.log_metrics({"kind": "event", "level": "info", "message": precision_reason})
        return run
    raise RunError(f"could not allocate a run number under {root}")


def resolve_run(ref: str | Path, runs_dir: str | Path | None = None) -> RunDir:
    """A run given by path, folder name, or number (e.g. '3' or '00003')."""
    ref = str(ref)
    candidates = [Path(ref)]
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    candidates.append(root / ref)
    if ref.isdigit():
        candidates += [r.path for r in list_runs(root) if r.number == int(ref)]
    for c in candidates:
        if (c / "config.json").is_file():
            run = RunDir(c)
            problem = run.problem()
            if problem:
                fix = ("delete status.json (the next trainer writes a new one)" if problem.startswith("status")
                       else "restore config.json from a copy of the run")
                raise RunError(f"run {run.name} cannot be used: {problem}; {fix}")
            return run
    raise RunError(f"no run found at {ref!r}; list runs with `python -m gan_core runs --runs-dir {root}`")
