"""Reading a run's records (metrics.jsonl, quality.jsonl) as a viewer should: every record checked by one
validating reader (a hand-edited or damaged record is skipped with a note, never a crash further on), superseded
records dropped, epochs labelled."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..files.disk import read_jsonl
from .naming import ACTIVE_STATES
from .record_schema import record_problem


def read_records(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The one reader of a run's JSONL records: (the usable records in file order, a note for each one skipped,
    e.g. "quality.jsonl line 7: its epoch is '2', not a whole number; skipped"). Torn lines (a write in flight,
    a kill) are skipped silently, as before."""
    records, notes = [], []
    for number, record in enumerate(read_jsonl(path, keep_lines=True), start=1):
        if record is None:
            continue
        problem = record_problem(record)
        if problem:
            notes.append(f"{Path(path).name} line {number}: {problem}; skipped")
        else:
            records.append(record)
    return records, notes

_RECORD_KEYS = {"window": "step", "epoch": "epoch", "discriminator": "epoch"}


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
