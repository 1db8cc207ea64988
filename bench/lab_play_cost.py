"""Step-through lab Play: what one tick's curves cost after 100 updates and after 100,000.

    python bench/lab_play_cost.py [--updates 100 10000 100000] [--repeats 5]

Each Play tick draws the lab's loss and D-score curves: the points of its `History`, the plotly figure
(`curves_figure`) and the JSON Streamlit sends (`plotly.io.to_json`, as `st.plotly_chart` makes it). The history is
fed synthetic updates (alternating D and G, noisy figures), no training. For each length it prints the tick's
time (median of the repeats) and the JSON's size, kept as the lab keeps it (at most HISTORY_POINTS points) and
with every update drawn (how the lab drew it before), and writes bench/results/lab_play_cost.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import plotly.io

from gan_core.explore.step_lab import HISTORY_POINTS, History, curves_figure


def fed(updates: int, limit: int) -> History:
    history, rng = History(limit=limit), np.random.default_rng(0)
    for i, noise in enumerate(rng.standard_normal((updates, 4)) * 0.1):
        history.add(network="DG"[i % 2], g_loss=0.7 + noise[0], d_loss=1.4 + noise[1], d_real=0.5 + noise[2],
                    d_fake=0.5 + noise[3])
    return history


def tick(history: History, repeats: int) -> dict[str, float]:
    """Median time of a tick's curves (points, figure, JSON) and the JSON's size."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        spec = plotly.io.to_json(curves_figure(history.points(), {"g_loss": 0.69, "d_loss": 1.39}), validate=False)
        times.append(time.perf_counter() - start)
    return {"ms": round(statistics.median(times) * 1000, 1), "json_kb": round(len(spec) / 1024, 1),
            "points": len(history.points())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for updates in args.updates:
        for how, limit in (("kept", HISTORY_POINTS), ("every update", updates + updates % 2 + 2)):
            figures = tick(fed(updates, limit), args.repeats)
            results[f"{updates} {how}"] = figures
            print(f"{updates:>7} updates, {how:>12}: {figures['points']:>6} points, tick {figures['ms']:>7} ms, "
                  f"JSON {figures['json_kb']:>7} KB")
    out = Path(__file__).parent / "results" / "lab_play_cost.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
