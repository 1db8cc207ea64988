"""The metrics log's series: what each key of a window record is called and drawn in (G loss, D loss, D(x),
D(G(z)), the parts of an image-to-image G's loss), and where a logging window sits in epochs. Data, no figures: the
live view's reader (``metrics_tail``), ``compare`` and the charts share it."""
from __future__ import annotations

from typing import Any, Sequence

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


def window_epoch(record: dict[str, Any]) -> float:
    """A window's position in epochs (1.5 = halfway through epoch 2), so windows and epochs share one x axis."""
    steps = record.get("steps_per_epoch") or 1
    return record["epoch"] - 1 + record.get("step_in_epoch", steps) / steps


def window_series(windows: Sequence[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """series key -> (x in epochs, values) of the windows that have it: what
    :func:`.training_charts.series_figure` draws."""
    series = {}
    for key, *_ in SERIES:
        points = [r for r in windows if key in r]
        if points:
            series[key] = ([window_epoch(r) for r in points], [r[key] for r in points])
    return series
