"""Reading evaluations: which saved epochs to score, and one line or a table of the figures."""
from __future__ import annotations

from typing import Any

from ..errors import GanError


def parse_epochs(text: str, available: list[int]) -> list[int]:
    """'latest' | 'all' | 'N' | 'N,M,...' -> saved epochs to evaluate, checked against ``available``."""
    text = (text or "latest").strip().lower()
    if not available:
        raise GanError("this run has no saved generator yet; wait for its first epoch to finish")
    if text == "latest":
        return [available[-1]]
    if text == "all":
        return list(available)
    try:
        wanted = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise GanError(f"--epochs takes all, latest or numbers like 5,10; got {text!r}") from None
    missing = [e for e in wanted if e not in available]
    if missing or not wanted:
        raise GanError(f"no saved generator for epoch(s) {', '.join(map(str, missing)) or text}; "
                       f"saved epochs: {', '.join(map(str, available))}")
    return wanted


def summary_line(result: dict[str, Any]) -> str:
    """One line of a result's metrics for a log: 'classifier_fid 37.8 (floor 0.42), ...' (with a no-learning
    baseline where the record has one)."""
    parts = []
    for name, rec in result["metrics"].items():
        notes = [f"{label} {rec[key]:.3g}" for key, label in (("baseline", "baseline"), ("floor", "floor"))
                 if rec.get(key) is not None]
        parts.append(f"{name} {rec['value']:.4g}" + (f" ({', '.join(notes)})" if notes else ""))
    return ", ".join(parts)


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate_model`'s report."""
    lines = [f"{'epoch':>5}  {'metric':18s} {'value':>10s} {'floor':>10s} {'n':>6s}  {'better':6s}  notes"]
    for result in report["results"]:
        for rec in result["metrics"].values():
            notes = ""
            if "classes_covered" in rec:
                notes = (f"covered {rec['classes_covered']}/{rec['num_classes']} classes "
                         f"(real {rec.get('floor_classes_covered', '?')}/{rec['num_classes']})")
            elif "levels" in rec:
                notes = "levels " + " ".join(f"{k}:{v:.2f}" for k, v in rec["levels"].items())
            elif "max" in rec:
                notes = f"max {rec['max']}"
            if rec.get("baseline") is not None:
                notes = (notes + "; " if notes else "") + f"no-learning baseline {rec['baseline']:.4f}"
            epoch = "-" if result.get("epoch") is None else str(result["epoch"])
            floor = "-" if rec.get("floor") is None else f"{rec['floor']:.4f}"
            lines.append(f"{epoch:>5}  {rec['metric']:18s} {rec['value']:>10.4f} {floor:>10s} "
                         f"{rec['n']:>6d}  {rec['better']:6s}  {notes}")
    if report.get("quality_file"):
        lines.append(f"appended to {report['quality_file']}")
    return "\n".join(lines)
