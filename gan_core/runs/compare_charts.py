"""Plotly figures of several runs on shared axes (gan_core.runs.comparison makes the lines from run folders): their
losses and D's outputs (``compare_figure``) and their quality metrics (``compare_quality_figure``), one colour per run.
Texts from files reach a figure through `markup.plot_text` (see ``training_charts``)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..markup import plot_text
from .quality_charts import FLOOR_LABEL, FLOOR_LINE, hover_value, panel_title, quality_series
from .training_charts import (BALANCE_DASH, BALANCE_LABEL, SHARED_GREY, add_hlines, balance_legend, balance_note,
                              d_axis)

# One colour per run, in the order the runs were picked (the floor's green last: it is the quality charts' floor).
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
               "#2ca02c")
COMPARED_PANELS = (  # (series key, panel title, row, column) of compare_figure
    ("g_loss", "G loss", 1, 1),
    ("d_loss", "D loss", 1, 2),
    ("d_real", "D(x): D's output on real images", 2, 1),
    ("d_fake", "D(G(z)): D's output on G's images", 2, 2),
)
Lines = Mapping[str, tuple[Sequence[float], Sequence[float]]]  # series key -> (x, y)


@dataclass(frozen=True)
class RunLines:
    """One run's curves for :func:`compare_figure`, on whichever x the caller chose (epochs, minutes)."""
    name: str
    windows: Lines  # per logging window: drawn thin and faint (the noise)
    means: Lines = field(default_factory=dict)  # per epoch: drawn bold with markers (the trend), hovered
    reference: Mapping[str, float] | None = None  # series key -> its value at the game's balance
    reading: Any = None  # what its d_real / d_fake are (objectives.Reading; None: probabilities, an older run)


def _array(values: Sequence[float]) -> np.ndarray:
    """Plotly checks a list element by element (slow for thousands of points) and takes an array as it is."""
    return np.asarray(values, dtype=float)


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def _shared_references(references: Sequence[Mapping[str, float] | None]) -> list[tuple[dict[str, float], list[int]]]:
    """Each distinct reference and the indices of the runs that have it (runs without one left out)."""
    distinct: list[tuple[dict[str, float], list[int]]] = []
    for i, reference in enumerate(references):
        if not reference:
            continue
        for values, owners in distinct:
            if values.keys() == reference.keys() and all(math.isclose(values[k], reference[k], abs_tol=1e-9)
                                                         for k in values):
                owners.append(i)
                break
        else:
            distinct.append((dict(reference), [i]))
    return distinct


def compare_figure(runs: Sequence[RunLines], x_title: str = "epoch", height: int = 560) -> go.Figure:
    """Several runs' G loss, D loss, D(x) and D(G(z)) overlaid, one panel each and one colour per run (same axes, so
    the runs compare at a glance), with each run's balance point as dotted lines where it has one: grey where every
    run shares it, else in the colour of the run it belongs to."""
    shared = _shared_references([run.reference for run in runs])
    axes = list(dict.fromkeys(d_axis(run.reading) for run in runs))  # the D panels' (title, range) per run
    told = {run.reading.name for run in runs if run.reading is not None}
    titles = []
    for key, title, _, _ in COMPARED_PANELS:
        values = list(dict.fromkeys(f"{values[key]:.2f}" for values, _ in shared if key in values))
        if key in ("d_real", "d_fake") and told:  # what the values are: one reading for all runs, or mixed
            title += f" ({axes[0][0]})" if len(axes) == 1 else " (each run's own reading: probability or score)"
        titles.append(f"{title} · {BALANCE_LABEL} {' / '.join(values)}" if values else title)
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.13, horizontal_spacing=0.07,
                        subplot_titles=titles)
    fig.update_annotations(font_size=13)
    drawn: set[str] = set()
    for i, run in enumerate(runs):
        colour, legend, name = run_colour(i), True, plot_text(run.name)
        for key, _, row, col in COMPARED_PANELS:
            window, mean = run.windows.get(key), run.means.get(key)
            has_mean = bool(mean) and len(mean[1]) > 0
            if window and len(window[1]):
                fig.add_trace(go.Scatter(x=_array(window[0]), y=_array(window[1]), name=name, mode="lines",
                                         legendgroup=name, showlegend=legend and not has_mean,
                                         opacity=0.35 if has_mean else 1.0, line=dict(color=colour, width=1),
                                         hoverinfo="skip" if has_mean else None), row=row, col=col)
                legend = legend and has_mean
                drawn.add(key)
            if has_mean:
                fig.add_trace(go.Scatter(x=_array(mean[0]), y=_array(mean[1]), name=name, mode="lines+markers",
                                         legendgroup=name, showlegend=legend, line=dict(color=colour, width=2),
                                         marker=dict(size=5)), row=row, col=col)
                legend = False
                drawn.add(key)
    lines = []
    for values, owners in shared:
        colour = SHARED_GREY if len(owners) > 1 else run_colour(owners[0])
        lines += [(values[key], row, col, dict(color=colour, dash=BALANCE_DASH, width=1.2), "", "")
                  for key, _, row, col in COMPARED_PANELS if key in values and key in drawn]
    if lines:
        add_hlines(fig, lines, cols=2)
        balance_legend(fig)
    for col in (1, 2):
        fig.update_xaxes(title_text=x_title, row=2, col=col, rangemode="tozero")
        fig.update_yaxes(range=axes[0][1] if len(axes) == 1 else None, row=2, col=col)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.06, xanchor="left", x=0),
                      uirevision="keep")
    return fig


COMPARE_NOTE = ("One colour per run, the same in both charts. Faint lines: every logging window; bold lines with "
                "dots: each epoch's mean, the ones to compare (hover for the values). Top: the losses; bottom: D's "
                "mean output on real images (D(x)) and on G's (D(G(z))): D(x) near 1 with D(G(z)) near 0 for long "
                "means that run's D wins and its G learns little.")


def compare_note(runs: Sequence[RunLines]) -> str:
    """The "what am I looking at" caption of :func:`compare_figure` for these runs' reference lines."""
    shared = _shared_references([run.reference for run in runs])
    if not shared:
        return (f"{COMPARE_NOTE} No dotted balance lines: none of these runs' objectives has one value its curves "
                "settle at (hinge, wgan-gp and the image-to-image losses have none).")
    if len(shared) == 1 and len(shared[0][1]) == len(runs):
        return f"{COMPARE_NOTE} {balance_note(shared[0][0])}"
    return (f"{COMPARE_NOTE} Dotted lines: each run's balance, where its curves sit once D can no longer tell G's "
            "images from real ones; it depends on the objective and on real_label (label smoothing lowers D's), "
            "and a run whose objective has none (hinge, wgan-gp) has no line.")


def compare_quality_figure(runs: Sequence[tuple[str, Sequence[dict[str, Any]]]], n: int | None = None,
                           x_key: str = "epoch", x_title: str = "epoch", panel_height: int = 170) -> go.Figure:
    """Several runs' quality metrics overlaid: one panel per metric, one line per run (the colours of
    :func:`compare_figure`), each run's records at sample size ``n`` (None: each run's latest n, which do not
    compare). ``x_key`` is the records' field on x ("epoch", or "minutes" added by gan_core.runs.comparison). The
    real-data floor is one dashed green line where the runs share it, else a dashed line per run in its colour."""
    per_run = [(name, quality_series(records, n)) for name, records in runs]
    metrics = list(dict.fromkeys(m for _, series in per_run for m in series))
    if not metrics:
        return go.Figure(layout=dict(height=panel_height, margin=dict(l=10, r=10, t=30, b=10)))
    titles = [panel_title(metric, next((s[metric][-1].get("better") for _, s in per_run if metric in s), None))
              for metric in metrics]
    rows = len(metrics)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=min(0.12, 0.35 / rows),
                        subplot_titles=titles)
    fig.update_annotations(font_size=13)
    hlines = []
    for row, metric in enumerate(metrics, start=1):
        floors: list[tuple[float, int]] = []
        for i, (name, series) in enumerate(per_run):
            points = [r for r in series.get(metric, []) if isinstance(r.get(x_key), (int, float))]
            if not points:
                continue
            fig.add_trace(go.Scatter(x=_array([r[x_key] for r in points]), y=_array([r["value"] for r in points]),
                                     name=plot_text(name), mode="lines+markers", legendgroup=plot_text(name),
                                     showlegend=row == 1,
                                     line=dict(color=run_colour(i), width=1.8), marker=dict(size=6),
                                     customdata=[[hover_value(r["epoch"]), hover_value(r.get("n"))] for r in points],
                                     hovertemplate="%{y:.4g} (epoch %{customdata[0]}, n = %{customdata[1]})"),
                          row=row, col=1)
            floor = points[-1].get("floor")
            if floor is not None:
                floors.append((floor, i))
        distinct = list(dict.fromkeys(round(f, 9) for f, _ in floors))
        for floor, i in floors if len(distinct) > 1 else floors[:1]:
            colour = run_colour(i) if len(distinct) > 1 else FLOOR_LINE["color"]
            label = FLOOR_LABEL if len(distinct) == 1 else f"{FLOOR_LABEL} ({plot_text(per_run[i][0])})"
            hlines.append((floor, row, 1, dict(FLOOR_LINE, color=colour), label, "left"))
    add_hlines(fig, hlines)
    fig.update_xaxes(rangemode="tozero")
    shown_n = f" (n = {plot_text(n)} images per set)" if n else ""
    fig.update_xaxes(title_text=x_title + shown_n, row=rows, col=1)
    fig.update_layout(height=panel_height * rows + 80, margin=dict(l=10, r=10, t=50, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0), uirevision="keep")
    return fig
