"""Finding runs: listing (bad folders skipped with a reason), creating a numbered run, resolving a reference."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Sequence

from ..devices import resolve_config
from ..errors import RunError
from .naming import (
    RUN_RE,
    default_pretrained_dir,
    default_runs_dir,
    is_shipped,
    run_folder_name,
    sanitize_name,
)
from .rundir import RunDir

Skipped = list[tuple[RunDir, str]]  # folders left out of a listing, each with the reason
_PROBLEMS: dict[Path, tuple[tuple, str | None]] = {}  # run folder -> (its JSON files' stat signatures, problem)
_PROBLEMS_KEPT = 100_000


def scan_runs(runs_dir: str | Path | None = None) -> tuple[list[RunDir], Skipped]:
    """Numbered run folders, oldest first, and those skipped because their JSON cannot be read as an object (one
    bad folder must never break a page or `runs`: they say which folder was skipped and why)."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    if not root.is_dir():
        return [], []
    found = sorted((RunDir(p) for p in root.iterdir() if p.is_dir() and RUN_RE.match(p.name)),
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


def filter_runs(runs: Sequence[RunDir], text: str) -> list[RunDir]:
    """The runs whose name, preset or state (as status() reads it: 'interrupted' included) holds every word of
    `text`, case-insensitive, in their order; blank `text` keeps them all. Reads each run's config and status."""
    words = text.lower().split()
    if not words:
        return list(runs)
    kept = []
    for run in runs:
        preset = run.config_dict().get("preset")
        about = f"{run.name} {preset if isinstance(preset, str) else ''} {run.status().get('state', '')}".lower()
        if all(word in about for word in words):
            kept.append(run)
    return kept


def _split_usable(folders) -> tuple[list[RunDir], Skipped]:
    usable, skipped = [], []
    for run in folders:
        problem = _problem(run)
        if problem:
            skipped.append((run, problem))
        else:
            usable.append(run)
    return usable, skipped


def _problem(run: RunDir) -> str | None:
    """run.problem(), read again only when its config.json or status.json changed (replaced, rewritten, created or
    removed): Home lists a thousand runs on every rerun, and reading them all took most of a second."""
    signature = tuple(_stat_signature(p) for p in (run.config_path, run.status_path))
    cached = _PROBLEMS.get(run.path)
    if cached is not None and cached[0] == signature and None not in signature:
        return cached[1]
    problem = run.problem()
    if len(_PROBLEMS) >= _PROBLEMS_KEPT:
        _PROBLEMS.clear()
    _PROBLEMS[run.path] = (signature, problem)
    return problem


def _stat_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def create_run(runs_dir: str | Path | None, cfg) -> RunDir:
    """A new numbered folder holding the resolved config and a 'starting' status, before any training."""
    name = run_folder_name(cfg.name) if cfg.name else sanitize_name(cfg.preset)  # before anything is created
    root = runs_root(runs_dir)
    cfg.name = name
    precision_reason = resolve_config(cfg)  # precision "auto" -> this machine's concrete value, saved below
    run = new_run_folder(root, name)
    for sub in (run.samples_dir, run.generators_dir, run.checkpoints_dir, run.exports_dir):
        sub.mkdir()
    run.write_config(cfg)
    run.write_status(state="starting", epoch=0, epochs=cfg.epochs, step=0, pid=None,
                     host=socket.gethostname(), created_at=time.time())
    if precision_reason:
        run.log_metrics({"kind": "event", "level": "info", "message": precision_reason})
    return run


def runs_root(runs_dir: str | Path | None) -> Path:
    """The runs folder (default: runs/ or $GAN_EXPLORER_RUNS); RunError for one inside the shipped models' folder,
    which is read-only (a run made there would also be listed as a pretrained model)."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    if is_shipped(root):
        raise RunError(f"the runs folder {root} is inside the shipped models' folder, which is read-only; pick "
                       "another with --runs-dir (or $GAN_EXPLORER_RUNS)")
    return root


def new_run_folder(runs_dir: str | Path | None, name: str) -> RunDir:
    """An empty folder NNNNN-name under the runs folder, NNNNN one past the highest number there (made here)."""
    root = runs_root(runs_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create the runs folder {root}: {exc.strerror}; pick another with --runs-dir") from None
    for _ in range(1000):
        taken = [int(m.group(1)) for p in root.iterdir() if (m := RUN_RE.match(p.name))]
        path = root / f"{(max(taken) + 1 if taken else 0):05d}-{name}"
        try:
            path.mkdir()
        except FileExistsError:
            continue  # another process took this number between our listing and mkdir
        except OSError as exc:
            raise RunError(f"cannot create run folder {path}: {exc.strerror}") from None
        return RunDir(path)
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
