"""Step-through lab latency: what one click costs in the library, from the update to the new grid and scores.

    python bench/lab_latency.py [--repeats 50] [--data mnist.npz]

For each button of the Step-through lab page (D step, G step, full step, 10 steps) it times the update plus
`view()` (the fixed-z 8x8 grid and the batch's D scores: what the page draws), no warm-up beyond the lab's own
(it traces and dry-runs its updates when it is built, so the first click is a normal one). Prints p50/p95 and the
first click's time, and writes bench/results/lab_latency.json. The browser round trip is in tests/test_browser_lab.py.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from gan_core.explore.step_lab import StepLab


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {"first_ms": round(samples[0] * 1000, 1), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--data", help="MNIST file or folder (default: the standard location)")
    args = parser.parse_args()
    start = time.perf_counter()
    lab = StepLab(args.data)
    results = {"build_s": round(time.perf_counter() - start, 1)}
    for name, click in (("d_step", lab.d_step), ("g_step", lab.g_step), ("full_step", lab.full_step),
                        ("10_steps", lambda: lab.steps(10))):
        samples = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            click()
            lab.view()
            samples.append(time.perf_counter() - t)
        results[name] = percentiles(samples)
        print(f"{name:>10}: first {results[name]['first_ms']} ms, p50 {results[name]['p50_ms']} ms, "
              f"p95 {results[name]['p95_ms']} ms")
    out = Path(__file__).parent / "results" / "lab_latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"built in {results['build_s']} s; wrote {out}")


if __name__ == "__main__":
    main()
