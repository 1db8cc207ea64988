"""Quality at speed: the TF DCGAN tutorial's loop against gan_core's recipes, epoch by epoch, on classifier-FID and
coverage.

    python bench/quality_at_speed.py [--baseline-epochs 6] [--recipe mnist_dcgan --recipe mnist_dcgan_fast] \
        [--recipe PRESET:key=value,...] [--n 10000] [--wall S] [--no-fill] [--limit N] [--keep DIR] [--out FILE]

Trains, one after another so that each has the whole machine: the TF DCGAN tutorial's loop (bench/tutorial_baseline.py
--save-dir, a generator per epoch) for --baseline-epochs epochs, then each recipe through
`python -m gan_core train --preset P --set generator_every=1 [--set k=v ...]` for as many epochs. A recipe whose
epochs end before the wall budget W (default: the baseline's training time) is resumed for more epochs until its
training time passes W (--no-fill: don't). Training time is each epoch's own seconds, cumulated: tracing included;
process start, data loading and saving left out (gan_core's epoch records; the baseline's timeline.jsonl).

Then every saved generator is scored with gan_core.evaluation on n generated images against the MNIST test split
(classifier-FID, classifier score, mode coverage: classes covered and KL to the real class distribution), with the
floors (the same metrics of n real training images). Prints a per-epoch table per contestant and three comparisons:
same epochs (FID of recipe mnist_dcgan vs the baseline), same wall time (each contestant's last epoch finished
within W) and time to quality (the first epoch with all classes covered and KL <= --kl-target). Writes everything
to bench/results/quality_at_speed.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gan_core import evaluation

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist.npz"
BASELINE = "tutorial baseline"
SAME_RECIPE = "mnist_dcgan"  # gan_core's default settings: the baseline's own recipe
METRICS = ("classifier_fid", "classifier_score", "mode_coverage")
MAX_FILLS = 3


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(line for line in (proc.stdout + proc.stderr).splitlines()
                         if not line.startswith(("I0000", "E0000", "W0000", "WARNING: All log")))[-3000:]
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{tail}")
    proc.wall_s = time.perf_counter() - start  # type: ignore[attr-defined]
    return proc


def parse_recipe(spec: str) -> tuple[str, list[str]]:
    """'PRESET[:key=value,...]' -> (preset, ['key=value', ...])."""
    preset, _, rest = spec.partition(":")
    sets = [s.strip() for s in rest.split(",") if s.strip()]
    bad = [s for s in sets if "=" not in s]
    if not preset or bad:
        raise SystemExit(f"--recipe takes PRESET[:key=value,...]; got {spec!r}")
    return preset.strip(), sets


# --- training ----------------------------------------------------------------------------------------------------

def train_baseline(epochs: int, data: Path, limit: int | None, save_dir: Path) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "tutorial_baseline.py"), "--epochs", str(epochs),
           "--save-dir", str(save_dir), "--data", str(data)]
    if limit:
        cmd += ["--limit", str(limit)]
    log(f"training {BASELINE} for {epochs} epochs")
    proc = _run(cmd, BASELINE)
    timeline = [json.loads(line) for line in (save_dir / "timeline.jsonl").read_text().splitlines() if line.strip()]
    rows = [{"epoch": t["epoch"], "train_seconds": t["train_seconds"], "images": t["images"], "path": t["path"],
             "partial": t.get("partial", False)} for t in timeline]
    return {"kind": "baseline", "script": "bench/tutorial_baseline.py", "batch_size": 256, "epochs": rows,
            "process_wall_s": round(proc.wall_s, 1)}


def _run_rows(run, batch_size: int) -> list[dict]:
    rows, total = [], 0.0
    saved = set(run.generator_epochs())
    for rec in sorted(run.metrics("epoch"), key=lambda r: r["epoch"]):
        total += float(rec["seconds"])
        rows.append({"epoch": int(rec["epoch"]), "train_seconds": round(total, 3),
                     "images": int(rec["step"]) * batch_size, "epoch_seconds": float(rec["seconds"]),
                     "path": str(run.generator_path(rec["epoch"])) if rec["epoch"] in saved else None})
    return rows


def train_recipe(spec: str, epochs: int, data: Path, limit: int | None, runs_dir: Path, fill_to: float | None) -> dict:
    from gan_core.runs import list_runs

    preset, sets = parse_recipe(spec)
    cmd = [sys.executable, "-m", "gan_core", "train", "--preset", preset, "--data", str(data), "--epochs", str(epochs),
           "--runs-dir", str(runs_dir), "--quiet", "--set", "generator_every=1"]
    if limit:
        cmd += ["--limit", str(limit)]
    for s in sets:
        cmd += ["--set", s]
    log(f"training gan_core {spec} for {epochs} epochs")
    wall = _run(cmd, f"gan_core {spec}").wall_s
    run = list_runs(runs_dir)[-1]
    batch = int(run.config_dict()["batch_size"])
    rows, resumes = _run_rows(run, batch), 0
    while fill_to and rows and rows[-1]["train_seconds"] < fill_to and resumes < MAX_FILLS:
        steady = [r["epoch_seconds"] for r in rows[1:]] or [rows[0]["epoch_seconds"]]  # epoch 1 holds the tracing
        per_epoch = sum(steady) / len(steady)
        extra = max(1, math.ceil((fill_to - rows[-1]["train_seconds"]) / per_epoch))
        target = rows[-1]["epoch"] + extra
        log(f"gan_core {spec}: {rows[-1]['train_seconds']:.0f}s < wall {fill_to:.0f}s; resuming to epoch {target}")
        wall += _run([sys.executable, "-m", "gan_core", "train", "--resume", str(run.path), "--epochs", str(target),
                      "--quiet"], f"gan_core {spec} (resume)").wall_s
        rows, resumes = _run_rows(run, batch), resumes + 1
    return {"kind": "gan_core", "preset": preset, "sets": sets, "batch_size": batch, "run": run.name,
            "resumed": resumes, "epochs": rows, "process_wall_s": round(wall, 1)}


# --- evaluation ----------------------------------------------------------------------------------------------------

def evaluate_all(contestants: dict, data: Path, n: int) -> dict:
    """Score every saved generator in this process (the real statistics and floors are computed once)."""
    import tensorflow as tf


    tf.get_logger().setLevel("ERROR")  # each loaded generator traces its own function: not a retracing problem
    floors = None
    for name, c in contestants.items():
        for row in c["epochs"]:
            if not row.get("path"):
                continue
            start = time.perf_counter()
            result = evaluation.evaluate(row["path"], dataset="mnist", data_path=str(data), n=n, metrics=METRICS)
            m = result["metrics"]
            cov = m["mode_coverage"]
            row.update({"fid": m["classifier_fid"]["value"], "score": m["classifier_score"]["value"],
                        "classes": cov["classes_covered"], "num_classes": cov["num_classes"], "kl": cov["value"],
                        "histogram": cov["histogram"], "n": result["n"],
                        "eval_seconds": round(time.perf_counter() - start, 1)})
            if floors is None:
                floors = {"n": result["n"], "classifier_fid": m["classifier_fid"]["floor"],
                          "classifier_score": m["classifier_score"]["floor"], "kl": cov["floor"],
                          "classes": cov.get("floor_classes_covered"),
                          "evaluator": m["classifier_fid"].get("evaluator")}
            log(f"  {name} epoch {row['epoch']}: FID {row['fid']:.3f}, classes {row['classes']}, KL {row['kl']:.3f}")
    return floors or {}


# --- comparisons ------------------------------------------------------------------------------------------------------

def _scored(c: dict) -> list[dict]:
    return [r for r in c["epochs"] if "fid" in r]


def images_per_sec(c: dict) -> float | None:
    rows = c["epochs"]
    return rows[-1]["images"] / rows[-1]["train_seconds"] if rows and rows[-1]["train_seconds"] > 0 else None


def same_epochs(contestants: dict) -> dict:
    base = {r["epoch"]: r for r in _scored(contestants[BASELINE]) if not r.get("partial")}
    others = [name for name in contestants if name != BASELINE]
    rows = []
    for epoch in sorted(base):
        row = {"epoch": epoch, "fid": {BASELINE: base[epoch]["fid"]}}
        for name in others:
            match = next((r for r in _scored(contestants[name]) if r["epoch"] == epoch), None)
            if match:
                row["fid"][name] = match["fid"]
        rows.append(row)
    verdict = None
    final = next((r for r in reversed(rows) if SAME_RECIPE in r["fid"]), None)
    if final:
        b, g = final["fid"][BASELINE], final["fid"][SAME_RECIPE]
        verdict = {"epoch": final["epoch"], "baseline_fid": b, "gan_core_fid": g, "ratio": g / b if b else None,
                   "no_worse": g <= b}
    return {"recipe": SAME_RECIPE, "rows": rows, "final": verdict}


def same_wall_time(contestants: dict, wall: float, source: str) -> dict:
    out = {"wall_s": wall, "source": source, "contestants": {}}
    for name, c in contestants.items():
        within = [r for r in _scored(c) if r["train_seconds"] <= wall]
        trained = c["epochs"][-1]["train_seconds"] if c["epochs"] else 0.0
        pick = within[-1] if within else None
        out["contestants"][name] = {
            "trained_seconds": trained, "filled": trained >= wall * 0.999,
            "epoch": pick and pick["epoch"], "train_seconds": pick and pick["train_seconds"],
            **({k: pick[k] for k in ("fid", "score", "classes", "kl")} if pick else {})}
    return out


def time_to_quality(contestants: dict, kl_target: float, goal_s: float) -> dict:
    out = {"target": {"classes": "all", "kl_max": kl_target}, "goal_seconds": goal_s, "contestants": {}}
    for name, c in contestants.items():
        rows = _scored(c)
        hit = next((r for r in rows if r["classes"] == r["num_classes"] and r["kl"] <= kl_target), None)
        out["contestants"][name] = {
            "reached": hit is not None, "epoch": hit and hit["epoch"], "train_seconds": hit and hit["train_seconds"],
            "within_goal": bool(hit) and hit["train_seconds"] <= goal_s,
            "epochs_tried": rows[-1]["epoch"] if rows else 0,
            "seconds_tried": rows[-1]["train_seconds"] if rows else 0.0}
    return out


# --- report ----------------------------------------------------------------------------------------------------------

def _f(value, fmt: str, width: int = 0) -> str:
    """value formatted with fmt, right-aligned in width; '-' for a missing value."""
    text = format(value, fmt) if isinstance(value, (int, float)) else "-"
    return f"{text:>{width}}" if width else text


def print_report(summary: dict) -> None:
    fl = summary["floors"]
    print(f"n = {fl.get('n')} generated vs MNIST test images; real-data floors: "
          f"FID {_f(fl.get('classifier_fid'), '.3f')}, score {_f(fl.get('classifier_score'), '.2f')}, "
          f"classes {fl.get('classes')}, KL {_f(fl.get('kl'), '.4f')}")
    for name, c in summary["contestants"].items():
        ips = c.get("images_per_sec")
        print(f"\n{name} (batch {c['batch_size']}, {ips:.0f} img/s over its training time)" if ips else f"\n{name}")
        print(f"{'epoch':>5} {'train s':>8} {'FID':>8} {'score':>6} {'classes':>7} {'KL':>7}")
        for r in c["epochs"]:
            mark = "*" if r.get("partial") else " "
            print(f"{r['epoch']:>4}{mark} {r['train_seconds']:8.1f} {_f(r.get('fid'), '.3f', 8)} "
                  f"{_f(r.get('score'), '.2f', 6)} {str(r.get('classes', '-')):>7} {_f(r.get('kl'), '.4f', 7)}")

    se = summary["same_epochs"]
    names = [n for n in summary["contestants"]]
    print("\nsame epochs: classifier-FID")
    print(f"{'epoch':>5} " + " ".join(f"{n[:22]:>22}" for n in names))
    for row in se["rows"]:
        print(f"{row['epoch']:>5} " + " ".join(_f(row["fid"].get(n), ".3f", 22) for n in names))
    if se["final"]:
        v = se["final"]
        print(f"gan_core {SAME_RECIPE} at epoch {v['epoch']}: FID {v['gan_core_fid']:.3f} vs baseline "
              f"{v['baseline_fid']:.3f} ({v['ratio']:.2f}x): {'no worse' if v['no_worse'] else 'WORSE'}")

    sw = summary["same_wall_time"]
    print(f"\nsame wall time: W = {sw['wall_s']:.1f} s ({sw['source']})")
    for name, r in sw["contestants"].items():
        note = "" if r["filled"] else f"  (trained only {r['trained_seconds']:.1f} s)"
        if r["epoch"] is None:
            print(f"  {name:28s} no epoch finished within W{note}")
        else:
            print(f"  {name:28s} epoch {r['epoch']:>3} at {r['train_seconds']:7.1f} s: FID {r['fid']:.3f}, "
                  f"score {r['score']:.2f}, classes {r['classes']}, KL {r['kl']:.4f}{note}")

    tq = summary["time_to_quality"]
    print(f"\ntime to quality: all classes covered and KL <= {tq['target']['kl_max']} "
          f"(goal: within {tq['goal_seconds'] / 60:.0f} min)")
    for name, r in tq["contestants"].items():
        if r["reached"]:
            minutes = r["train_seconds"] / 60
            print(f"  {name:28s} epoch {r['epoch']:>3} at {r['train_seconds']:7.1f} s ({minutes:.1f} min)"
                  f"{'  within goal' if r['within_goal'] else '  over goal'}")
        else:
            print(f"  {name:28s} not reached in {r['epochs_tried']} epochs ({r['seconds_tried']:.1f} s)")

    print("\nimages/s over training time (tracing included):")
    base = summary["contestants"][BASELINE].get("images_per_sec")
    for name, c in summary["contestants"].items():
        ips = c.get("images_per_sec")
        ratio = f"  {ips / base:.2f}x baseline" if ips and base else ""
        print(f"  {name:28s} {_f(ips, '.0f', 7)}{ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline-epochs", type=int, default=6)
    ap.add_argument("--recipe-epochs", type=int, help="epochs each recipe trains before any fill (default: the "
                    "baseline's)")
    ap.add_argument("--recipe", action="append", metavar="PRESET[:key=value,...]",
                    help=f"a gan_core recipe (repeatable; default: {SAME_RECIPE} and mnist_dcgan_fast)")
    ap.add_argument("--n", type=int, default=10000, help="generated images per evaluation (and real ones)")
    ap.add_argument("--wall", type=float, help="wall budget W in training seconds (default: the baseline's)")
    ap.add_argument("--no-fill", action="store_true", help="don't resume recipes that finish before W")
    ap.add_argument("--kl-target", type=float, default=0.05)
    ap.add_argument("--goal-minutes", type=float, default=20.0)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, help="first N training images only (smoke tests)")
    ap.add_argument("--keep", type=Path, help="keep the generators and runs in this folder")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality_at_speed.json")
    args = ap.parse_args()
    data = args.data.expanduser().resolve()
    if not data.is_file():
        raise SystemExit(f"no MNIST file at {data}; pass --data /path/to/mnist.npz")
    recipes = args.recipe or [SAME_RECIPE, "mnist_dcgan_fast"]
    for spec in recipes:
        parse_recipe(spec)
    recipe_epochs = args.recipe_epochs or args.baseline_epochs

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work, cleanup = args.keep, None
    else:
        cleanup = tempfile.mkdtemp(prefix="quality_at_speed-")
        work = Path(cleanup)
    try:
        contestants = {BASELINE: train_baseline(args.baseline_epochs, data, args.limit, work / "baseline")}
        base_total = contestants[BASELINE]["epochs"][-1]["train_seconds"]
        wall, source = ((args.wall, "--wall") if args.wall
                        else (base_total, f"the baseline's {args.baseline_epochs} epochs"))
        for i, spec in enumerate(recipes):
            runs_dir = work / f"recipe{i}"
            shutil.rmtree(runs_dir, ignore_errors=True)
            contestants[spec] = train_recipe(spec, recipe_epochs, data, args.limit, runs_dir,
                                             None if args.no_fill else wall)
        for c in contestants.values():
            c["images_per_sec"] = images_per_sec(c)
        log(f"evaluating {sum(len(c['epochs']) for c in contestants.values())} generators at n={args.n}")
        floors = evaluate_all(contestants, data, args.n)
    finally:
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)

    summary = {
        "machine": {"cpus": os.cpu_count()}, "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": {"baseline_epochs": args.baseline_epochs, "recipe_epochs": recipe_epochs, "recipes": recipes,
                     "n": args.n, "data": str(data), "limit": args.limit, "fill": not args.no_fill,
                     "kl_target": args.kl_target, "kept": str(args.keep) if args.keep else None},
        "floors": floors, "contestants": contestants,
        "same_epochs": same_epochs(contestants),
        "same_wall_time": same_wall_time(contestants, wall, source),
        "time_to_quality": time_to_quality(contestants, args.kl_target, args.goal_minutes * 60),
        "images_per_sec": {name: c["images_per_sec"] for name, c in contestants.items()},
    }
    if not args.keep:
        for c in contestants.values():
            for row in c["epochs"]:
                row["path"] = None
    print_report(summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
