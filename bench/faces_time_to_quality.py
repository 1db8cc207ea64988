"""Faces, time to quality: seed 003's preset against the modern recipe for the same wall time, SWD at equal time.

    python bench/faces_time_to_quality.py --data FOLDER [--minutes 30] [--preset faces_rgb64 --preset
        faces_rgb64_modern] [--rounds 1] [--n 1000] [--limit N] [--keep DIR] [--out FILE]

Each preset trains through `python -m gan_core train --preset P --data FOLDER --set generator_every=1`, one after
the other (each has the whole machine), and is stopped cleanly (`python -m gan_core stop`) once its epochs' own
training seconds pass --minutes; with --rounds 2 the presets alternate A B A B, each round resuming its run for
another --minutes, so a busy machine slows both alike. Then every saved epoch is scored with SWD on n generated
images against the folder's real images (the SWD's real-data floor beside it).

Prints a table per preset, then the comparison: SWD at equal wall time (each preset's last epoch within the
shorter total), and the time each took to reach the seed preset's final SWD. Writes bench/results/
faces_time_to_quality.json. Training seconds are the trainer's own epoch records (tracing included; start-up,
data loading and saving left out).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gan_core import evaluation, runs

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PRESETS = ["faces_rgb64", "faces_rgb64_modern"]


def train_for(preset: str, data: str, seconds: float, runs_dir: Path, run: runs.RunDir | None, limit: int | None,
              epochs: int) -> runs.RunDir:
    """Train (or resume) until the run's epoch seconds pass `seconds` in all, then stop it cleanly."""
    if run is None:
        cmd = [sys.executable, "-m", "gan_core", "train", "--preset", preset, "--data", data, "--runs-dir",
               str(runs_dir), "--epochs", str(epochs), "--quiet", "--set", "generator_every=1", "--set", "eval_every=0"]
        if limit:
            cmd += ["--limit", str(limit)]
    else:
        cmd = [sys.executable, "-m", "gan_core", "train", "--resume", str(run.path), "--quiet"]
    before = {p.name for p in runs_dir.iterdir()} if runs_dir.is_dir() else set()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while run is None:
        made = [p for p in (runs_dir.iterdir() if runs_dir.is_dir() else []) if p.name not in before]
        if made:
            run = runs.RunDir(made[0])
        elif proc.poll() is not None:
            raise SystemExit(f"{preset} did not start: {proc.stderr.read()[-2000:]}")
        time.sleep(0.5)
    while proc.poll() is None:
        if trained_seconds(run) >= seconds:
            proc.send_signal(signal.SIGINT)  # the CLI checkpoints and stops after this step
            break
        time.sleep(2.0)
    proc.wait()
    return run


def trained_seconds(run: runs.RunDir) -> float:
    return sum(r.get("seconds", 0.0) for r in run.metrics("epoch"))


def epoch_times(run: runs.RunDir) -> dict[int, float]:
    """Cumulated training seconds at the end of each epoch (the trainer's epoch records)."""
    total, out = 0.0, {}
    for record in run.metrics("epoch"):
        total += record.get("seconds", 0.0)
        out[int(record["epoch"])] = round(total, 1)
    return out


def score(run: runs.RunDir, data: str, n: int, cache: Path) -> list[dict]:
    rows, times = [], epoch_times(run)
    for epoch in run.generator_epochs():
        result = evaluation.evaluate(run, "folder", data, n, ["swd"], epoch=epoch, cache_dir=cache)
        rec = result["metrics"]["swd"]
        rows.append({"epoch": epoch, "train_seconds": times.get(epoch), "swd": round(rec["value"], 3),
                     "floor": round(rec["floor"], 3), "n": rec["n"]})
        print(f"  {run.name} epoch {epoch:3d}  {times.get(epoch, 0):8.0f} s  SWD {rec['value']:7.2f} "
              f"(floor {rec['floor']:.2f})", flush=True)
    return rows


def compare(results: dict[str, list[dict]], seed: str) -> dict:
    wall = min(rows[-1]["train_seconds"] for rows in results.values() if rows)
    at_wall = {name: next((r for r in reversed(rows) if r["train_seconds"] <= wall), None)
               for name, rows in results.items()}
    target = results[seed][-1]["swd"] if results.get(seed) else None
    reach = {}
    for name, rows in results.items():
        first = next((r for r in rows if target is not None and r["swd"] <= target), None)
        reach[name] = {"seconds": first["train_seconds"] if first else None, "epoch": first["epoch"] if first else None}
    ratio = None
    if target is not None and results.get(seed):
        others = [v["seconds"] for k, v in reach.items() if k != seed and v["seconds"] is not None]
        ratio = round(min(others) / results[seed][-1]["train_seconds"], 3) if others else None
    return {"wall_s": wall, "at_equal_wall_time": at_wall, "target_swd": target, "time_to_target": reach,
            "fraction_of_seed_time": ratio}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a folder of face images (e.g. the 10k CelebA crops)")
    ap.add_argument("--preset", action="append", help=f"repeatable; default: {' and '.join(DEFAULT_PRESETS)}")
    ap.add_argument("--minutes", type=float, default=30.0, help="training time per preset and round")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the presets this many times (resuming)")
    ap.add_argument("--epochs", type=int, default=1000, help="epoch target (training stops on time first)")
    ap.add_argument("--n", type=int, default=1000, help="images per SWD evaluation")
    ap.add_argument("--limit", type=int, help="train on the first N images only (smoke runs)")
    ap.add_argument("--keep", help="keep the runs here (default: a temporary folder)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "faces_time_to_quality.json"))
    args = ap.parse_args()
    presets = args.preset or DEFAULT_PRESETS
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="faces-ttq-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started: dict[str, runs.RunDir | None] = dict.fromkeys(presets)
    for round_ in range(1, args.rounds + 1):
        for preset in presets:
            print(f"round {round_}: training {preset} for {args.minutes:g} min", flush=True)
            started[preset] = train_for(preset, args.data, args.minutes * 60 * round_, workdir / preset,
                                        started[preset], args.limit, args.epochs)
    cache = workdir / "cache"
    results = {}
    for preset, run in started.items():
        print(f"{preset}: {run.path}")
        results[preset] = score(run, args.data, args.n, cache)
    summary = {"settings": {"minutes": args.minutes, "rounds": args.rounds, "n": args.n, "limit": args.limit,
                            "data": args.data, "cpu_count": os.cpu_count()},
               "presets": results, "comparison": compare(results, presets[0]), "runs": {
                   p: str(r.path) for p, r in started.items()}}
    c = summary["comparison"]
    print(f"SWD at {c['wall_s']:.0f} s of training each: " + ", ".join(
        f"{p} {r['swd'] if r else '-'}" for p, r in c["at_equal_wall_time"].items()))
    print(f"time to {presets[0]}'s final SWD {c['target_swd']}: " + ", ".join(
        f"{p} {v['seconds']} s" for p, v in c["time_to_target"].items())
        + (f" ({c['fraction_of_seed_time']:.2f} of the seed preset's time)" if c["fraction_of_seed_time"] else ""))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
