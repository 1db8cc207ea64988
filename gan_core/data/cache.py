"""The decoded-folder cache: a folder decodes once per size and channel count, then loads in a second.

Least recently used entries leave first once the cache is over its limit ($GAN_EXPLORER_CACHE_LIMIT_GB).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..files.disk import atomic_write
from .load_report import ignore

if TYPE_CHECKING:
    pass

CACHE_ENV = "GAN_EXPLORER_CACHE"
CACHE_LIMIT_ENV = "GAN_EXPLORER_CACHE_LIMIT_GB"
DEFAULT_CACHE_LIMIT_GB = 10.0  # decoded folders kept, least recently used first out; CelebA at 64x64 is 2.4 GB
STALE_TEMP_SECONDS = 600.0  # a cache write untouched this long was abandoned (a writer's file keeps a fresh mtime)
# Bump when decoding changes, so that old cache files are not reused.
_CACHE_VERSION = 1


@dataclass(frozen=True)
class ImageFile:
    path: Path
    name: str  # path relative to the folder, with "/" separators
    size: int  # -1 when the file cannot be stat'ed (a broken link)
    mtime_ns: int


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The folder of decoded-image caches: `cache_dir`, else $GAN_EXPLORER_CACHE, else ~/.cache/gan_explorer."""
    return Path(cache_dir or os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gan_explorer").expanduser()


@dataclass(frozen=True)
class CacheEntry:
    """One decoded folder in the cache: its .npy (what marks it complete) and .json notes."""

    array: Path
    notes: Path
    size: int  # bytes of both files
    folder: str | None  # the image folder it decodes; None when an older version wrote it (no note of it)
    describe: dict | None  # folder and decoding settings (image size, channels, limit, aspect)
    last_used: float  # the .npy's mtime: written, or touched by each cache hit


def cache_entries(cache_dir: str | Path | None = None) -> list[CacheEntry]:
    """The cache's entries (also half-written ones: notes without their .npy), least recently used first."""
    root = cache_root(cache_dir)
    try:
        names = os.listdir(root)
    except OSError:
        return []
    entries = []
    for stem in sorted({n[:-5] if n.endswith(".json") else n[:-4] for n in names
                        if n.startswith("folder-") and n.endswith((".npy", ".json"))}):
        array, notes = root / f"{stem}.npy", root / f"{stem}.json"
        size, times = 0, []
        for path in (array, notes):  # last used: the .npy's mtime, else (half written) the notes'
            try:
                info = path.stat()
            except OSError:
                continue
            size += info.st_size
            times.append(info.st_mtime)
        last_used = times[0] if times else 0.0
        describe = None
        try:
            loaded = json.loads(notes.read_text())
            if isinstance(loaded, dict) and isinstance(loaded.get("describe"), dict):
                describe = loaded["describe"]
        except (OSError, ValueError):
            pass
        folder = describe.get("folder") if describe and isinstance(describe.get("folder"), str) else None
        entries.append(CacheEntry(array, notes, size, folder, describe, last_used))
    return sorted(entries, key=lambda e: e.last_used)


def remove_cache_entry(entry: CacheEntry) -> None:
    """Delete an entry's files; a reader that had it open keeps its copy, a later load decodes again."""
    for path in (entry.array, entry.notes):  # the .npy first: without it the entry is no longer used
        path.unlink(missing_ok=True)


def stale_cache_temp_files(cache_dir: str | Path | None = None, now: float | None = None) -> list[Path]:
    """Temporary files of cache writes killed (or out of disk) mid-way: untouched for STALE_TEMP_SECONDS."""
    root, now = cache_root(cache_dir), time.time() if now is None else now
    try:
        names = [n for n in os.listdir(root) if n.startswith(".folder-") and n.endswith(".tmp")]
    except OSError:
        return []
    stale = []
    for name in names:
        try:
            if now - (root / name).stat().st_mtime > STALE_TEMP_SECONDS:
                stale.append(root / name)
        except OSError:
            continue
    return stale


def cache_limit_bytes() -> int:
    """$GAN_EXPLORER_CACHE_LIMIT_GB (default 10) in bytes: what the cache keeps before trimming."""
    raw = os.environ.get(CACHE_LIMIT_ENV)
    try:
        gb = float(raw) if raw else DEFAULT_CACHE_LIMIT_GB
    except ValueError:
        gb = DEFAULT_CACHE_LIMIT_GB
    return int(gb * 1e9) if gb == gb and gb >= 0 else int(DEFAULT_CACHE_LIMIT_GB * 1e9)


def trim_cache(cache_dir: str | Path | None = None, *, keep: Path | None = None, limit_bytes: int | None = None,
               log: Callable[[str], None] | None = None) -> list[Path]:
    """Keep the cache from growing without bound, after an entry (`keep`, its .npy) was written: remove entries of
    the same folder and settings that it supersedes (the folder's files changed, so they can never be read again),
    abandoned temporary files, then the least recently used entries until the cache fits `limit_bytes`
    (default :func:`cache_limit_bytes`). `keep` stays even when it alone is larger. Returns what was removed."""
    log = log or ignore
    limit = cache_limit_bytes() if limit_bytes is None else limit_bytes
    entries = cache_entries(cache_dir)
    kept = next((e for e in entries if keep is not None and e.array == keep), None)
    removed: list[Path] = []

    def drop(entry: CacheEntry, why: str) -> None:
        remove_cache_entry(entry)
        removed.append(entry.array)
        log(f"folder: removed cache {entry.array.name} ({why})")

    rest = []
    for entry in entries:
        if entry is kept:
            continue
        if kept is not None and kept.describe is not None and entry.describe == kept.describe:
            drop(entry, "superseded: the folder's files changed")
        else:
            rest.append(entry)
    for path in stale_cache_temp_files(cache_dir):
        path.unlink(missing_ok=True)
        removed.append(path)
    total = sum(e.size for e in rest) + (kept.size if kept else 0)
    for entry in rest:  # least recently used first
        if total <= limit:
            break
        drop(entry, f"least recently used; the cache keeps {limit / 1e9:g} GB (${CACHE_LIMIT_ENV})")
        total -= entry.size
    return removed


def cache_description(folder: Path, image_size: int, channels: int, limit: int | None, aspect: int) -> dict:
    """What an entry decodes, kept in its notes: which folder (for storage views) and with which settings."""
    return {"folder": str(folder), "image_size": image_size, "channels": channels, "limit": limit, "aspect": aspect}


def cache_paths(
    folder: Path, files: list[ImageFile], image_size: int, channels: int, limit: int | None,
    cache_dir: str | None, aspect: int = 1,
) -> tuple[Path, Path]:
    """(.npy images, .json skip notes); the name hashes everything that changes the decoded array."""
    root = cache_root(cache_dir)
    key = json.dumps(
        {
            "version": _CACHE_VERSION,
            "folder": str(folder),
            "files": [(f.name, f.size, f.mtime_ns) for f in files],
            "image_size": image_size,
            "channels": channels,
            "limit": limit,
            **({"aspect": aspect} if aspect != 1 else {}),  # square crops keep their old cache names
        }
    )
    stem = "folder-" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return root / f"{stem}.npy", root / f"{stem}.json"


def read_cache(
    cache: tuple[Path, Path], files: list[ImageFile], image_size: int, channels: int,
    log: Callable[[str], None], aspect: int = 1, describe: dict | None = None,
) -> tuple[np.ndarray, list[str]] | None:
    """The cached array and skip examples, or None when absent or unusable (then it is rebuilt).

    A hit marks the entry as used (its mtime, for trimming least recently used first) and adds the description
    to notes an older version wrote without it, so storage views can tell which folder it decodes."""
    array_path, notes_path = cache
    if not array_path.exists():
        return None
    try:
        images = np.load(array_path, allow_pickle=False)
        notes = json.loads(notes_path.read_text())
        skipped_examples = [str(example) for example in notes["skipped_examples"]]
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        log(f"folder: ignoring unreadable cache {array_path} ({exc}); decoding again")
        return None
    expected = (image_size, image_size * aspect, channels)
    if images.dtype != np.uint8 or images.shape[1:] != expected or not 0 < len(images) <= len(files):
        log(f"folder: ignoring cache {array_path} with unexpected {images.dtype} {images.shape}; decoding again")
        return None
    try:  # bookkeeping only: a read-only cache still serves the hit
        os.utime(array_path)
        if describe is not None and notes.get("describe") != describe:
            payload = json.dumps({**notes, "describe": describe}).encode()
            atomic_write(notes_path, lambda handle: handle.write(payload))
    except OSError:
        pass
    return images, skipped_examples


def write_cache(
    cache: tuple[Path, Path], images: np.ndarray, skipped_examples: list[str], log: Callable[[str], None],
    describe: dict | None = None,
) -> None:
    """Write atomically (temp file + os.replace); the .npy goes last, so it marks a complete entry. Then trim the
    cache (:func:`trim_cache`), so it does not grow without bound.

    The cache only saves time, so a failure to write or trim it is logged, not raised.
    """
    array_path, notes_path = cache
    try:
        array_path.parent.mkdir(parents=True, exist_ok=True)
        notes = json.dumps({"skipped_examples": skipped_examples, "describe": describe}).encode()
        atomic_write(notes_path, lambda handle: handle.write(notes))
        atomic_write(array_path, lambda handle: np.save(handle, images))
    except OSError as exc:
        log(f"folder: could not write cache {array_path} ({exc}); the next load will decode again")
        return
    log(f"folder: cached decoded images in {array_path}")
    try:
        trim_cache(array_path.parent, keep=array_path, log=log)
    except OSError as exc:
        log(f"folder: could not trim the cache in {array_path.parent} ({exc})")
