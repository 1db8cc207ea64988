"""Several runs side by side, as data: their curves on shared axes (x by epoch or by training time), their snapshot
grids at one epoch, the config fields that differ between them and one summary row each. compare_charts draws the
figures; the Compare page shows the rest. Nothing here loads a model.

Training time comes from the records' ``time`` fields: seconds since the run's first record, less each pause between
a stop (or a kill) and the resume that followed it (from the last window or epoch record before the trainer's
"resumed from ..." event to that event), so a run stopped overnight does not look a night slower.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from ..algorithm import objectives
from ..config import TrainConfig
from . import compare_charts, quality_charts
from .metrics_tail import downsample
from .quality import quality_path, read_quality
from .rundir import RunDir
from .series import SERIES as LOG_SERIES
from .series import window_epoch

SERIES = tuple(key for key, *_ in compare_charts.COMPARED_PANELS)  # what the curves compare: G/D loss, D(x), D(G(z))
RESUMED = "resumed from "  # the start of the trainer's event when a new process continues from a checkpoint
MAX_POINTS = 1000  # per series and run: several runs share one chart
# "name" differs between any two runs and says nothing about the recipe; "task" follows from the architecture
IGNORED_FIELDS = ("name", "task")
ABSENT = "—"  # a field a run's config.json does not have and TrainConfig does not know
X_AXES = {"epoch": "epoch", "minutes": "training time (minutes)"}  # x key -> axis title
BETTER_ARROWS = {"lower": "↓", "higher": "↑"}  # after a quality metric's name in the summary: which way is better


@dataclass(frozen=True)
class Compared:
    """One run (or pretrained model) as a comparison reads it. Records are metrics.jsonl's (superseded ones
    dropped), each window and epoch record with ``seconds``, its training time; quality records (those with an
    epoch) get ``minutes`` where that epoch has an epoch record (epoch 0: 0)."""
    run: RunDir
    label: str  # unique among the compared runs: the folder name, numbered where two share one
    config: dict[str, Any]
    windows: list[dict[str, Any]]
    epochs: list[dict[str, Any]]
    quality: list[dict[str, Any]]
    sample_epochs: list[int]
    balance: dict[str, float] | None  # the objective's balance point (RunDir.balance_point), or None


def labels(runs: Sequence[RunDir]) -> list[str]:
    """The runs' folder names, made unique (a run and a pretrained model may share one): 'name (2)' etc."""
    seen: dict[str, int] = {}
    out = []
    for run in runs:
        seen[run.name] = seen.get(run.name, 0) + 1
        out.append(run.name if seen[run.name] == 1 else f"{run.name} ({seen[run.name]})")
    return out


def version(runs: Sequence[RunDir]) -> tuple:
    """What changes when anything :func:`load` reads changes (sizes and mtimes), to key a cache on."""
    stamp = []
    for run in runs:
        for path in (run.config_path, run.metrics_path, quality_path(run), run.samples_dir):
            try:
                info = os.stat(path)
                stamp.append((str(path), info.st_size, info.st_mtime_ns))
            except OSError:
                stamp.append((str(path), None, None))
    return tuple(stamp)


def training_seconds(records: Sequence[dict[str, Any]]) -> list[float | None]:
    """Each record's training time in seconds (None for one without a numeric ``time``): since the first timed
    record, less the pauses before each resume (see the module's docstring). Records in file order."""
    out: list[float | None] = []
    start, paused, last_step_time = None, 0.0, None
    for record in records:
        t = record.get("time")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            out.append(None)
            continue
        if start is None:
            start = t
        if (record.get("kind") == "event" and str(record.get("message", "")).startswith(RESUMED)
                and last_step_time is not None):
            paused += max(0.0, t - last_step_time)
            last_step_time = t
        if record.get("kind") in ("window", "epoch"):
            last_step_time = t
        out.append(max(0.0, t - start - paused))
    return out


def load(runs: Sequence[RunDir]) -> list[Compared]:
    """Everything a comparison of `runs` shows, read once from their folders."""
    compared = []
    for run, label in zip(runs, labels(runs)):
        records = run.metrics()
        for record, seconds in zip(records, training_seconds(records)):
            if seconds is not None and record.get("kind") in ("window", "epoch"):
                record["seconds"] = round(seconds, 3)
        windows = [r for r in records if r.get("kind") == "window" and isinstance(r.get("epoch"), (int, float))]
        epochs = [r for r in records if r.get("kind") == "epoch" and isinstance(r.get("epoch"), (int, float))]
        minutes_at = {0: 0.0, **{r["epoch"]: r["seconds"] / 60 for r in epochs if "seconds" in r}}
        quality = []
        for record in read_quality(run):
            if record.get("epoch") is None:
                continue
            if record["epoch"] in minutes_at:
                record = {**record, "minutes": minutes_at[record["epoch"]]}
            quality.append(record)
        compared.append(Compared(run, label, run.config_dict(), windows, epochs, quality, run.sample_epochs(),
                                 run.balance_point()))
    return compared


# --- curves ---------------------------------------------------------------------------------------------------

def _x(record: dict[str, Any], x: str, window: bool) -> float | None:
    if x == "minutes":
        return record["seconds"] / 60 if "seconds" in record else None
    return window_epoch(record) if window else record["epoch"]


def _line(records: Sequence[dict[str, Any]], key: str, x: str, window: bool,
          max_points: int) -> tuple[list[float], list[float]] | None:
    points = [(xv, r[key]) for r in records if isinstance(r.get(key), (int, float)) and not isinstance(r[key], bool)
              and (xv := _x(r, x, window)) is not None]
    if not points:
        return None
    xs, ys = np.array([p[0] for p in points], float), np.array([p[1] for p in points], float)
    index, ys = downsample(np.arange(len(ys), dtype=float), ys, max_points)
    return xs[index.astype(int)].tolist(), ys.tolist()


def run_lines(compared: Sequence[Compared], x: str = "epoch",
              max_points: int = MAX_POINTS) -> list[compare_charts.RunLines]:
    """Each run's G/D loss and D(x)/D(G(z)) per window (at most `max_points` a series, every spike kept) and per
    epoch, on x = "epoch" or "minutes" (training time), with its balance point: compare_figure's input."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {', '.join(X_AXES)}; got {x!r}")
    out = []
    for c in compared:
        windows = {k: line for k in SERIES if (line := _line(c.windows, k, x, True, max_points))}
        means = {k: line for k in SERIES if (line := _line(c.epochs, k, x, False, max_points))}
        out.append(compare_charts.RunLines(c.label, windows, means, c.balance, objectives.reading_of(c.windows)))
    return out


def quality_sizes(compared: Sequence[Compared]) -> list[int]:
    """The sample sizes n at which every run with quality records has some, most images first (the most
    accurate); [] when they share none (then each run's values are at its own n, and do not compare) or no run
    has any. Runs never evaluated are left out: they have no value at any n."""
    sizes = [set(quality_charts.quality_sample_sizes(c.quality)) for c in compared if c.quality]
    common = set.intersection(*sizes) if sizes else set()
    return sorted(common, reverse=True)


def quality_runs(compared: Sequence[Compared]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(label, quality records) of the runs that have any: compare_charts.compare_quality_figure's input."""
    return [(c.label, c.quality) for c in compared if c.quality]


# --- what differs, and how each did ----------------------------------------------------------------------------

def show_value(value: Any) -> str:
    """A config value as the diff table shows it: numbers short (2e-4 as 0.0002), text as it is."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value if value else "(empty)"
    return json.dumps(value)


def _field_order(keys: set[str]) -> list[str]:
    known = [f.name for f in dataclasses.fields(TrainConfig)]
    return [k for k in known if k in keys] + sorted(keys - set(known))


def effective_config(values: dict[str, Any]) -> dict[str, Any]:
    """A config.json's values with every TrainConfig field it lacks at its default: a field added after a run was
    made has the default that trains as that run did (that is how such a run still resumes)."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.default is not dataclasses.MISSING}
    return {**defaults, **values}


def config_diff(compared: Sequence[Compared], ignore: Sequence[str] = IGNORED_FIELDS) -> list[dict[str, str]]:
    """One row per config field whose value is not the same in every run ({"field": name, label: value, ...}), in
    TrainConfig's order. Fields a run's config.json lacks count at their default (:func:`effective_config`); an
    unknown field one run lacks reads as "—". Empty when the configs agree."""
    configs = [effective_config(c.config) for c in compared]
    keys = set().union(*configs) - set(ignore) if compared else set()
    rows = []
    for key in _field_order(keys):
        shown = [show_value(config[key]) if key in config else ABSENT for config in configs]
        if len(set(shown)) > 1:  # compared as shown: 1 and 1.0 are the same value, True and 1 are not
            rows.append({"field": key, **dict(zip((c.label for c in compared), shown))})
    return rows


def summary(compared: Sequence[Compared], n: int | None = None) -> list[dict[str, Any]]:
    """One row per run: epochs trained; each quality metric's value at the last epoch measured at sample size `n`
    (None: the run's latest n, given in the row), named with ↓ or ↑ for the better way, and that epoch; the last
    epoch's mean G loss, D loss, D(x) and D(G(z)); the median images/s over its epochs; its training time. Missing
    values are None."""
    metrics = list(dict.fromkeys(m for c in compared for m in quality_charts.quality_series(c.quality, n)))
    rows = []
    for c in compared:
        last = c.epochs[-1] if c.epochs else {}
        speeds = [r["images_per_sec"] for r in c.epochs if isinstance(r.get("images_per_sec"), (int, float))]
        timed = [r["seconds"] for r in c.windows + c.epochs if "seconds" in r]
        row: dict[str, Any] = {"run": c.label, "epochs": last.get("epoch")}
        series = quality_charts.quality_series(c.quality, n)  # quality first: it is what "did it help?" asks
        measured = [points[-1] for points in series.values()]
        for metric in metrics:
            label = quality_charts.QUALITY_METRICS.get(metric, (metric, None))[0]
            points = series.get(metric)
            better = next((s[metric][-1].get("better") for s in (quality_charts.quality_series(o.quality, n)
                                                                 for o in compared) if metric in s), None)
            heading = f"{label} {BETTER_ARROWS[better]}" if better in BETTER_ARROWS else label
            row[heading] = float(f"{points[-1]['value']:.4g}") if points else None
        if metrics:
            row["quality at epoch"] = max(r["epoch"] for r in measured) if measured else None
            if n is None:
                row["quality n"] = measured[0].get("n") if measured else None
        for key, _, _, _ in compare_charts.COMPARED_PANELS:
            name = next(name for k, name, *_ in LOG_SERIES if k == key)
            row[name] = _rounded(last.get(key), 3)
        row["images/s"] = round(statistics.median(speeds)) if speeds else None
        row["training time (min)"] = round(max(timed) / 60, 1) if timed else None
        rows.append(row)
    return rows


def show_number(value: Any) -> str:
    """A summary value as text: whole numbers with thousands separators, others to 4 significant digits."""
    if value is None:
        return ABSENT
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"
    return str(value)


def summary_table(compared: Sequence[Compared], n: int | None = None) -> list[dict[str, str]]:
    """:func:`summary` turned for reading side by side: one row per measure ({"measure": name, label: value, ...}),
    one column per run, values as text ("—" where a run has none)."""
    rows = summary(compared, n)
    measures = list(dict.fromkeys(k for row in rows for k in row if k != "run"))
    return [{"measure": m, **{row["run"]: show_number(row.get(m)) for row in rows}} for m in measures]


def _rounded(value: Any, digits: int) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return round(float(value), digits)


# --- the snapshot grids at one epoch ---------------------------------------------------------------------------

def grid_epochs(compared: Sequence[Compared], every_epoch: bool = False) -> tuple[list[int], bool]:
    """The epochs for one slider over every run's grids, and whether every run has a grid at each of them: the
    epochs all runs share (when they share two or more), else, or with `every_epoch`, every epoch any run has
    (each run then shows its nearest grid, see :func:`grid_at`)."""
    lists = [set(c.sample_epochs) for c in compared if c.sample_epochs]
    if not lists:
        return [], True
    common = sorted(set.intersection(*lists)) if len(lists) == len(compared) else []
    if len(common) >= 2 and not every_epoch:
        return common, True
    union = sorted(set().union(*lists))
    return union, union == common


def nearest_epoch(epochs: Sequence[int], wanted: int) -> int | None:
    """The epoch in `epochs` nearest to `wanted` (the earlier one on a tie); None for none."""
    return min(epochs, key=lambda e: (abs(e - wanted), e)) if epochs else None


def grid_at(compared: Compared, epoch: int) -> tuple[int | None, Path | None]:
    """(the epoch shown, its grid's path) of a run at the slider's `epoch`: that epoch's grid, else the nearest
    one the run has; (None, None) for a run without grids."""
    shown = nearest_epoch(compared.sample_epochs, epoch)
    return (shown, compared.run.sample_path(shown)) if shown is not None else (None, None)
