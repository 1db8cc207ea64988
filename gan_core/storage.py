"""What the app keeps besides the run folders, how big it is, which runs use it, and removing what no run uses.

Kept (and listed):
  * upload: an extracted zip of training images, ``<runs>/_uploads/<content id>/`` (a run's config.json ``data``
    or ``data_b`` may name it, or a folder inside it);
  * model: an uploaded ``.keras`` generator, ``<runs>/_uploads/models/`` (opened by the pages, no run uses one);
  * cache: a decoded image folder, ``<cache>/folder-*.npy`` + ``.json`` (gan_core.data; used by the runs whose
    ``data`` is the folder it decodes), or a generator converted for the browser, ``<cache>/browser_models/*.onnx``
    + ``.json`` (gan_core.explore.browser_model), or a shipped generator's principal directions,
    ``<cache>/directions/*.npz`` (its own folder is read-only); both made again when needed, so never in use;
  * export: a generator exported for other runtimes from the Export page (SavedModel, TFLite, ONNX; ~27 MB for a
    digit model), ``<runs>/_exports/<model>/<model>_runtimes*/`` or in a run's ``exports/`` (no run uses one);
  * temp: what killed or out-of-disk writes left: half-extracted uploads, half-written cache entries, and temporary
    files in run folders no trainer holds.

Removal never touches a run folder itself, never an upload or cache a run uses, and re-checks that at the moment
of removal. The data cache is also trimmed as it grows (gan_core.data.trim_cache); trainers clean their own
folder's temporary files when they start (gan_core.runs.clean_temp_files).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .data import cache_entries, stale_cache_temp_files
from .errors import RunError, resource_errors
from .explore import app_exports, browser_model, directions
from .runs import RunDir, default_runs_dir, list_runs, stale_temp_files
from .uploads import uploads_dir

KINDS = ("upload", "model", "cache", "export", "temp")
EXPORTS_FOLDER = "_exports"  # under the runs folder: what the app exports from models that are not runs
_UPLOAD_STALE_SECONDS = 600.0  # a half-extracted upload untouched this long was abandoned
_FRESH_UPLOAD_SECONDS = 120.0  # an upload extracted this recently may be about to become a run's data


@dataclass(frozen=True)
class Stored:
    kind: str  # one of KINDS
    path: Path  # a cache entry's .npy (its .json notes go with it)
    size: int  # bytes on disk
    used_by: tuple[str, ...] = ()  # names of the runs whose config uses it
    detail: str = ""  # e.g. "1,204 files", or the image folder a cache entry decodes
    busy: str = ""  # why it is kept although no run uses it yet, e.g. "just uploaded"

    @property
    def removable(self) -> bool:
        return not self.used_by and not self.busy


def format_bytes(n: int | float) -> str:
    """1536 -> '1.5 KiB': sizes as people read them."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover (the loop returns at GiB)


def list_storage(runs_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                 runs: list[RunDir] | None = None) -> list[Stored]:
    """Everything kept besides the run folders, by kind (uploads, models, caches, exports, temporary files), with
    sizes and the runs that use each. `runs`: the runs folder's runs where the caller has just listed them."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    runs = list_runs(root) if runs is None else runs
    data_paths = _data_paths(runs)
    items = _uploads(root, data_paths) + _caches(cache_dir, data_paths) + _exports(root, runs)
    for run in runs:
        if not _locked(run):  # a trainer holding its run cleans its own folder when it starts
            items += [Stored("temp", p, _size(p), (), f"left in run {run.name}")
                      for p in stale_temp_files(run, time.time())]
    return items


def _locked(run: RunDir) -> bool:
    try:
        return run.is_locked()
    except OSError:  # a lock file this user cannot open: leave that run alone
        return True


def remove(path: str | Path, runs_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> Stored:
    """Remove one listed item that no run uses (looked up again now: a run may have started using it since it was
    listed). RunError for one a run uses or that is not (any more) in the listing."""
    path = Path(path)
    item = next((i for i in list_storage(runs_dir, cache_dir) if i.path == path), None)
    if item is None:
        raise RunError(f"{path} is not an upload, cache or temporary file of this app (or it is already gone); "
                       "list them with `python -m gan_core storage`")
    if item.used_by:
        raise RunError(f"{path} is used by run {', '.join(item.used_by)}; delete that run first if you no longer "
                       "need it")
    if item.busy:
        raise RunError(f"{path} was {item.busy}: a run may be about to start on it; try again in a few minutes")
    with resource_errors(f"removing {path}"):  # e.g. a file this user may not delete
        _delete(item)
    return item


def clean(runs_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> list[Stored]:
    """Remove every listed item that no run uses; returns what was removed."""
    removed = []
    for item in list_storage(runs_dir, cache_dir):
        if item.removable:
            # removed meanwhile (by another tab or process): skipped; one this user may not delete: a ResourceError
            with resource_errors(f"removing {item.path}"), contextlib.suppress(FileNotFoundError):
                _delete(item)
                removed.append(item)
    return removed


@contextlib.contextmanager
def discarded_on_error(path: str | Path | None, runs_dir: str | Path | None = None) -> Iterator[None]:
    """For an upload just stored: if what follows (loading it, starting a run on it) fails, remove it again unless
    a run uses it, so rejected uploads do not pile up. `path` None (an earlier upload reused) does nothing."""
    try:
        yield
    except Exception:
        if path is not None:
            path = Path(path)
            root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
            if not _used_by(path, _data_paths(list_runs(root))):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise


# --- helpers -----------------------------------------------------------------------------------------------------

def _data_paths(runs: list[RunDir]) -> list[tuple[Path, str]]:
    """(resolved data path, run name) for every data / data_b path in the runs' configs."""
    found = []
    for run in runs:
        config = run.config_dict()
        if not isinstance(config, dict):  # a hand-broken config.json: no path to protect
            continue
        for key in ("data", "data_b"):
            value = config.get(key)
            if isinstance(value, str) and value.strip():
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    found.append((Path(value).expanduser().resolve(), run.name))
    return found


def _used_by(path: Path, data_paths: list[tuple[Path, str]], exact: bool = False) -> tuple[str, ...]:
    """Runs whose data is `path` or (unless exact) a folder inside it."""
    target = path.resolve()
    names = [name for data, name in data_paths if data == target or (not exact and data.is_relative_to(target))]
    return tuple(dict.fromkeys(names))


def _uploads(root: Path, data_paths: list[tuple[Path, str]]) -> list[Stored]:
    folder = uploads_dir(root)
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    items = []
    for entry in entries:
        with contextlib.suppress(OSError):  # removed meanwhile, or unreadable: not listed
            items += _upload_items(entry, data_paths)
    return items


def _upload_items(entry: Path, data_paths: list[tuple[Path, str]]) -> list[Stored]:
    """One entry of the uploads folder: the models folder's files, a half-extracted upload, or an upload."""
    if entry.name == "models" and entry.is_dir():
        items = []
        for model in sorted(entry.iterdir()):
            if model.name.endswith(".keras") and not model.name.startswith("."):
                items.append(Stored("model", model, _size(model)))
            elif model.name.startswith(".") and model.name.endswith(".tmp") and _stale(model):
                items.append(Stored("temp", model, _size(model), (), "half-written upload"))
        return items
    if entry.name.startswith("."):
        if entry.name.endswith(".tmp") and _stale(entry):  # extraction staging (mkdtemp .<id>.XXXX.tmp)
            return [Stored("temp", entry, _size(entry), (), "half-extracted upload")]
        return []
    if not entry.is_dir() or entry.is_symlink():
        return []
    size, n_files = _size_and_count(entry)
    info = entry.lstat()  # a finished extraction is renamed into place, which sets the folder's ctime
    fresh = time.time() - max(info.st_mtime, info.st_ctime) < _FRESH_UPLOAD_SECONDS
    return [Stored("upload", entry, size, _used_by(entry, data_paths), f"{n_files:,} files",
                   "just uploaded" if fresh else "")]


def _exports(root: Path, runs: list[RunDir]) -> list[Stored]:
    """The generator exports under the runs folder's _exports/ (pretrained and uploaded models) and in each run's
    exports/ folder."""
    folders = [(p, "") for p in _subfolders(root / EXPORTS_FOLDER)] + [(run.exports_dir, run.name) for run in runs]
    items = []
    for folder, run_name in folders:
        for found in app_exports.find(folder):
            what = f"{', '.join(found.formats) or 'no format'} of {found.source or 'an unknown generator'}"
            items.append(Stored("export", found.path, _size(found.path), (),
                                f"{what} (in run {run_name})" if run_name else what))
    return items


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []


def _caches(cache_dir: str | Path | None, data_paths: list[tuple[Path, str]]) -> list[Stored]:
    items = []
    for entry in cache_entries(cache_dir):
        used = _used_by(Path(entry.folder), data_paths, exact=True) if entry.folder else ()
        what = entry.folder or "an image folder (written by an older version: which one is unknown)"
        if not entry.array.exists():
            what = f"half-written: {what}"
        items.append(Stored("cache", entry.array, entry.size, used, what))
    items += [Stored("temp", p, _size(p), (), "half-written cache entry") for p in stale_cache_temp_files(cache_dir)]
    items += [Stored("cache", path, size, (), "a generator converted for the browser (ONNX)")
              for path, size in browser_model.cached_models(cache_dir)]
    items += [Stored("temp", p, _size(p), (), "half-written browser model")
              for p in browser_model.stale_temp_files(cache_dir)]
    items += [Stored("cache", path, size, (), "principal directions of a shipped generator")
              for path, size in directions.cached_files(cache_dir)]
    return items


def _delete(item: Stored) -> None:
    if item.kind == "cache":  # the .npy first: without it the entry is no longer read
        if not item.path.exists() and not item.path.with_suffix(".json").exists():
            raise FileNotFoundError(item.path)
        item.path.unlink(missing_ok=True)
        item.path.with_suffix(".json").unlink(missing_ok=True)
    elif item.path.is_dir() and not item.path.is_symlink():
        shutil.rmtree(item.path)
    else:
        item.path.unlink()


def _size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (links not followed)."""
    return _size_and_count(path)[0]


def _size_and_count(path: Path) -> tuple[int, int]:
    try:
        if not path.is_dir() or path.is_symlink():
            return path.lstat().st_size, 1
    except OSError:
        return 0, 0
    total = count = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(dirpath) / name).lstat().st_size
                count += 1
    return total, count


def _stale(path: Path) -> bool:
    """Untouched (the newest file under it, for a folder) for _UPLOAD_STALE_SECONDS: its writer is gone."""
    newest = 0.0
    try:
        newest = path.lstat().st_mtime
        if path.is_dir() and not path.is_symlink():
            for dirpath, dirs, files in os.walk(path):
                for name in dirs + files:
                    with contextlib.suppress(OSError):
                        newest = max(newest, (Path(dirpath) / name).lstat().st_mtime)
    except OSError:
        return False
    return time.time() - newest > _UPLOAD_STALE_SECONDS
