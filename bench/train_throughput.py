"""Training throughput, side by side: the TF DCGAN tutorial's loop (A) against gan_core's trainer (B), in alternating
pairs.

    python bench/train_throughput.py [--preset mnist_dcgan] [--pairs 5] [--images N] [--variant KEY=VALUE,...]
        [--set KEY=VALUE ...] [--data PATH] [--out bench/results]

Each run is a whole process, A B A B ..., on the same images (the preset's data, the first --images of them: one epoch).
A is bench/tutorial_baseline.py: the TF DCGAN tutorial's loop as written (for mnist_dcgan with the tutorial's own
networks; for another preset with that preset's networks, batch size and Adam, in float32). B is `python -m gan_core
train --preset P --epochs 1 --limit N` with everything it does by default: windows, status, the epoch's snapshot,
generator and checkpoint. Extra gan_core configurations (`--variant threads=1`) join the rotation.

Per run, from its own per-step times (the first --warmup steps, tracing, left out):
  steps img/s     images / the steps' time (gan_core's metrics windows' `step_ms`, the baseline's own)
  with side work  images / (the epoch's wall time after the warm-up + its snapshot, saves and checkpoint)
  p50 / p95       the step time's median and 95th percentile within the run
Then min / median / max over the pairs of each side and of the ratio B/A, and the FLOP/s reached against the CPU's
peak (bench/peak.py: the networks' FLOPs per image, the peak from cores, clock (measured) and vector units, both
printed).
Writes bench/results/train_throughput[-PRESET].json with every run's figures.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peak  # noqa: E402  (bench/peak.py, beside this script)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BASELINE = "tutorial loop"
PRESETS = {  # the data each preset's benchmark reads, and the images of one run (one epoch)
    "mnist_dcgan": (SHARED / "mnist.npz", 15_360),
    "faces_rgb64": (SHARED / "celeba_align_89x109", 1_920),
    "faces_rgb64_modern": (SHARED / "celeba_align_89x109", 3_200),
}


def summarise_steps(step_ms: list[float], batch: int, wall_s: float) -> dict:
    """One run's figures from its per-step times (after the warm-up) and its wall time over the same images."""
    images = len(step_ms) * batch
    p50, p95 = peak.quantile(step_ms, 0.5), peak.quantile(step_ms, 0.95)
    return {"steps": len(step_ms), "images": images, "images_per_sec": images / (sum(step_ms) / 1000),
            "with_side_work": images / wall_s, "p50_ms": p50, "p95_ms": p95, "p95_over_p50": p95 / p50,
            "step_ms": step_ms}


def run_baseline(preset: str, images: int, warmup: int, data: Path) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "tutorial_baseline.py"), "--epochs", "1", "--limit", str(images),
           "--warmup", str(warmup), "--data", str(data)] + ([] if preset == "mnist_dcgan" else ["--preset", preset])
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the baseline failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # no side work: its loop after the warm-up is steps and the data pipeline between them
    wall = result["steps"] * result["batch_size"] / result["images_per_sec"]
    return summarise_steps(result["step_ms"], result["batch_size"], wall)


def run_gan_core(preset: str, images: int, warmup: int, data: Path, sets: list[str]) -> dict:
    """gan_core's trainer through its CLI, as a user runs it; the figures from its own metrics.jsonl."""
    from gan_core.runs import list_runs

    with tempfile.TemporaryDirectory() as runs_dir:
        cmd = [sys.executable, "-m", "gan_core", "train", "--preset", preset, "--data", str(data), "--epochs", "1",
               "--limit", str(images), "--runs-dir", runs_dir, "--quiet"]
        for s in sets:
            cmd += ["--set", s]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"gan_core's trainer failed:\n{out.stderr[-3000:]}")
        run = list_runs(runs_dir)[0]
        cfg = run.config()
        step_ms = [ms for w in run.metrics("window") for ms in w["step_ms"]]
        epoch, side_work = run.metrics("epoch")[-1], run.metrics("side_work")[-1]["seconds"]
    side = sum(side_work.values())
    # the epoch's wall time less its warm-up steps (the first holds the tracing), plus what follows the steps
    wall = epoch["seconds"] - sum(step_ms[:warmup]) / 1000 + side
    figures = summarise_steps(step_ms[warmup:], cfg.batch_size, wall)
    return {**figures, "side_seconds": side_work, "precision": cfg.precision}


def spread(values: list[float]) -> str:
    return f"{min(values):7.1f} {statistics.median(values):7.1f} {max(values):7.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="mnist_dcgan", choices=sorted(PRESETS))
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--images", type=int, help="images per run, one epoch (default: 15,360 digits, 60 steps; "
                    "1,920 faces for faces_rgb64, 30 steps; 3,200 for faces_rgb64_modern)")
    ap.add_argument("--warmup", type=int, default=5, help="steps left out of each run's figures (tracing)")
    ap.add_argument("--data", type=Path, help="the preset's data (default: ../shared/data's)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="for gan_core's runs")
    ap.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE[,KEY=VALUE]",
                    help="an extra gan_core configuration measured in the same rotation")
    ap.add_argument("--probe", type=float, default=8.0, help="seconds of the machine's steadiness probe before "
                    "each pair (bench/peak.py's fixed matmul; 0: none)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    data = args.data or PRESETS[args.preset][0]
    images = args.images or PRESETS[args.preset][1]

    configs = {"gan_core": args.set} | {f"gan_core {v}": args.set + v.split(",") for v in args.variant}
    runs: dict[str, list[dict]] = {BASELINE: []} | {name: [] for name in configs}
    print(f"{args.preset}: {args.pairs} pairs of one epoch of {images} images, warm-up {args.warmup} steps",
          flush=True)
    clock = peak.measured_clock_ghz()  # before any run: the clock the peak is reckoned at
    print(f"clock: {f'{clock:.2f} GHz measured with every core busy' if clock else 'not measured (no C compiler)'}",
          flush=True)
    jitter = []
    for pair in range(args.pairs):
        if args.probe:  # the machine's own p95/p50 just before the pair, in a process of its own
            out = subprocess.run([sys.executable, str(ROOT / "bench" / "peak.py"), str(args.probe)],
                                 capture_output=True, text=True, check=True)
            jitter.append(json.loads(out.stdout))
            print(f"pair {pair + 1}: the machine's fixed matmul p95/p50 {jitter[-1]['p95_over_p50']:.2f} "
                  f"({jitter[-1]['gflops_p50']:.0f} GFLOP/s at p50)", flush=True)
        runs[BASELINE].append(run_baseline(args.preset, images, args.warmup, data))
        for name, sets in configs.items():
            runs[name].append(run_gan_core(args.preset, images, args.warmup, data, sets))
        base = runs[BASELINE][-1]["images_per_sec"]
        print(f"pair {pair + 1}: " + "; ".join(
            f"{name} {r[-1]['images_per_sec']:.0f} img/s (with side work {r[-1]['with_side_work']:.0f}, "
            f"p50 {r[-1]['p50_ms']:.0f} ms, p95 {r[-1]['p95_ms']:.0f} ms)"
            + ("" if name == BASELINE else f" = {r[-1]['images_per_sec'] / base:.2f}x")
            for name, r in runs.items()), flush=True)

    flops = step_flops(args.preset, data)  # by each side's update: the baseline's is always the TF DCGAN tutorial's
    print(f"\n{'':34s} {'min':>7s} {'median':>7s} {'max':>7s}")
    summary = {"preset": args.preset, "pairs": args.pairs, "images": images, "warmup": args.warmup,
               "time": time.strftime("%Y-%m-%d %H:%M:%S"), "flops_per_image": flops, "clock_ghz": clock,
               "machine_jitter": jitter,
               "runs": runs, "results": {}}
    for name, rs in runs.items():
        per_image, counted = flops["simultaneous" if name == BASELINE else "gan_core"]
        rate = [r["images_per_sec"] for r in rs]
        with_side = [r["with_side_work"] for r in rs]
        steady = [r["p95_over_p50"] for r in rs]
        precision = rs[0].get("precision", "float32")
        top = peak.cpu_peak(precision, clock_ghz=clock)
        reached = statistics.median(rate) * per_image
        result = {"images_per_sec": rate, "with_side_work": with_side, "p95_over_p50": steady,
                  "flops_per_image": per_image, "flops_counted": counted, "tflops": reached / 1e12,
                  "peak_tflops": top.flops_per_s / 1e12,
                  "fraction_of_peak": reached / top.flops_per_s, "peak_assumptions": top.assumptions}
        print(f"{name + ' img/s':34s} {spread(rate)}   with side work {spread(with_side)}")
        print(f"{'':34s} p95/p50 per run {min(steady):.2f} / {statistics.median(steady):.2f} / {max(steady):.2f};"
              f" {per_image / 1e6:.0f} MFLOP/image -> {reached / 1e12:.3f} TFLOP/s = "
              f"{100 * result['fraction_of_peak']:.1f}% of {top.assumptions}")
        if name != BASELINE:
            ratios = [r["images_per_sec"] / b["images_per_sec"] for r, b in zip(rs, runs[BASELINE])]
            side_ratios = [r["with_side_work"] / b["with_side_work"] for r, b in zip(rs, runs[BASELINE])]
            result |= {"ratio_per_pair": ratios, "ratio_with_side_work_per_pair": side_ratios}
            print(f"{'  ratio to ' + BASELINE:34s} {min(ratios):6.2f}x {statistics.median(ratios):6.2f}x "
                  f"{max(ratios):6.2f}x   with side work {min(side_ratios):.2f}x {statistics.median(side_ratios):.2f}x"
                  f" {max(side_ratios):.2f}x")
        summary["results"][name] = result
    if jitter:
        steady = [j["p95_over_p50"] for j in jitter]
        print(f"the machine's own p95/p50 (fixed matmul, before each pair): {min(steady):.2f} / "
              f"{statistics.median(steady):.2f} / {max(steady):.2f}")
    for update, (per_image, counted) in flops.items():
        print(f"FLOPs per image and step, {update}: {per_image / 1e6:.0f} M ({counted})")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("train_throughput.json" if args.preset == "mnist_dcgan" else
                       f"train_throughput-{args.preset}.json")
    path.write_text(json.dumps(summary, indent=2))
    print(f"wrote {path}")


def step_flops(preset: str, data: Path) -> dict[str, tuple[int, str]]:
    """FLOPs per image of one step and how they were counted (the preset's networks, layer by layer): for the
    baseline's simultaneous update and for gan_core's (the preset's `update`)."""
    from gan_core import config as config_lib
    from gan_core import models

    cfg = config_lib.from_preset(preset, {"precision": "float32", "data": str(data)})
    g = peak.forward_flops(models.get(cfg.architecture).build_generator(cfg))
    d = peak.forward_flops(models.build_discriminator(cfg))
    return {"simultaneous": peak.step_flops(g, d), "gan_core": peak.step_flops(g, d, cfg.update)}


if __name__ == "__main__":
    main()
