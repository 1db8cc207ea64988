"""Plotly figures of a run's sample quality (quality.jsonl, written by `python -m gan_core evaluate RUN --epochs all`):
one panel per metric against epochs, with the real-data floor each is read against. Texts from files reach a figure
through `markup.plot_text` (see ``training_charts``)."""
from __future__ import annotations

from typing import Any, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..markup import plot_text
from .training_charts import MARKER_LINE

QUALITY_NOTE = ("Each panel scores the generator saved at that epoch on n images (hover for details); the dashed green "
                "line is the real-data floor, the same metric between two sets of real images: what a perfect "
                "generator would score. Only values measured at the same n compare.")


# metric -> (panel label, colour); metrics not listed here follow in the order they first appear.
QUALITY_METRICS = {
    "classifier_fid": ("classifier-FID", "#636efa"),
    "classifier_score": ("classifier score", "#ef553b"),
    "mode_coverage": ("mode coverage KL", "#00cc96"),
    "swd": ("SWD ×1e3", "#ab63fa"),
    "class_agreement": ("class agreement", "#ffa15a"),  # class-conditional generators
    # image-to-image (gan_core.evaluation.translation_quality)
    "l1": ("L1 to the target", "#636efa"),
    "ssim": ("SSIM to the target", "#ef553b"),
    "chroma_l1": ("colour error (chroma L1)", "#00cc96"),
    "cycle_l1": ("cycle L1", "#636efa"),
    "fid_ab": ("classifier-FID of A→B", "#ef553b"),
    "fid_ba": ("classifier-FID of B→A", "#00cc96"),
    "swd_ab": ("SWD ×1e3 of A→B", "#ef553b"),
    "swd_ba": ("SWD ×1e3 of B→A", "#00cc96"),
    "cycle_agreement": ("round trip keeps the class", "#ab63fa"),
}
FLOOR_LABEL = "real-data floor"
BASELINE_LABEL = "no-learning baseline"
FLOOR_LINE = dict(color="#2ca02c", dash="dash", width=1.5)
_BASELINE_LINE = dict(color="#999", dash="dot", width=1.5)


def panel_title(metric: str, better: Any) -> str:
    """A quality panel's title: the metric's label (an unknown metric's name from quality.jsonl, as text), and which
    way is better."""
    label = plot_text(QUALITY_METRICS.get(metric, (metric, None))[0])
    return f"{label} ({better} is better)" if better in ("lower", "higher") else label


def hover_value(value: Any) -> Any:
    """A record's field for hover text: a string (quality.jsonl may hold one anywhere) as text, numbers as they are."""
    return plot_text(value) if isinstance(value, str) else value


def quality_sample_sizes(records: Sequence[dict[str, Any]]) -> list[int]:
    """The n (images per set) of the quality records, the latest measured first: values at different n do not
    compare (FID falls as n grows), so a chart shows one n at a time."""
    sizes: list[int] = []
    for rec in reversed(records):
        if rec.get("n") is not None and rec["n"] not in sizes:
            sizes.append(rec["n"])
    return sizes


def quality_series(records: Sequence[dict[str, Any]], n: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """metric -> its records at sample size ``n`` (default: the latest n), one per epoch (a re-evaluated epoch keeps
    its latest record), sorted by epoch. Records without an epoch (a bare .keras file) are left out."""
    if n is None:
        sizes = quality_sample_sizes(records)
        n = sizes[0] if sizes else None
    latest: dict[tuple[str, Any], dict[str, Any]] = {}
    for rec in records:  # file order is time order: a later record of the same epoch replaces an earlier one
        if rec.get("metric") and rec.get("epoch") is not None and rec.get("value") is not None and rec.get("n") == n:
            latest[(rec["metric"], rec["epoch"])] = rec
    order = list(QUALITY_METRICS) + [m for m, _ in latest if m not in QUALITY_METRICS]
    series: dict[str, list[dict[str, Any]]] = {}
    for metric in dict.fromkeys(order):
        points = sorted((r for (m, _), r in latest.items() if m == metric), key=lambda r: r["epoch"])
        if points:
            series[metric] = points
    return series


def quality_figure(records: Sequence[dict[str, Any]], mark_epoch: float | None = None, n: int | None = None,
                   panel_height: int = 150) -> go.Figure:
    """One small panel per quality metric against epochs, each with its real-data floor as a dashed horizontal line.

    ``records`` are ``metrics.read_quality(run)``'s (``{"epoch", "metric", "value", "floor", "n", "better", ...}``);
    only those at sample size ``n`` are drawn (default: the latest n measured). The floor is the latest record's: what
    a perfect generator scores at that n (for the classifier score, the real images' score, reached from below).
    ``mark_epoch`` draws the same vertical line as :func:`training_figure`.
    """
    series = quality_series(records, n)
    if n is None and series:
        n = next(iter(series.values()))[0]["n"]
    if not series:
        return go.Figure(layout=dict(height=panel_height, margin=dict(l=10, r=10, t=30, b=10)))
    titles = [panel_title(metric, points[-1].get("better")) for metric, points in series.items()]
    rows = len(series)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=min(0.12, 0.35 / rows),
                        subplot_titles=titles)
    fig.update_annotations(font_size=13)  # the panel titles (the floor labels come later, in their own font)
    fallback = ("#ffa15a", "#19d3f3", "#ff6692", "#b6e880")
    for row, (metric, points) in enumerate(series.items(), start=1):
        label, colour = QUALITY_METRICS.get(metric, (metric, fallback[(row - 1) % len(fallback)]))
        notes = []
        for r in points:
            note = f"floor {r['floor']:.4g}" if r.get("floor") is not None else ""
            if "classes_covered" in r and "num_classes" in r:
                note += f", {r['classes_covered']}/{r['num_classes']} classes covered"
            notes.append(plot_text(note))
        fig.add_trace(go.Scatter(x=[r["epoch"] for r in points], y=[r["value"] for r in points], name=plot_text(label),
                                 mode="lines+markers", line=dict(color=colour, width=1.5), marker=dict(size=6),
                                 customdata=notes, hovertemplate="%{y:.4g} (%{customdata})", showlegend=False),
                      row=row, col=1)
        floor = points[-1].get("floor")
        if floor is not None:
            fig.add_hline(y=floor, line=FLOOR_LINE, row=row, col=1,
                          annotation_text=plot_text(points[-1].get("floor_label", FLOOR_LABEL)),
                          annotation_position="top left", annotation_font=dict(size=11, color=FLOOR_LINE["color"]))
        baseline = points[-1].get("baseline")  # image-to-image: what no learning scores (the input as it is)
        if baseline is not None:
            fig.add_hline(y=baseline, line=_BASELINE_LINE, row=row, col=1, annotation_text=BASELINE_LABEL,
                          annotation_position="bottom right",
                          annotation_font=dict(size=11, color=_BASELINE_LINE["color"]))
        if mark_epoch is not None:
            fig.add_vline(x=mark_epoch, line=MARKER_LINE, row=row, col=1)
    fig.update_xaxes(rangemode="tozero")
    fig.update_xaxes(title_text=f"epoch (n = {plot_text(n)} images per set)" if n else "epoch", row=rows, col=1)
    fig.update_layout(height=panel_height * rows + 50, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                      uirevision="keep")
    return fig
