"""Interactive latency: what a slider move costs before the browser gets its new picture.

    python bench/interactive_latency.py MODEL [--repeats 50]    (MODEL: a run folder or a .keras file)

Measures, for the same generator: `model.predict` on one z (what we avoid), the compiled call gan_core uses for one
image and for an 8x8 grid, and turning a grid into PNG bytes. Prints p50 and p95 of each and writes JSON. The
browser-side time (slider move -> new image on screen) is measured by tests/test_browser_every_page.py, which prints it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from gan_core.files import pictures

ROOT = Path(__file__).resolve().parents[1]


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2)}


def timed(fn, repeats: int) -> dict[str, float]:
    fn()  # warm-up: tracing and first allocation are not what a slider move pays
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return percentiles(samples)


def main() -> None:
    from gan_core import latent_space
    from gan_core.cli import load_model_ref

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()

    g = load_model_ref(args.model, None)
    z1 = latent_space.z_from_seed(42, g.noise_dim, g.noise)[None]
    z64 = latent_space.z_from_seeds(range(64), g.noise_dim, g.noise)
    grid = pictures.grid(g.images_uint8(z64), 8, 8, scale=2)
    results = {
        "model.predict, 1 image": timed(lambda: g.model.predict(z1, verbose=0), args.repeats),
        "compiled call, 1 image": timed(lambda: g(z1), args.repeats),
        "compiled call, 8x8 grid": timed(lambda: g(z64), args.repeats),
        "grid to PNG bytes (8x8, scale 2)": timed(lambda: pictures.png_bytes(grid), args.repeats),
        "slider move end to end in Python (z -> PNG)": timed(
            lambda: pictures.png_bytes(pictures.grid(g.images_uint8(z1), 1, 1, scale=8)), args.repeats),
    }
    for name, r in results.items():
        print(f"{name:45s} p50 {r['p50_ms']:8.2f} ms   p95 {r['p95_ms']:8.2f} ms")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "interactive_latency.json").write_text(json.dumps({"model": args.model, "results": results}, indent=2))


if __name__ == "__main__":
    main()
