"""Plotly figures of a run's metrics records (no UI here: the app shows them, tests inspect them)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

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


def training_figure(windows: Sequence[dict[str, Any]], epochs: Sequence[dict[str, Any]] = (),
                    mark_epoch: float | None = None, height: int = 440) -> go.Figure:
    """Losses (top) and D's mean outputs on real and generated images (bottom) against epochs.

    `windows` are the trainer's per-window records (a line each); `epochs` its per-epoch means (markers);
    `mark_epoch` draws a vertical line, e.g. at the snapshot being looked at.
    """
    return series_figure(window_series(windows), epochs, mark_epoch, height)


def series_figure(series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                  epochs: Sequence[dict[str, Any]] = (), mark_epoch: float | None = None,
                  height: int = 440) -> go.Figure:
    """:func:`training_figure` from ready-made lines, key -> (x in epochs, values): e.g. the downsampled ones of
    gan_core.metrics_tail, so a long run's chart holds a few thousand points, not every window."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for key, name, colour, row in SERIES:
        points = series.get(key)
        if points is not None and len(points[1]):
            fig.add_trace(go.Scatter(x=points[0], y=points[1], name=name, mode="lines",
                                     line=dict(color=colour, width=1.5), legendgroup=key), row=row, col=1)
        else:
            points = None
        means = [r for r in epochs if key in r]
        if means:
            fig.add_trace(go.Scatter(x=[r["epoch"] for r in means], y=[r[key] for r in means],
                                     name=f"{name} (epoch mean)", mode="markers", legendgroup=key,
                                     showlegend=points is None, marker=dict(color=colour, size=7, symbol="diamond")),
                          row=row, col=1)
    if mark_epoch is not None:
        for row in (1, 2):
            fig.add_vline(x=mark_epoch, line=_MARKER_LINE, row=row, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="loss", row=1, col=1)
    fig.update_yaxes(title_text="mean D output", range=[0, 1], row=2, col=1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
                      uirevision="keep")  # keep the user's zoom while the live view refreshes
    return fig


# --- sample quality (quality.jsonl, written by `python -m gan_core evaluate RUN --epochs all`) -------------------

# metric -> (panel label, colour); metrics not listed here follow in the order they first appear.
QUALITY_METRICS = {
    "classifier_fid": ("classifier-FID", "#636efa"),
    "classifier_score": ("classifier score", "#ef553b"),
    "mode_coverage": ("mode coverage KL", "#00cc96"),
    "swd": ("SWD ×1e3", "#ab63fa"),
    # image-to-image (gan_core.evaluation.image_to_image)
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
    titles = []
    for metric, points in series.items():
        label = QUALITY_METRICS.get(metric, (metric, None))[0]
        better = points[-1].get("better")
        titles.append(f"{label} ({better} is better)" if better in ("lower", "higher") else label)
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
            notes.append(note)
        fig.add_trace(go.Scatter(x=[r["epoch"] for r in points], y=[r["value"] for r in points], name=label,
                                 mode="lines+markers", line=dict(color=colour, width=1.5), marker=dict(size=6),
                                 customdata=notes, hovertemplate="%{y:.4g} (%{customdata})", showlegend=False),
                      row=row, col=1)
        floor = points[-1].get("floor")
        if floor is not None:
            fig.add_hline(y=floor, line=_FLOOR_LINE, row=row, col=1,
                          annotation_text=points[-1].get("floor_label", FLOOR_LABEL),
                          annotation_position="top left", annotation_font=dict(size=11, color=_FLOOR_LINE["color"]))
        baseline = points[-1].get("baseline")  # image-to-image: what no learning scores (the input as it is)
        if baseline is not None:
            fig.add_hline(y=baseline, line=_BASELINE_LINE, row=row, col=1, annotation_text=BASELINE_LABEL,
                          annotation_position="bottom right",
                          annotation_font=dict(size=11, color=_BASELINE_LINE["color"]))
        if mark_epoch is not None:
            fig.add_vline(x=mark_epoch, line=_MARKER_LINE, row=row, col=1)
    fig.update_xaxes(rangemode="tozero")
    fig.update_xaxes(title_text=f"epoch (n = {n} images per set)" if n else "epoch", row=rows, col=1)
    fig.update_layout(height=panel_height * rows + 50, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                      uirevision="keep")
    return fig
