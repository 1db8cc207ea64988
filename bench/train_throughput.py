"""Training throughput, side by side: seed 000's own loop (A) against gan_core's trainer (B) on real MNIST.

Runs A B A B ... as separate processes (same architecture, batch 256, data and step count), so that the machine's
drift hits both, and reports images/s of each, the ratio B/A per pair and the median ratio. Extra gan_core
configurations (e.g. `--variant precision=mixed_bfloat16`) are measured in the same rotation.

    python bench/train_throughput.py --pairs 3 --steps 30 [--variant precision=mixed_bfloat16] [--out bench/results]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist.npz"
BATCH = 256


def run_baseline(steps: int, warmup: int, data: Path) -> float:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "seed000_baseline.py"), "--steps", str(steps),
                          "--warmup", str(warmup), "--data", str(data)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["images_per_sec"]


def run_gan_core(steps: int, warmup: int, data: Path, sets: list[str], preset: str = "mnist_dcgan") -> float:
    """gan_core's trainer through its CLI; images/s from its own metrics windows after the warm-up window."""
    from gan_core.runs import list_runs

    with tempfile.TemporaryDirectory() as runs_dir:
        limit = (steps + warmup) * BATCH
        cmd = [sys.executable, "-m", "gan_core", "train", "--preset", preset, "--data", str(data), "--epochs", "1",
               "--limit", str(limit), "--batch-size", str(BATCH), "--runs-dir", runs_dir, "--quiet",
               "--set", f"log_every={warmup}", "--set", "generator_every=1000", "--set", "snapshot_every=1000"]
        for s in sets:
            cmd += ["--set", s]
        subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        windows = list_runs(runs_dir)[0].metrics("window")
        later = list(zip(windows, windows[1:]))  # the first window holds the tracing: leave it out
        images = sum((w["step"] - prev["step"]) * BATCH for prev, w in later)
        seconds = sum((w["step"] - prev["step"]) * BATCH / w["images_per_sec"] for prev, w in later)
        return images / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE[,KEY=VALUE]",
                    help="an extra gan_core configuration to measure in the same rotation")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()

    configs = {"gan_core default": []} | {f"gan_core {v}": v.split(",") for v in args.variant}
    results: dict[str, list[float]] = {"seed000 baseline": []} | {name: [] for name in configs}
    for pair in range(args.pairs):
        results["seed000 baseline"].append(run_baseline(args.steps, args.warmup, args.data))
        for name, sets in configs.items():
            results[name].append(run_gan_core(args.steps, args.warmup, args.data, sets))
        print(f"pair {pair + 1}: " + ", ".join(f"{k} {v[-1]:.0f} img/s" for k, v in results.items()), flush=True)

    base = results["seed000 baseline"]
    summary = {"machine": {"cpus": __import__("os").cpu_count()}, "batch": BATCH, "steps": args.steps,
               "pairs": args.pairs, "time": time.strftime("%Y-%m-%d %H:%M:%S"), "results": {}}
    for name, values in results.items():
        ratios = [v / b for v, b in zip(values, base)]
        summary["results"][name] = {"images_per_sec": values, "median_images_per_sec": statistics.median(values),
                                    "ratio_to_baseline_per_pair": ratios, "median_ratio": statistics.median(ratios)}
        print(f"{name:40s} median {statistics.median(values):7.1f} img/s   ratio to baseline "
              f"{statistics.median(ratios):.2f}x")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "train_throughput.json"
    path.write_text(json.dumps(summary, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
