"""The run directory: the one contract between a trainer and everything that watches it.

Layout of ``runs/NNNNN-name/`` (StyleGAN's habits; the trainer writes, everyone else reads)::

    config.json             resolved TrainConfig, written before step 1
    status.json             state, epoch/step, pid, times, error; replaced atomically
    metrics.jsonl           append-only, flushed: {"kind": "window"|"epoch"|"side_work"|"event", ...}
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
import io
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import models
from ..algorithm import objectives
from ..config import TrainConfig
from ..errors import ConfigError, RunError
from ..files.disk import (
    append_jsonl,
    atomic_write_bytes,
    atomic_write_json,
    json_object_problem,
    read_json,
    read_json_object,
)
from .naming import (
    ACTIVE_STATES,
    CREATION_GRACE_S,
    EPOCH_RE,
    RUN_RE,
    epoch_file,
    shown_name,
)
from . import run_lock
from .quality import quality_path
from .records import read_records, superseded_dropped
from .saved_checkpoints import Checkpoint, find_checkpoints

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
        """The folder's name as shown (no bidi or terminal controls: see naming.shown_name); paths use `path`."""
        return shown_name(self.path.name)

    @property
    def number(self) -> int:
        m = RUN_RE.match(self.path.name)
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
        return json_object_problem(self.config_path) or _non_object(self.status_path) or self._task_problem()

    def config(self) -> TrainConfig:
        if not self.config_path.is_file():
            raise RunError(f"{self.path} is not a run folder (no config.json); list runs with "
                           "`python -m gan_core runs`")
        return TrainConfig.load(self.config_path)

    @property
    def task(self) -> str:
        """What its generator maps, a name in gan_core.tasks: its architecture's task (config.json also records it
        since this field was added; runs written before have only the architecture). RunError for an architecture
        this version does not know: never a guess."""
        values = self.config_dict()
        try:
            return models.task_of(values.get("architecture") or "")
        except ConfigError:
            raise RunError(f"run {self.name} was made by architecture {values.get('architecture')!r}, which this "
                           f"version does not know; known: {', '.join(models.names())}") from None

    def balance_point(self) -> dict[str, float] | None:
        """Where this run's G loss, D loss, D(x) and D(G(z)) sit when D can no longer tell G's images from real
        ones (its objective's balance at its real_label; see gan_core.algorithm.objectives), for reference lines on its
        charts. None where no such point holds: hinge and wgan-gp, image-to-image runs (their G loss adds L1 or
        cycle terms), or a config this version cannot read."""
        values = self.config_dict()
        try:
            if self.task != models.LATENT:
                return None
            objective = objectives.get(values.get("loss") or "bce")
        except (RunError, ConfigError):
            return None
        real_label = values.get("real_label", 1.0)
        if isinstance(real_label, bool) or not isinstance(real_label, (int, float)) or not 0.5 < real_label <= 1:
            return None
        return objective.balance_point(float(real_label))

    def _task_problem(self) -> str | None:
        try:
            self.task
        except RunError as exc:
            return str(exc).replace(f"run {self.name} ", "", 1)
        return None

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
        records = superseded_dropped(read_records(self.metrics_path)[0])
        return [r for r in records if kind is None or r.get("kind") == kind]

    def record_notes(self) -> list[str]:
        """A note for each record of metrics.jsonl and quality.jsonl that readers skip (see runs.read_records)."""
        return read_records(self.metrics_path)[1] + read_records(quality_path(self))[1]

    def _epochs_in(self, folder: Path, ext: str) -> list[int]:
        try:
            names = os.listdir(folder)
        except OSError:
            return []
        found = []
        for n in names:
            m = EPOCH_RE.match(n)
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
        return self.generator_file(epoch, direction)

    def generator_file(self, epoch: int, direction: str = "AtoB") -> Path:
        """Where epoch's generator is (or will be) saved: epoch_NNNN.keras, a CycleGAN's B -> A epoch_NNNN.ba.keras."""
        return self.generators_dir / epoch_file(epoch, "ba.keras" if direction == "BtoA" else "keras")

    def fixed_z(self):
        """The snapshot grid's latents, (grid^2, noise_dim) float; RunError for a file that is not such an array
        (never numpy's advice to allow pickles, which would run code from the file)."""
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

    def examples(self) -> dict[str, np.ndarray]:
        """examples.npz, an image-to-image run's held-out pictures as saved (uint8): Pix2Pix 'inputs' and 'targets',
        CycleGAN 'a' and 'b'; {} while the run has none (it has not started) or the file is unreadable."""
        try:
            with np.load(self.examples_path, allow_pickle=False) as saved:
                return {k: saved[k] for k in saved.files}
        except (OSError, ValueError, AttributeError):  # missing, damaged, or a bare .npy under the .npz name
            return {}

    def write_examples(self, arrays: dict[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{k: np.asarray(v, np.uint8) for k, v in arrays.items()})
        atomic_write_bytes(self.examples_path, buffer.getvalue())

    def checkpoints(self) -> tuple[list[Checkpoint], list[str]]:
        """Every complete checkpoint folder on disk, newest step first, and notes on what is wrong with the rest
        (an unreadable or dangling latest.json, a folder without its index or data). Whether a checkpoint's bytes
        really read back is the trainer's check (it needs TensorFlow); this is the cheap, Keras-free part."""
        return find_checkpoints(self)

    def latest_checkpoint(self) -> Path | None:
        """The newest complete checkpoint's path prefix (`.../step_N/ckpt`), or None."""
        found, _ = self.checkpoints()
        return found[0].path if found else None

    def trained_epochs(self) -> int:
        """The last epoch with anything on disk (a generator, a grid or an epoch record): what a restart from
        epoch 0 would overwrite."""
        records = [r["epoch"] for r in self.metrics("epoch") if isinstance(r.get("epoch"), int)]
        return max([0, *self.generator_epochs(), *self.sample_epochs(), *records])

    def refuse_start_over(self, found: list[Checkpoint], notes: list[str], checkpoint_every: int) -> None:
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

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive trainer lock; the kernel drops it when the process dies, so a crash never leaves it stuck.
        A trainer spawned by `launch` inherits the lock its launcher took (LOCK_FD_ENV) instead of taking it."""
        return run_lock.hold_lock(self.lock_path, self.busy_error)

    def take_lock(self) -> int:
        """A descriptor holding the exclusive trainer lock, for a launcher to hand to the trainer it starts (the
        caller closes its own copy); the busy error if another process holds it."""
        return run_lock.take_lock(self.lock_path, self.busy_error)

    def busy_error(self) -> RunError:
        status = read_json(self.status_path, {})
        pid = status.get("pid") if isinstance(status, dict) else None
        return RunError(f"run {self.name} is already being trained (pid {pid}); stop it first "
                        f"(`python -m gan_core stop {self.path}`) or wait for it to finish")

    def lock_handed_down(self) -> int | None:
        """The descriptor of this run's lock that a launcher handed this process (LOCK_FD_ENV), else None: then
        the lock held is this process's own, and the run is not busy for it."""
        return run_lock.lock_handed_down(self.lock_path)

    def is_locked(self) -> bool:
        """True while a trainer holds the lock (a quick probe that never blocks)."""
        return run_lock.is_locked(self.lock_path)


def _non_object(path: Path) -> str | None:
    """A status.json that parses but is not an object; a missing or torn one is the status reader's business."""
    problem = json_object_problem(path, required=False)
    return problem if problem and "not a JSON object" in problem else None
