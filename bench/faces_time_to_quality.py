"""Faces, time to quality: the colour faces note's preset against the modern recipe for the same wall time, SWD at
equal time.

    python bench/faces_time_to_quality.py --data FOLDER [--minutes 30] [--preset faces_rgb64 --preset
        faces_rgb64_modern] [--variant NAME=PRESET:KEY=VALUE,...] [--rounds 1] [--n 1000] [--score-every K]
        [--target-swd S --target-seconds T] [--limit N] [--keep DIR] [--out FILE]

Each preset trains through `python -m gan_core train --preset P --data FOLDER --set generator_every=1`, one after
the other (each has the whole machine), and is stopped cleanly (`python -m gan_core stop`) once its epochs' own
training seconds pass --minutes; with --rounds 2 the presets alternate A B A B, each round resuming its run for
another --minutes, so a busy machine slows both alike. Then every saved epoch is scored with SWD on n generated
images against the folder's real images (the SWD's real-data floor beside it).

Prints a table per preset, then the comparison: SWD at equal wall time (each preset's last epoch within the
shorter total), and the time each took to reach the first preset's final SWD. Writes bench/results/
faces_time_to_quality.json. Training seconds are the trainer's own epoch records (tracing included; start-up,
data loading and saving left out).

Ablations are variants: `--variant no_sn=faces_rgb64_modern:spectral_norm=false,loss=bce` trains the preset with
those config overrides under its own name, for the same time as every other entry. When the first preset's own long
run is already known (faces_rgb64's card: SWD 17.96 at n=1000 after 7,400 s), `--target-swd 17.96
--target-seconds 7400` sets the quality to reach and the time to divide by, instead of the first entry's final SWD
and time (which for a run of --minutes would be a much easier target).
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


def parse_variant(text: str) -> tuple[str, str, list[str]]:
    """NAME=PRESET[:KEY=VALUE,...] -> (name, preset, ["KEY=VALUE", ...]); a bare PRESET names itself."""
    if ":" in text:
        head, _, sets = text.partition(":")
        name, _, preset = head.partition("=")
        pairs: list[str] = []
        for token in sets.split(","):  # a token without "=" continues a list value: augment=translation,cutout
            if "=" in token or not pairs:
                pairs.append(token)
            else:
                pairs[-1] += "," + token
        return (name, preset or name, [kv for kv in pairs if kv])
    name, _, preset = text.partition("=")
    return (name, preset or name, [])


def train_for(preset: str, data: str, seconds: float, runs_dir: Path, run: runs.RunDir | None, limit: int | None,
              epochs: int, sets: list[str] = ()) -> runs.RunDir:
    """Train (or resume) until the run's epoch seconds pass `seconds` in all, then stop it cleanly."""
    if run is None:
        cmd = [sys.executable, "-m", "gan_core", "train", "--preset", preset, "--data", data, "--runs-dir",
               str(runs_dir), "--epochs", str(epochs), "--quiet", "--set", "generator_every=1", "--set", "eval_every=0"]
        for kv in sets:
            cmd += ["--set", kv]
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


def score(run: runs.RunDir, data: str, n: int, cache: Path, every: int = 1) -> list[dict]:
    rows, times = [], epoch_times(run)
    epochs = run.generator_epochs()
    for epoch in [e for e in epochs if e % every == 0 or e == epochs[-1]]:
        result = evaluation.evaluate(run, "folder", data, n, ["swd"], epoch=epoch, cache_dir=cache)
        rec = result["metrics"]["swd"]
        rows.append({"epoch": epoch, "train_seconds": times.get(epoch), "swd": round(rec["value"], 3),
                     "floor": round(rec["floor"], 3), "n": rec["n"]})
        print(f"  {run.name} epoch {epoch:3d}  {times.get(epoch, 0):8.0f} s  SWD {rec['value']:7.2f} "
              f"(floor {rec['floor']:.2f})", flush=True)
    return rows


def compare(results: dict[str, list[dict]], reference: str, target_swd: float | None = None,
            target_seconds: float | None = None) -> dict:
    wall = min(rows[-1]["train_seconds"] for rows in results.values() if rows)
    at_wall = {name: next((r for r in reversed(rows) if r["train_seconds"] <= wall), None)
               for name, rows in results.items()}
    last = results[reference][-1] if results.get(reference) else None
    target = target_swd if target_swd is not None else (last["swd"] if last else None)
    reference_seconds = target_seconds if target_seconds is not None else (last["train_seconds"] if last else None)
    reach = {}
    for name, rows in results.items():
        first = next((r for r in rows if target is not None and r["swd"] <= target), None)
        reach[name] = {"seconds": first["train_seconds"] if first else None, "epoch": first["epoch"] if first else None}
    ratio = None
    if target is not None and reference_seconds:
        others = [v["seconds"] for k, v in reach.items() if k != reference and v["seconds"] is not None]
        ratio = round(min(others) / reference_seconds, 3) if others else None
    return {"wall_s": wall, "at_equal_wall_time": at_wall, "target_swd": target, "target_seconds": reference_seconds,
            "time_to_target": reach, "fraction_of_reference_time": ratio}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a folder of face images (e.g. the 10k CelebA crops)")
    ap.add_argument("--preset", action="append", help=f"repeatable; default: {' and '.join(DEFAULT_PRESETS)}")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=PRESET:KEY=VALUE,...",
                    help="repeatable; a preset with config overrides under its own name (the ablations)")
    ap.add_argument("--minutes", type=float, default=30.0, help="training time per preset and round")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the presets this many times (resuming)")
    ap.add_argument("--epochs", type=int, default=1000, help="epoch target (training stops on time first)")
    ap.add_argument("--n", type=int, default=1000, help="images per SWD evaluation")
    ap.add_argument("--score-every", type=int, default=1, help="score every K-th epoch (and the last)")
    ap.add_argument("--target-swd", type=float, help="quality to reach (default: the first entry's final SWD)")
    ap.add_argument("--target-seconds", type=float, help="the first preset's time to it (default: the first entry's)")
    ap.add_argument("--limit", type=int, help="train on the first N images only (smoke runs)")
    ap.add_argument("--keep", help="keep the runs here (default: a temporary folder)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "faces_time_to_quality.json"))
    args = ap.parse_args()
    entries = [parse_variant(p) for p in (args.preset or ([] if args.variant else DEFAULT_PRESETS))]
    entries += [parse_variant(v) for v in args.variant]
    names = [name for name, _, _ in entries]
    if len(set(names)) != len(names):
        raise SystemExit(f"each entry needs its own name: {names}")
    presets = names
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="faces-ttq-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started: dict[str, runs.RunDir | None] = dict.fromkeys(names)
    for round_ in range(1, args.rounds + 1):
        for name, preset, sets in entries:
            print(f"round {round_}: training {name} ({preset} {' '.join(sets)}) for {args.minutes:g} min", flush=True)
            started[name] = train_for(preset, args.data, args.minutes * 60 * round_, workdir / name,
                                      started[name], args.limit, args.epochs, sets)
    cache = workdir / "cache"
    results = {}
    for name, run in started.items():
        print(f"{name}: {run.path}")
        results[name] = score(run, args.data, args.n, cache, args.score_every)
    summary = {"settings": {"minutes": args.minutes, "rounds": args.rounds, "n": args.n, "limit": args.limit,
                            "data": args.data, "cpu_count": os.cpu_count(),
                            "entries": {n: {"preset": p, "set": s} for n, p, s in entries}},
               "presets": results, "comparison": compare(results, presets[0], args.target_swd, args.target_seconds),
               "runs": {p: str(r.path) for p, r in started.items()}}
    c = summary["comparison"]
    print(f"SWD at {c['wall_s']:.0f} s of training each: " + ", ".join(
        f"{p} {r['swd'] if r else '-'}" for p, r in c["at_equal_wall_time"].items()))
    print(f"time to {presets[0]}'s final SWD {c['target_swd']}: " + ", ".join(
        f"{p} {v['seconds']} s" for p, v in c["time_to_target"].items())
        + (f" ({fraction:.2f} of the first preset's time)" if (fraction := c["fraction_of_reference_time"]) else ""))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
