"""How much of the CPU a GAN step uses: the step's FLOPs per image, counted from the networks' layers, against the
CPU's peak, estimated from its cores, clock and vector units. Both are estimates, printed with their assumptions.

Counted: Dense, Conv2D and Conv2DTranspose multiply-adds (2 FLOPs each), which are nearly all of a DCGAN's work;
BatchNorm, activations, the optimizer and the losses are left out (so the fraction is a slight underestimate).
"""
from __future__ import annotations

import os
from dataclasses import dataclass


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile (p50, p95 of step times)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def forward_flops(model) -> int:
    """One image's forward FLOPs through `model` (a built Keras model; nested models are walked)."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
            continue
        if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense)):
            continue
        in_shape, out_shape = tuple(layer.input.shape), tuple(layer.output.shape)
        if isinstance(layer, keras.layers.Conv2DTranspose):  # each input pixel spreads a k x k kernel
            kh, kw = layer.kernel_size
            total += 2 * in_shape[1] * in_shape[2] * kh * kw * in_shape[3] * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            total += 2 * out_shape[1] * out_shape[2] * kh * kw * in_shape[3] * layer.filters // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * in_shape[-1] * layer.units
    return total


def step_flops(g_flops: int, d_flops: int, update: str = "simultaneous") -> tuple[int, str]:
    """FLOPs per image of one GAN step, and how they were counted. A backward pass costs 2x its forward (input and
    weight gradients), 1x where only the input gradient is needed (G's gradient through D)."""
    if update == "alternating":  # D's update (G forward, D on real+fake, back), then G's through the new D
        return 4 * g_flops + 8 * d_flops, ("alternating: G fwd twice + back (4 G), D fwd on real, fake, fake again "
                                            "+ back twice, input-only once (8 D)")
    return 3 * g_flops + 7 * d_flops, ("simultaneous: G fwd + back (3 G), D fwd on real and fake + back (6 D), "
                                        "G's gradient through D on the fakes (1 D)")


@dataclass(frozen=True)
class Peak:
    flops_per_s: float
    assumptions: str


def cpu_peak(precision: str, cpuinfo: str = "/proc/cpuinfo") -> Peak:
    """The CPU's peak FLOP/s for `precision`'s matmuls: cores x clock x FLOPs per cycle and core, where a core has
    two 512-bit FMA units (AVX-512: 32 float32 FLOPs each a cycle; avx512_bf16's dot product: 64 bfloat16 FLOPs)
    and, with amx_bf16, one AMX tile unit (1,024 bfloat16 FLOPs a cycle). The clock is /proc/cpuinfo's (a VM
    reports the nominal one; turbo would raise the peak)."""
    cores = len(os.sched_getaffinity(0))
    mhz, flags = 0.0, set()
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "cpu MHz" and not mhz:
                    mhz = float(value)
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    mhz = mhz or 2000.0
    bf16 = "bfloat16" in precision
    if bf16 and "amx_bf16" in flags:
        per_cycle, unit = 1024, "AMX-BF16 tiles (1,024 FLOP/cycle)"
    elif bf16 and "avx512_bf16" in flags:
        per_cycle, unit = 128, "2 x AVX-512 BF16 dot products (128 FLOP/cycle)"
    elif "avx512f" in flags:
        per_cycle, unit = 64, "2 x AVX-512 FMA float32 (64 FLOP/cycle)"
    else:
        per_cycle, unit = 32, "2 x AVX2 FMA float32 (32 FLOP/cycle)"
    peak = cores * mhz * 1e6 * per_cycle
    return Peak(peak, f"{cores} cores x {mhz / 1000:.2f} GHz x {unit} = {peak / 1e12:.2f} TFLOP/s ({precision})")


def machine_jitter(seconds: float = 10.0) -> dict:
    """The machine's own steadiness: one fixed float32 matmul (numpy, every core) timed back to back for `seconds`.
    Its p95/p50 is what a perfectly steady trainer would show on this machine at this moment (a VM shares its
    host: the figure moves with the neighbours)."""
    import time

    import numpy as np

    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        for _ in range(5):
            a @ a
        times.append(time.perf_counter() - started)
    p50, p95 = quantile(times, 0.5), quantile(times, 0.95)
    return {"n": len(times), "p50_ms": 1000 * p50, "p95_ms": 1000 * p95, "p95_over_p50": p95 / p50,
            "gflops_p50": 5 * 2 * 1024 ** 3 / p50 / 1e9}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(machine_jitter(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)))
