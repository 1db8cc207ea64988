"""What a record of a run's JSONL logs (metrics.jsonl, quality.jsonl) must look like to be read: one schema, checked
by every reader (gan_core.runs' files, the live view's tail of metrics.jsonl), so that a hand-edited or damaged
record is skipped with a note where it is read instead of crashing whatever uses it later (a dict where a name
is looked up, a NaN rounded, a string compared with a number)."""
from __future__ import annotations

import math
from typing import Any, Callable


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:  # NaN and inf too: a diverged run's losses are what was measured
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _number(value) and math.isfinite(value)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _timed_parts(value: Any) -> bool:  # a side_work record's seconds: part name -> seconds
    return isinstance(value, dict) and all(isinstance(k, str) and _finite(v) for k, v in value.items())


_WHAT = {_whole: "a whole number", _number: "a number", _finite: "a finite number", _text: "text",
         _timed_parts: "seconds by part"}
# (kind, field) -> (check, required); a field of every kind is under kind None, unless its kind says otherwise.
# Fields not listed are not read.
_SCHEMA: dict[tuple[str | None, str], tuple[Callable[[Any], bool], bool]] = {
    (None, "kind"): (_text, True), (None, "time"): (_finite, False), (None, "seconds"): (_finite, False),
    (None, "images_per_sec"): (_finite, False), (None, "step"): (_whole, False),
    ("window", "step"): (_whole, True), ("window", "epoch"): (_finite, True),
    ("window", "step_in_epoch"): (_whole, False), ("window", "steps_per_epoch"): (_whole, False),
    ("epoch", "epoch"): (_whole, True), ("discriminator", "epoch"): (_whole, True),
    ("side_work", "epoch"): (_whole, True), ("side_work", "seconds"): (_timed_parts, True),
    ("event", "message"): (_text, False),
    ("quality", "epoch"): (_whole, False), ("quality", "metric"): (_text, True), ("quality", "value"): (_finite, True),
    ("quality", "n"): (_whole, False), ("quality", "floor"): (_number, False), ("quality", "better"): (_text, False),
}
LOSS_FIELDS = ("g_loss", "d_loss", "d_real", "d_fake", "g_gan", "g_l1", "cycle", "identity")
_SCHEMA.update({(None, key): (_number, False) for key in LOSS_FIELDS})


def record_problem(record: Any) -> str | None:
    """Why a viewer cannot use this record (a field of the wrong type, a required one missing), or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    kind = record.get("kind")
    for (of, key), (check, required) in _SCHEMA.items():
        if (of is not None and of != kind) or (of is None and isinstance(kind, str) and (kind, key) in _SCHEMA):
            continue
        if key not in record:
            if required:
                return f"its {key} is missing"
        elif not check(record[key]) and not (kind == "quality" and key == "epoch" and record[key] is None):
            return f"its {key} is {str(record[key])[:40]!r}, not {_WHAT[check]}"
    return None
