"""Home with many runs: the time AppTest takes to render the Home page over 1,000 run folders.

    python bench/home_many_runs.py [--runs 1000] [--repeats 3] [--keep DIR]

Makes N small but valid run folders in a temporary runs folder (config.json and status.json copied from a run
that `runs.create_run` made, each with its own name, preset and state and one 28x28 grid PNG), points the app at it
(GAN_EXPLORER_RUNS; no pretrained models) and times Home's first render (a new session: imports excluded, a warm-up
render on an empty folder pays them) and a rerun of the same session. Also times `runs.scan_runs` over the folder,
twice (the second finds every folder unchanged).
Writes bench/results/home_many_runs.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

APP = Path(__file__).resolve().parents[1] / "app.py"
PRESETS = ("mnist_dcgan", "mnist_dense", "fashion_dcgan", "digits32_fast")
STATES = ("done", "stopped", "failed", "done")


def make_runs(root: Path, n: int) -> None:
    """N run folders, numbered 0..N-1, that every reader accepts."""
    from gan_core import config, runs
    from gan_core.files import pictures

    template = runs.create_run(root / "_template", config.from_preset("mnist_dcgan", {"name": "template",
                                                                                       "precision": "float32"}))
    base_config = json.loads(template.config_path.read_text())
    grid = pictures.png_bytes(np.random.default_rng(0).integers(0, 255, (28, 28, 1), dtype=np.uint8))
    for i in range(n):
        preset, state = PRESETS[i % len(PRESETS)], STATES[i % len(STATES)]
        run = root / f"{i:05d}-{preset}-{i}"
        for sub in ("samples", "generators", "checkpoints", "exports"):
            (run / sub).mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({**base_config, "name": f"{preset}-{i}", "preset": preset}))
        (run / "status.json").write_text(json.dumps({"state": state, "epoch": 5, "epochs": 5, "step": 10,
                                                     "updated_at": 1.7e9 + i}))
        (run / "samples" / "epoch_0005.png").write_bytes(grid)
    shutil.rmtree(root / "_template")


def render_home(timeout: float) -> tuple[float, float, int]:
    """(first render s, rerun s, run cards shown) of a new AppTest session on the app's Home page."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    start = time.perf_counter()
    at.run()
    first = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    start = time.perf_counter()
    at.run()
    rerun = time.perf_counter() - start
    return first, rerun, sum(1 for c in at.caption if str(c.value).startswith("preset "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", help="make the runs in this folder and keep them (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="home_many_runs-"))
    root, empty = work / "runs", work / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    os.environ["GAN_EXPLORER_PRETRAINED"] = str(work / "no-pretrained")
    os.environ["GAN_EXPLORER_RUNS"] = str(root)
    if not root.is_dir():
        make_runs(root, args.runs)
    from gan_core import runs

    one = work / "one"
    if not one.is_dir():
        shutil.copytree(root / min(p.name for p in root.iterdir()), one / "00000-one")
    runs.scan_runs(one)  # the architectures' imports (Keras), paid once, outside the figures
    scans = []
    for _ in range(2):  # the first reads every folder; the second finds them unchanged
        start = time.perf_counter()
        found, _ = runs.scan_runs(root)
        scans.append(time.perf_counter() - start)
    os.environ["GAN_EXPLORER_RUNS"] = str(empty)
    render_home(600)  # imports, TensorFlow's device list: paid once, outside the figures
    os.environ["GAN_EXPLORER_RUNS"] = str(root)
    firsts, reruns = [], []
    for _ in range(args.repeats):
        first, rerun, cards = render_home(600)
        firsts.append(first)
        reruns.append(rerun)
    result = {"runs": len(found), "cards_shown": cards, "scan_runs_s": round(scans[0], 3),
              "scan_runs_again_s": round(scans[1], 3),
              "home_first_s": round(statistics.median(firsts), 2), "home_rerun_s": round(statistics.median(reruns), 2)}
    print(f"{len(found)} runs: scan_runs {result['scan_runs_s']} s (again: {result['scan_runs_again_s']} s); "
          f"Home renders {cards} cards in "
          f"{result['home_first_s']} s (new session), {result['home_rerun_s']} s (rerun); median of {args.repeats}")
    out = Path(__file__).parent / "results" / "home_many_runs.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
