"""Plotly figures of one run's logs (no UI here: the app shows them, tests inspect them): its losses and D's mean
outputs against epochs (``training_figure`` / ``series_figure``, with the game's balance as reference lines) and what
D sees (``discriminator_figure``, ``score_histogram``: evaluation.discriminator_view's records). The quality
charts are ``quality_charts``, several runs' ``compare_charts``; the line styles they share are here.

Every text from a file or a folder (run names, metric names, floor labels, quality.jsonl fields) goes into a figure
through `markup.plot_text`: Plotly draws a subset of HTML (`<a href>`, `<span style>`) in titles, legends, hover
text and annotations."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .series import SERIES, window_series

MARKER_LINE = dict(color="#888", dash="dash", width=1.5)  # mark_epoch's vertical line, the same on every chart
BALANCE_DASH = "dot"  # reference lines at the game's balance (an objective's balance point)
BALANCE_LABEL = "balance"
SHARED_GREY = "#999"  # a reference line that belongs to no one series or run: readable on light and dark themes


def d_axis(reading: Any = None) -> tuple[str, tuple[float, float] | None]:
    """(axis title, fixed range or None) for D's output as `reading` (gan_core.algorithm.objectives.Reading) shows it: a
    probability on [0, 1]; a score (least squares, a critic's) on its own range. None: a run from before readings,
    whose records hold probabilities."""
    if reading is None or reading.sigmoid:
        return (reading.axis if reading is not None else "mean D output"), (0, 1)
    return reading.axis, None


def training_figure(windows: Sequence[dict[str, Any]], epochs: Sequence[dict[str, Any]] = (),
                    mark_epoch: float | None = None, height: int = 440,
                    reference: Mapping[str, float] | None = None, reading: Any = None) -> go.Figure:
    """Losses (top) and D's mean outputs on real and generated images (bottom) against epochs.

    `windows` are the trainer's per-window records (a line each); `epochs` its per-epoch means (markers);
    `mark_epoch` draws a vertical line, e.g. at the snapshot being looked at; `reference` (series key -> value, e.g.
    ``RunDir.balance_point()``) a dotted line per series where the game is at balance.
    """
    return series_figure(window_series(windows), epochs, mark_epoch, height, reference=reference, reading=reading)


def series_figure(series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                  epochs: Sequence[dict[str, Any]] = (), mark_epoch: float | None = None,
                  height: int = 440, *, reference: Mapping[str, float] | None = None,
                  reading: Any = None) -> go.Figure:
    """:func:`training_figure` from ready-made lines, key -> (x in epochs, values): e.g. the downsampled ones of
    gan_core.runs.metrics_tail, so a long run's chart holds a few thousand points, not every window.

    `reference` (off by default): series key -> its value at the game's balance (``RunDir.balance_point()``, or
    ``objectives.get(loss).balance_point(real_label)``), drawn as a dotted horizontal line in the series' colour and
    panel for each series on the chart; D(x) and D(G(z)) share one line where their values are equal. `reading`
    (the run's objectives.Reading) titles the bottom panel: a probability, or a score on its own range."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    drawn = set()
    for key, name, colour, row in SERIES:
        points = series.get(key)
        if points is not None and len(points[1]):
            fig.add_trace(go.Scatter(x=points[0], y=points[1], name=name, mode="lines",
                                     line=dict(color=colour, width=1.5), legendgroup=key), row=row, col=1)
            drawn.add(key)
        else:
            points = None
        means = [r for r in epochs if key in r]
        if means:
            fig.add_trace(go.Scatter(x=[r["epoch"] for r in means], y=[r[key] for r in means],
                                     name=f"{name} (epoch mean)", mode="markers", legendgroup=key,
                                     showlegend=points is None, marker=dict(color=colour, size=7, symbol="diamond")),
                          row=row, col=1)
            drawn.add(key)
    if mark_epoch is not None:
        for row in (1, 2):
            fig.add_vline(x=mark_epoch, line=MARKER_LINE, row=row, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="loss", row=1, col=1)
    title, fixed = d_axis(reading)
    fig.update_yaxes(title_text=title, range=fixed, row=2, col=1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
                      uirevision="keep")  # keep the user's zoom while the live view refreshes
    if reference:  # after the marker: a chart's first shape stays the epoch marker
        _add_balance_lines(fig, {k: v for k, v in reference.items() if k in drawn})
    return fig


def _balance_lines(reference: Mapping[str, float]) -> list[tuple[int, float, str, str]]:
    """(panel row, value, colour, label) of each reference line: one per series, except that series of one panel
    with the same value (D(x) and D(G(z)) at balance) share a grey line."""
    by_row: dict[tuple[int, float], list[tuple[str, str]]] = {}
    for key, name, colour, row in SERIES:
        value = reference.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            by_row.setdefault((row, round(float(value), 9)), []).append((name, colour, float(value)))
    lines = []
    for (row, _), named in by_row.items():
        value = named[0][2]
        colour = named[0][1] if len(named) == 1 else SHARED_GREY
        lines.append((row, value, colour, f"{value:.2f}"))
    return lines


def _axes(row: int, col: int, cols: int) -> tuple[str, str]:
    """make_subplots' axis names of the panel at (row, col): x, y for the first, x2, y2 ... after."""
    k = (row - 1) * cols + col
    return ("x", "y") if k == 1 else (f"x{k}", f"y{k}")


def add_hlines(fig: go.Figure, lines: Sequence[tuple[float, int, int, dict, str, str]], cols: int = 1) -> None:
    """Horizontal lines across whole panels, each (y, row, col, line style, label, where): the label just above
    the line at its "left" end, or in the margin "outside" its right end (where no curve runs under it). What
    add_hline draws, added at once (add_hline takes ~0.1 s a line)."""
    shapes, notes = list(fig.layout.shapes), list(fig.layout.annotations)
    for y, row, col, line, label, where in lines:
        xref, yref = _axes(row, col, cols)
        shapes.append(dict(type="line", xref=f"{xref} domain", x0=0, x1=1, yref=yref, y0=y, y1=y, line=line))
        if label:
            outside = where == "outside"
            notes.append(dict(xref=f"{xref} domain", x=1.005 if outside else 0, xanchor="left", yref=yref, y=y,
                              yanchor="middle" if outside else "bottom", text=label, showarrow=False,
                              font=dict(size=11, color=line.get("color"))))
    fig.update_layout(shapes=shapes, annotations=notes)


def balance_legend(fig: go.Figure) -> None:
    """A legend entry saying what the dotted lines are (a trace with no points)."""
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=BALANCE_LABEL, hoverinfo="skip",
                             line=dict(color=SHARED_GREY, dash=BALANCE_DASH, width=1.2)))


def _add_balance_lines(fig: go.Figure, reference: Mapping[str, float]) -> None:
    lines = _balance_lines(reference)
    if not lines:
        return
    add_hlines(fig, [(value, row, 1, dict(color=colour, dash=BALANCE_DASH, width=1.2), label, "outside")
                  for row, value, colour, label in lines])
    balance_legend(fig)
    fig.update_layout(margin=dict(r=44))  # room for the values beside the lines


_SPELLED = ((math.log(2), "ln 2 ≈ 0.69"), (2 * math.log(2), "2 ln 2 ≈ 1.39"))  # bce's balance, in words


def _spelled(value: float) -> str:
    return next((words for exact, words in _SPELLED if abs(value - exact) < 5e-4), f"{value:.2f}")


def balance_note(reference: Mapping[str, float] | None) -> str:
    """One sentence on what the dotted reference lines mean, with their values; '' without a reference."""
    if not reference:
        return ""
    parts = [f"{name} {_spelled(reference[key])}" for key, name in (("g_loss", "G loss"), ("d_loss", "D loss"))
             if key in reference]
    if "d_real" in reference:
        parts.append(f"D(x) = D(G(z)) = {reference['d_real']:.2f}")
    return ("Dotted lines: the balance of the game, where the curves sit once D can no longer tell G's images from "
            f"real ones ({', '.join(parts)}). Curves hovering near them are a healthy game, not a stalled one: GAN "
            "losses do not fall to 0 as G improves.")


TRAINING_NOTE = ("Top: G's and D's losses per logging window (lines) and per epoch (diamonds). Bottom: D's mean "
                 "output, how sure it is that an image is real, on real images (D(x)) and on G's (D(G(z))). D(x) near "
                 "1 with D(G(z)) near 0 for long means D is winning and G learns little.")


def training_note(reference: Mapping[str, float] | None = None) -> str:
    """The "what am I looking at" caption of :func:`training_figure` / :func:`series_figure`."""
    return " ".join(p for p in (TRAINING_NOTE, balance_note(reference)) if p)


# --- what D sees (evaluation.discriminator_view records) -----------------------------------------------------------

D_VIEW_NOTE = ("D's score is its probability that an image is real. Bands: the middle half (25th-75th percentile) of "
               "its scores on 256 real images (green) and 256 of G's (red), epoch by epoch, with the medians as "
               "lines; the dotted line is D's accuracy. Early on D wins and the bands sit apart; as G learns they "
               "move together around 0.5, where D can no longer tell. Bands pinned at 1 and 0 mean D has won and G "
               "gets little to learn from; a red band that is very thin can mean G draws the same images whatever z.")


def d_view_note(reading: Any = None) -> str:
    """:data:`D_VIEW_NOTE` for what D's score is (`reading`, objectives.Reading; None or a probability: as is)."""
    if reading is None or reading.sigmoid:
        return D_VIEW_NOTE
    return (f"D's score is {reading.meaning}. Bands: the middle half (25th-75th percentile) of its scores on 256 real "
            "images (green) and 256 of G's (red), epoch by epoch, with the medians as lines; the dotted line is D's "
            "accuracy (right axis), judged that way. Early on D wins and the bands sit apart; as G learns they move "
            "together, where D can no longer tell. A red band that is very thin can mean G draws the same images "
            "whatever z.")


def discriminator_figure(records: Sequence[dict[str, Any]], mark_epoch: float | None = None,
                         height: int = 360, reading: Any = None) -> go.Figure:
    """D's score distributions on real and fake images over epochs (median and middle half), and its accuracy (on
    a second axis where the score is no probability). `reading`: what the score is (objectives.Reading)."""
    epochs = [r["epoch"] for r in records]
    fig = go.Figure()
    sides = (("real", "#2ca02c", "rgba(44,160,44,0.25)"), ("fake", "#d62728", "rgba(214,39,40,0.25)"))
    for side, colour, fill in sides:
        q = np.array([r[f"{side}_quantiles"] for r in records], float)  # columns: 5, 25, 50, 75, 95th percentiles
        fig.add_trace(go.Scatter(x=epochs, y=q[:, 3], mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=epochs, y=q[:, 1], mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor=fill, name=f"D(x) middle half, {side}", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=epochs, y=q[:, 2], mode="lines+markers", line=dict(color=colour, width=2),
                                 name=f"median on {side}"))
    title, fixed = d_axis(reading)
    fig.add_trace(go.Scatter(x=epochs, y=[r["d_accuracy"] for r in records], mode="lines",
                             line=dict(color=SHARED_GREY, dash="dot"), name="D accuracy",
                             yaxis="y" if fixed else "y2"))
    if mark_epoch is not None:
        fig.add_vline(x=mark_epoch, line=MARKER_LINE)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.2),
                      xaxis_title="epoch", yaxis=dict(range=fixed, title=f"D's score ({title})" if reading is None
                                                      or reading.sigmoid else title))
    if not fixed:
        fig.update_layout(yaxis2=dict(range=[0, 1], title="D accuracy", overlaying="y", side="right"))
    return fig


def score_histogram(record: dict[str, Any], height: int = 220, reading: Any = None) -> go.Figure:
    """One epoch's histograms of D's score on real and fake images, overlaid: over [0, 1] for a probability, over
    the record's ``hist_range`` for a score (`reading`: what the score is, objectives.Reading)."""
    n = len(record["real_hist"])
    low, high = record.get("hist_range") or (0.0, 1.0)
    centres = low + (np.arange(n) + 0.5) / n * (high - low)
    title, _ = d_axis(reading)
    fig = go.Figure([go.Bar(x=centres, y=record["real_hist"], name="real", marker_color="#2ca02c", opacity=0.6),
                     go.Bar(x=centres, y=record["fake_hist"], name="fake", marker_color="#d62728", opacity=0.6)])
    fig.update_layout(barmode="overlay", bargap=0, height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(range=[low, high], title=title if reading is not None else "D's score"),
                      yaxis_title="images",
                      legend=dict(orientation="h", y=1.1))
    return fig
