"""quality.jsonl: the quality figures measured for a run's epochs, appended as they are measured."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..files.disk import append_jsonl
from .records import read_records

QUALITY_FILE = "quality.jsonl"


def quality_path(run) -> Path:
    """``<run>/quality.jsonl``: written only by evaluations, so the trainer's metrics.jsonl keeps one writer and
    quality can be measured while a run trains."""
    return Path(run.path) / QUALITY_FILE


def append_quality(run, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Append one ``{"kind": "quality", "epoch", "metric", "value", "floor", ...}`` line per metric of ``result``."""
    records = []
    for rec in result["metrics"].values():
        line = {"kind": "quality", "time": round(time.time(), 3), "epoch": result.get("epoch"),
                **{k: v for k, v in rec.items() if k not in ("class_names", "coverage_rule")}}
        append_jsonl(quality_path(run), line)
        records.append(line)
    return records


def read_quality(run, metric: str | None = None) -> list[dict[str, Any]]:
    """The run's quality records (of one metric), each checked by the one record reader: bad ones are skipped (the
    run's RunDir.record_notes says which)."""
    return [r for r in read_records(quality_path(run))[0] if r.get("kind") == "quality"
            and (metric is None or r.get("metric") == metric)]
