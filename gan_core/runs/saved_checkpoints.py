"""A run's checkpoints on disk, as a reader finds them: the complete ones, newest step first, each with the epoch
it stands at, and a note on each that is not usable. (Reading one back, and writing them, is the trainer's:
gan_core.train.checkpointing.)"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..files.disk import read_json
from .naming import STEP_RE


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


def find_checkpoints(run) -> tuple[list[Checkpoint], list[str]]:
    """Every complete checkpoint folder of `run` (a RunDir) on disk, newest step first, and notes on what is wrong
    with the rest (an unreadable or dangling latest.json, a folder without its index or data). Whether a
    checkpoint's bytes really read back is the trainer's check (it needs TensorFlow); this is the cheap, Keras-free
    part."""
    notes: list[str] = []
    latest = read_json(run.checkpoints_dir / "latest.json", None)
    if (run.checkpoints_dir / "latest.json").exists():
        if not isinstance(latest, dict) or not isinstance(latest.get("dir"), str):
            notes.append("checkpoints/latest.json is unreadable or not a checkpoint record")
            latest = None
        elif not STEP_RE.match(latest["dir"]) or not (run.checkpoints_dir / latest["dir"]).is_dir():
            notes.append(f"checkpoints/latest.json points to {latest['dir']!r}, which is not on disk")
    try:
        folders = [p for p in run.checkpoints_dir.iterdir() if STEP_RE.match(p.name) and p.is_dir()]
    except OSError:
        folders = []
    epoch_records = [r for r in run.metrics("epoch") if isinstance(r.get("step"), int)
                     and isinstance(r.get("epoch"), int)]
    found = []
    for folder in sorted(folders, key=lambda p: int(STEP_RE.match(p.name).group(1)), reverse=True):
        if not (folder / "ckpt.index").is_file() or not list(folder.glob("ckpt.data-*")):
            notes.append(f"checkpoints/{folder.name} is incomplete (no ckpt.index or data file)")
            continue
        step = int(STEP_RE.match(folder.name).group(1))
        found.append(Checkpoint(folder / "ckpt", step, _checkpoint_epoch(folder, step, latest, epoch_records)))
    return found, notes


def _checkpoint_epoch(folder: Path, step: int, latest: dict | None, epoch_records: list[dict]) -> int | None:
    """Completed epochs at a checkpoint: its own meta.json; else latest.json if it names it; else the last
    epoch the metrics log finished at or before its step (a mid-epoch stop is still in that epoch)."""
    meta = read_json(folder / "meta.json", None)
    if isinstance(meta, dict) and isinstance(meta.get("epoch"), int) and meta.get("step") == step:
        return meta["epoch"]
    if latest and latest.get("dir") == folder.name and isinstance(latest.get("epoch"), int):
        return latest["epoch"]
    finished = [r["epoch"] for r in epoch_records if r["step"] <= step]
    return max(finished) if finished else (0 if step == 0 else None)
