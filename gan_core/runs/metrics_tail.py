"""metrics.jsonl followed as it grows: each refresh parses only the bytes appended since the last one, and the loss
curves come back downsampled to what a chart can show, so a live view costs about the same per refresh after a
week of training as after a minute.

The file is the trainer's append-only log (see gan_core/runs/rundir.py). A refresh notices a file that was truncated,
replaced or rewritten in place (its size shrank, its inode changed, or the bytes before the read offset differ) and
then reads it again from the start. A resumed trainer re-logs the steps after its checkpoint: as in
``runs.superseded_dropped``, a window whose step is not past the last one kept replaces the windows from that step
on (and an epoch record the records of that epoch on).
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .record_schema import record_problem
from .series import SERIES, window_epoch

MAX_POINTS = 2000  # per series: about one point per horizontal pixel of a wide chart, times two for the envelope
_FINGERPRINT = 64  # bytes before the read offset compared on each refresh, to notice a file rewritten in place
_MAX_PENDING = 1 << 20  # a "line" longer than this without a newline is not the trainer's: dropped
_KEYS = tuple(dict.fromkeys(key for key, *_ in SERIES))


def bucket_size(n: int, max_points: int = MAX_POINTS) -> int:
    """Records per bucket: the smallest power of two that makes at most (max_points - 2) / 2 buckets of n records.
    A power of two keeps bucket boundaries fixed while a log grows, so finished buckets are computed once."""
    buckets = max(1, (max_points - 2) // 2)
    need = -(-n // buckets)
    return 1 << max(0, need - 1).bit_length()


def _extremes(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Index (within its bucket) of each bucket's lowest and highest value; len(values) is a multiple of size.
    A NaN is never chosen while its bucket holds a number."""
    rows = values.reshape(-1, size) if values.ndim == 1 else values.reshape(values.shape[0], -1, size)
    missing = np.isnan(rows)
    return np.where(missing, np.inf, rows).argmin(axis=-1), np.where(missing, -np.inf, rows).argmax(axis=-1)


def _points(x: np.ndarray, y: np.ndarray, lows: np.ndarray, highs: np.ndarray,
            size: int) -> tuple[np.ndarray, np.ndarray]:
    """The first and last points and each bucket's low and high in their order; NaN and repeats dropped."""
    n = len(y)
    start = np.arange(len(lows)) * size
    first, second = np.minimum(lows, highs) + start, np.maximum(lows, highs) + start
    index = np.concatenate([[0], np.stack([first, second], axis=1).ravel(), [n - 1]]).astype(np.int64)
    index = index[np.concatenate([[True], np.diff(index) > 0])]  # a flat bucket's low == high, or 0 / n-1 again
    index = index[~np.isnan(y[index])]
    return x[index], y[index]


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` of the points (x sorted) that keep the line's shape: the first and last points and, in
    each bucket of :func:`bucket_size` consecutive points, its lowest and highest, in their order. Every point drawn
    is a real record and every spike survives (a bucket mean would flatten it). NaN (a series absent from a record)
    is left out."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(y)
    if n <= max_points:
        keep = ~np.isnan(y)
        return x[keep], y[keep]
    size = bucket_size(n, max_points)
    pad = -n % size
    lows, highs = _extremes(np.concatenate([y, np.full(pad, np.nan)]), size)
    return _points(x, y, lows, highs, size)


class _Columns:
    """Window records as growable float64 columns (step, x = position in epochs, one per charted series), with the
    downsampling buckets that are full cached: a refresh computes only the buckets that changed."""

    def __init__(self, max_points: int) -> None:
        self.n = 0
        self.max_points = max_points
        self._data = np.empty((2 + len(_KEYS), 1024))
        self._size = 1  # records per bucket of the cached extremes
        self._done = 0  # full buckets whose extremes are cached
        self._lows = np.empty((len(_KEYS), 0), dtype=np.int64)
        self._highs = np.empty((len(_KEYS), 0), dtype=np.int64)

    def append(self, step: float, x: float, record: dict[str, Any]) -> None:
        if self.n and step <= self._data[0, self.n - 1]:  # a resumed trainer re-logs from its checkpoint
            self.n = int(np.searchsorted(self._data[0, :self.n], step, side="left"))
            self._done = min(self._done, self.n // self._size)
        if self.n == self._data.shape[1]:
            self._data = np.concatenate([self._data, np.empty_like(self._data)], axis=1)
        column = self._data[:, self.n]
        column[0], column[1] = step, x
        for i, key in enumerate(_KEYS, start=2):
            value = record.get(key)
            column[i] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan
        self.n += 1

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        n, x, values = self.n, self._data[1, :self.n], self._data[2:, :self.n]
        if n <= self.max_points:
            out = {key: downsample(x, values[i], self.max_points) for i, key in enumerate(_KEYS)}
            return {key: xy for key, xy in out.items() if len(xy[1])}
        size = bucket_size(n, self.max_points)
        if size != self._size:
            self._size, self._done = size, 0
        full = n // size
        if full > self._done:  # only the buckets filled (or re-filled after a roll-back) since the last call
            lows, highs = _extremes(values[:, self._done * size:full * size], size)
            self._lows = np.concatenate([self._lows[:, :self._done], lows], axis=1)
            self._highs = np.concatenate([self._highs[:, :self._done], highs], axis=1)
            self._done = full
        out = {}
        for i, key in enumerate(_KEYS):
            lows, highs = self._lows[i, :full], self._highs[i, :full]
            if n > full * size:  # the bucket being filled
                rest = values[i, full * size:]
                lo, hi = _extremes(np.concatenate([rest, np.full(size - len(rest), np.nan)]), size)
                lows, highs = np.concatenate([lows, lo]), np.concatenate([highs, hi])
            xs, ys = _points(x, values[i], lows, highs, size)
            if len(ys):
                out[key] = (xs, ys)
        return out


class MetricsTail:
    """One run's metrics.jsonl, read incrementally. Safe to share between threads (Streamlit sessions)."""

    def __init__(self, path: str | Path, max_points: int = MAX_POINTS):
        self.path = Path(path)
        self.max_points = max_points
        self._lock = threading.Lock()
        self.version = 0  # bumps whenever what the reader holds changes
        self.resets = 0  # how often the file was read again from the start (truncated, replaced, rewritten)
        self._start_over()

    def _start_over(self) -> None:
        self._identity: tuple[int, int] | None = None
        self._offset = 0
        self._fingerprint = b""
        self._pending = b""
        self._windows = _Columns(self.max_points)
        self.d_reading: str | None = None  # what the windows' d_real / d_fake mean (None: a run from before readings)
        self._epochs: list[dict[str, Any]] = []
        self._discriminator: list[dict[str, Any]] = []  # what D sees, one record per epoch (a few KB each)
        self._series: tuple[int, dict[str, tuple[np.ndarray, np.ndarray]]] | None = None

    # --- reading ---------------------------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Parse what was appended since the last refresh; True when anything changed."""
        with self._lock:
            try:
                f = open(self.path, "rb")
            except OSError:  # not there (yet, or any more)
                if self._identity is None and not self._windows.n and not self._epochs:
                    return False
                self._restart()
                return True
            with f:
                info = os.fstat(f.fileno())
                changed = False
                if self._identity is not None and ((info.st_dev, info.st_ino) != self._identity
                                                   or info.st_size < self._offset or not self._same_prefix(f)):
                    self._restart()
                    changed = True
                self._identity = (info.st_dev, info.st_ino)
                if info.st_size == self._offset:
                    return changed
                f.seek(self._offset)
                data = f.read(info.st_size - self._offset)
            self._offset += len(data)
            self._fingerprint = (self._fingerprint + data)[-_FINGERPRINT:]
            lines = (self._pending + data).split(b"\n")
            self._pending = lines.pop()  # the line being written (or torn): completed by a later append
            if len(self._pending) > _MAX_PENDING:
                self._pending = b""
            for line in lines:
                self._add(line)
            self.version += 1
            return True

    def _restart(self) -> None:
        self._start_over()
        self.resets += 1
        self.version += 1

    def _same_prefix(self, f) -> bool:
        if not self._fingerprint:
            return True
        f.seek(self._offset - len(self._fingerprint))
        return f.read(len(self._fingerprint)) == self._fingerprint

    def _add(self, line: bytes) -> None:
        try:
            record = json.loads(line)
        except ValueError:  # a torn line (the writer was killed mid-record) or garbage
            return
        if record_problem(record):  # the one schema every reader checks (a hand-edited record, garbage)
            return
        kind = record.get("kind")
        if kind == "window":
            step = record.get("step")
            try:
                x = float(window_epoch(record))
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                return
            if isinstance(step, (int, float)) and not isinstance(step, bool) and np.isfinite(x):
                self._windows.append(float(step), x, record)
                self.d_reading = record.get("d_reading", self.d_reading)
        elif kind in ("epoch", "discriminator"):
            epoch = record.get("epoch")
            if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
                kept = self._epochs if kind == "epoch" else self._discriminator
                while kept and kept[-1]["epoch"] >= epoch:  # a resume logs again from its checkpoint
                    kept.pop()
                kept.append(record)

    # --- what the chart needs ---------------------------------------------------------------------------------------
    @property
    def n_windows(self) -> int:
        return self._windows.n

    def epochs(self) -> list[dict[str, Any]]:
        """The epoch records (each epoch's latest)."""
        with self._lock:
            return list(self._epochs)

    def discriminator(self) -> list[dict[str, Any]]:
        """What D saw each epoch (the trainer's kind "discriminator" records, each epoch's latest)."""
        with self._lock:
            return list(self._discriminator)

    def series_now(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """:meth:`refresh`, then :meth:`series`: what a live view draws each second."""
        self.refresh()
        return self.series()

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """series key (series.SERIES) -> (epochs, values), each at most max_points long; computed once per version."""
        with self._lock:
            if self._series is None or self._series[0] != self.version:
                self._series = (self.version, self._windows.series())
            return self._series[1]
