"""What one refresh of the Train page's live view costs (it refreshes every second), at 1k, 20k and 200k records.

    python bench/live_view_cost.py [--sizes 1000,20000,200000] [--repeats 5] [--out bench/results/live_view_cost.json]

Writes a metrics.jsonl like the trainer's (window records of the four losses, an epoch record every 100 windows),
then times, as CPU time of this process:
  before: the page as it was: read and parse the whole file, keep the windows, build the plotly figure of every
          window (training_charts.training_figure), and serialise it as Streamlit does (plotly.io.to_json);
  after:  gan_core.runs.metrics_tail.MetricsTail: one record appended between refreshes (as a trainer writes), parse
          only the new bytes, downsample to <= 2,000 points per series, build the figure
          (training_charts.series_figure), serialise it. `after_first` is a tail's first refresh (it reads the whole
          file once).
Prints one line per size, medians in milliseconds, and writes JSON.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import plotly.io

from gan_core.runs import training_charts  # the installed package (pip install -e .)
from gan_core.files.disk import append_jsonl, read_jsonl
from gan_core.runs.metrics_tail import MetricsTail

ROOT = Path(__file__).resolve().parents[1]

STEPS_PER_EPOCH = 500  # with log_every 5: 100 windows per epoch


def window(i: int, rng: random.Random) -> dict:
    step = 5 * (i + 1)
    epoch, in_epoch = (step - 1) // STEPS_PER_EPOCH + 1, (step - 1) % STEPS_PER_EPOCH + 1
    return {"kind": "window", "time": 1.7e9 + i, "epoch": epoch, "step": step, "step_in_epoch": in_epoch,
            "steps_per_epoch": STEPS_PER_EPOCH, "g_loss": round(1 + rng.random(), 5),
            "d_loss": round(1.2 + rng.random(), 5), "d_real": round(rng.random(), 5),
            "d_fake": round(rng.random(), 5), "images_per_sec": 5000.0}


def write_log(path: Path, n: int) -> None:
    rng = random.Random(0)
    with open(path, "w") as f:
        for i in range(n):
            rec = window(i, rng)
            f.write(json.dumps(rec, sort_keys=True) + "\n")
            if rec["step_in_epoch"] == STEPS_PER_EPOCH:
                f.write(json.dumps({"kind": "epoch", "epoch": rec["epoch"], "step": rec["step"], "g_loss": 1.5,
                                    "d_loss": 1.7, "d_real": 0.5, "d_fake": 0.5}) + "\n")


def cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def before(path: Path) -> None:
    windows = [r for r in read_jsonl(path) if r.get("kind") == "window"]  # RunDir.metrics("window") as it was
    plotly.io.to_json(training_charts.training_figure(windows), validate=False)


def after(tail: MetricsTail) -> int:
    tail.refresh()
    series = tail.series()
    plotly.io.to_json(training_charts.series_figure(series), validate=False)  # the live view draws no epoch means
    return max(len(y) for _, y in series.values())


def measure(n: int, repeats: int, folder: Path) -> dict:
    path = folder / f"metrics-{n}.jsonl"
    write_log(path, n)
    row = {"records": n, "file_mib": round(path.stat().st_size / 2**20, 1)}
    row["before_ms"] = round(1000 * statistics.median(cpu(lambda: before(path)) for _ in range(repeats)), 1)
    tail = MetricsTail(path)
    row["after_first_ms"] = round(1000 * cpu(lambda: after(tail)), 1)
    rng, samples, points = random.Random(1), [], 0
    for i in range(max(repeats, 5)):
        append_jsonl(path, window(n + i, rng))  # the trainer's next window, between two refreshes
        start = time.process_time()
        points = after(tail)
        samples.append(time.process_time() - start)
    row["after_ms"] = round(1000 * statistics.median(samples), 1)
    row["points_per_series"] = points
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000,200000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "live_view_cost.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            row = measure(n, args.repeats, Path(tmp))
            rows.append(row)
            print(f"{row['records']:>8,} records ({row['file_mib']:5.1f} MiB): before {row['before_ms']:8.1f} ms · "
                  f"after {row['after_ms']:6.1f} ms (first refresh {row['after_first_ms']:7.1f} ms) · "
                  f"{row['points_per_series']:,} points per series drawn", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpu_ms_per_refresh": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
