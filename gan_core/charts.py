"""Plotly figures of a run's metrics records (no UI here: the app shows them, tests inspect them).

Every text from a file or a folder (run names, metric names, floor labels, quality.jsonl fields) goes into a figure
through `markup.plot_text`: Plotly draws a subset of HTML (`<a href>`, `<span style>`) in titles, legends, hover
text and annotations."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .markup import plot_text

# One colour per series, so G and D read the same in both panels and in every figure.
SERIES = (
    # (record key, legend name, colour, panel row)
    ("g_loss", "G loss", "#636efa", 1),
    ("d_loss", "D loss", "#ef553b", 1),
    ("d_real", "D(x)", "#00cc96", 2),
    ("d_fake", "D(G(z))", "#ab63fa", 2),
    # image-to-image runs: the parts of G's loss (Pix2Pix's GAN + L1, CycleGAN's GAN + cycle + identity)
    ("g_gan", "G GAN term", "#19d3f3", 1),
    ("g_l1", "L1 term", "#ffa15a", 1),
    ("cycle", "cycle term", "#ffa15a", 1),
    ("identity", "identity term", "#b6e880", 1),
)
_MARKER_LINE = dict(color="#888", dash="dash", width=1.5)  # mark_epoch's vertical line, the same on every chart
_BALANCE_DASH = "dot"  # reference lines at the game's balance (an objective's balance point)
BALANCE_LABEL = "balance"
_SHARED_GREY = "#999"  # a reference line that belongs to no one series or run: readable on light and dark themes


def window_epoch(record: dict[str, Any]) -> float:
    """A window's position in epochs (1.5 = halfway through epoch 2), so windows and epochs share one x axis."""
    steps = record.get("steps_per_epoch") or 1
    return record["epoch"] - 1 + record.get("step_in_epoch", steps) / steps


def window_series(windows: Sequence[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """series key -> (x in epochs, values) of the windows that have it: what :func:`series_figure` draws."""
    series = {}
    for key, *_ in SERIES:
        points = [r for r in windows if key in r]
        if points:
            series[key] = ([window_epoch(r) for r in points], [r[key] for r in points])
    return series


def d_axis(reading: Any = None) -> tuple[str, tuple[float, float] | None]:
    """(axis title, fixed range or None) for D's output as `reading` (gan_core.objectives.Reading) shows it: a
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
    gan_core.metrics_tail, so a long run's chart holds a few thousand points, not every window.

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
            fig.add_vline(x=mark_epoch, line=_MARKER_LINE, row=row, col=1)
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
        colour = named[0][1] if len(named) == 1 else _SHARED_GREY
        lines.append((row, value, colour, f"{value:.2f}"))
    return lines


def _axes(row: int, col: int, cols: int) -> tuple[str, str]:
    """make_subplots' axis names of the panel at (row, col): x, y for the first, x2, y2 ... after."""
    k = (row - 1) * cols + col
    return ("x", "y") if k == 1 else (f"x{k}", f"y{k}")


def _hlines(fig: go.Figure, lines: Sequence[tuple[float, int, int, dict, str, str]], cols: int = 1) -> None:
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


def _balance_legend(fig: go.Figure) -> None:
    """A legend entry saying what the dotted lines are (a trace with no points)."""
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=BALANCE_LABEL, hoverinfo="skip",
                             line=dict(color=_SHARED_GREY, dash=_BALANCE_DASH, width=1.2)))


def _add_balance_lines(fig: go.Figure, reference: Mapping[str, float]) -> None:
    lines = _balance_lines(reference)
    if not lines:
        return
    _hlines(fig, [(value, row, 1, dict(color=colour, dash=_BALANCE_DASH, width=1.2), label, "outside")
                  for row, value, colour, label in lines])
    _balance_legend(fig)
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
QUALITY_NOTE = ("Each panel scores the generator saved at that epoch on n images (hover for details); the dashed green "
                "line is the real-data floor, the same metric between two sets of real images: what a perfect "
                "generator would score. Only values measured at the same n compare.")


def training_note(reference: Mapping[str, float] | None = None) -> str:
    """The "what am I looking at" caption of :func:`training_figure` / :func:`series_figure`."""
    return " ".join(p for p in (TRAINING_NOTE, balance_note(reference)) if p)


# --- sample quality (quality.jsonl, written by `python -m gan_core evaluate RUN --epochs all`) -------------------

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
_FLOOR_LINE = dict(color="#2ca02c", dash="dash", width=1.5)
_BASELINE_LINE = dict(color="#999", dash="dot", width=1.5)


def _panel_title(metric: str, better: Any) -> str:
    """A quality panel's title: the metric's label (an unknown metric's name from quality.jsonl, as text), and which
    way is better."""
    label = plot_text(QUALITY_METRICS.get(metric, (metric, None))[0])
    return f"{label} ({better} is better)" if better in ("lower", "higher") else label


def _hover(value: Any) -> Any:
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
    titles = [_panel_title(metric, points[-1].get("better")) for metric, points in series.items()]
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
            fig.add_hline(y=floor, line=_FLOOR_LINE, row=row, col=1,
                          annotation_text=plot_text(points[-1].get("floor_label", FLOOR_LABEL)),
                          annotation_position="top left", annotation_font=dict(size=11, color=_FLOOR_LINE["color"]))
        baseline = points[-1].get("baseline")  # image-to-image: what no learning scores (the input as it is)
        if baseline is not None:
            fig.add_hline(y=baseline, line=_BASELINE_LINE, row=row, col=1, annotation_text=BASELINE_LABEL,
                          annotation_position="bottom right",
                          annotation_font=dict(size=11, color=_BASELINE_LINE["color"]))
        if mark_epoch is not None:
            fig.add_vline(x=mark_epoch, line=_MARKER_LINE, row=row, col=1)
    fig.update_xaxes(rangemode="tozero")
    fig.update_xaxes(title_text=f"epoch (n = {plot_text(n)} images per set)" if n else "epoch", row=rows, col=1)
    fig.update_layout(height=panel_height * rows + 50, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                      uirevision="keep")
    return fig


# --- several runs on shared axes (gan_core.runs.comparison makes the lines from run folders) --------------------------

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
        colour = _SHARED_GREY if len(owners) > 1 else run_colour(owners[0])
        lines += [(values[key], row, col, dict(color=colour, dash=_BALANCE_DASH, width=1.2), "", "")
                  for key, _, row, col in COMPARED_PANELS if key in values and key in drawn]
    if lines:
        _hlines(fig, lines, cols=2)
        _balance_legend(fig)
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
    titles = [_panel_title(metric, next((s[metric][-1].get("better") for _, s in per_run if metric in s), None))
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
                                     customdata=[[_hover(r["epoch"]), _hover(r.get("n"))] for r in points],
                                     hovertemplate="%{y:.4g} (epoch %{customdata[0]}, n = %{customdata[1]})"),
                          row=row, col=1)
            floor = points[-1].get("floor")
            if floor is not None:
                floors.append((floor, i))
        distinct = list(dict.fromkeys(round(f, 9) for f, _ in floors))
        for floor, i in floors if len(distinct) > 1 else floors[:1]:
            colour = run_colour(i) if len(distinct) > 1 else _FLOOR_LINE["color"]
            label = FLOOR_LABEL if len(distinct) == 1 else f"{FLOOR_LABEL} ({plot_text(per_run[i][0])})"
            hlines.append((floor, row, 1, dict(_FLOOR_LINE, color=colour), label, "left"))
    _hlines(fig, hlines)
    fig.update_xaxes(rangemode="tozero")
    shown_n = f" (n = {plot_text(n)} images per set)" if n else ""
    fig.update_xaxes(title_text=x_title + shown_n, row=rows, col=1)
    fig.update_layout(height=panel_height * rows + 80, margin=dict(l=10, r=10, t=50, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0), uirevision="keep")
    return fig


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
                             line=dict(color=_SHARED_GREY, dash="dot"), name="D accuracy",
                             yaxis="y" if fixed else "y2"))
    if mark_epoch is not None:
        fig.add_vline(x=mark_epoch, line=_MARKER_LINE)
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
