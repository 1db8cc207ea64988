"""Plotly figures of a run's metrics records (no UI here: the app shows them, tests inspect them)."""
from __future__ import annotations

from typing import Any, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

# One colour per series, so G and D read the same in both panels and in every figure.
SERIES = (
    # (record key, legend name, colour, panel row)
    ("g_loss", "G loss", "#636efa", 1),
    ("d_loss", "D loss", "#ef553b", 1),
    ("d_real", "D(x)", "#00cc96", 2),
    ("d_fake", "D(G(z))", "#ab63fa", 2),
)


def window_epoch(record: dict[str, Any]) -> float:
    """A window's position in epochs (1.5 = halfway through epoch 2), so windows and epochs share one x axis."""
    steps = record.get("steps_per_epoch") or 1
    return record["epoch"] - 1 + record.get("step_in_epoch", steps) / steps


def training_figure(windows: Sequence[dict[str, Any]], epochs: Sequence[dict[str, Any]] = (),
                    mark_epoch: float | None = None, height: int = 440) -> go.Figure:
    """Losses (top) and D's mean outputs on real and generated images (bottom) against epochs.

    `windows` are the trainer's per-window records (a line each); `epochs` its per-epoch means (markers);
    `mark_epoch` draws a vertical line, e.g. at the snapshot being looked at.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for key, name, colour, row in SERIES:
        points = [r for r in windows if key in r]
        if points:
            fig.add_trace(go.Scatter(x=[window_epoch(r) for r in points], y=[r[key] for r in points], name=name,
                                     mode="lines", line=dict(color=colour, width=1.5), legendgroup=key), row=row, col=1)
        means = [r for r in epochs if key in r]
        if means:
            fig.add_trace(go.Scatter(x=[r["epoch"] for r in means], y=[r[key] for r in means],
                                     name=f"{name} (epoch mean)", mode="markers", legendgroup=key,
                                     showlegend=not points, marker=dict(color=colour, size=7, symbol="diamond")),
                          row=row, col=1)
    if mark_epoch is not None:
        for row in (1, 2):
            fig.add_vline(x=mark_epoch, line=dict(color="#888", dash="dash", width=1.5), row=row, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="loss", row=1, col=1)
    fig.update_yaxes(title_text="mean D output", range=[0, 1], row=2, col=1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
                      uirevision="keep")  # keep the user's zoom while the live view refreshes
    return fig
