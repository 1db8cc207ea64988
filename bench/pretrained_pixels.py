"""Same pixels before and after a change: every shipped model's outputs for fixed inputs, saved or compared.

    python bench/pretrained_pixels.py --save before.npz      # on the old checkout
    python bench/pretrained_pixels.py --compare before.npz   # on the new one: each model identical, or how far off

Latent models draw seeds 0..15 (uint8 pixels); translators translate four fixed random pictures (float32, [0, 1]).
A refactor that must not change models (moving modules, a new loader) should print "identical" for every one.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from gan_core import latent_space, runs, tasks


def outputs() -> dict[str, np.ndarray]:
    found = {}
    for run in runs.list_pretrained():
        model = tasks.load(run)
        if tasks.of_run(run).draws_from_noise:
            found[run.name] = model.images_uint8(latent_space.z_from_seeds(range(16), model.noise_dim, model.noise))
            continue
        for direction, translator in model.items():
            x = np.random.default_rng(0).uniform(0, 1, size=(4, *translator.input_shape)).astype(np.float32)
            found[f"{run.name}:{direction}"] = translator(x)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", help="write the outputs to this .npz")
    group.add_argument("--compare", help="compare with the outputs saved in this .npz")
    args = ap.parse_args()
    now = outputs()
    if args.save:
        np.savez(args.save, **now)
        print(f"{len(now)} models -> {args.save}")
        return 0
    before = np.load(args.compare)
    differ = 0
    for name in sorted(set(before.files) | set(now)):
        if name not in now or name not in before.files:
            print(f"{name:32s} only {'before' if name in before.files else 'now'}")
            differ += 1
        elif np.array_equal(before[name], now[name]):
            print(f"{name:32s} identical")
        else:
            gap = np.abs(before[name].astype(np.float64) - now[name].astype(np.float64)).max()
            print(f"{name:32s} differs (largest difference {gap:.4g})")
            differ += 1
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
