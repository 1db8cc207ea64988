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


# A chain of dependent integer adds runs one a cycle on every x86 core of the last decade, so its rate is the clock
# the core actually runs at (turbo included), which a VM's /proc/cpuinfo does not tell (it reports the nominal one).
CLOCK_PROBE_C = r"""
#include <stdio.h>
#include <time.h>
int main(void) {
    long x = 0, n = 1000000000L;
    double best = 0;
    for (int round = 0; round < 3; round++) {  /* the fastest of three: a round the host preempted runs slow */
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < n; i++) __asm__ volatile("add $1, %0" : "+r"(x));
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ghz = n / ((b.tv_sec - a.tv_sec) + 1e-9 * (b.tv_nsec - a.tv_nsec)) / 1e9;
        if (ghz > best) best = ghz;
    }
    printf("%.4f\n", best);
    return x == 3 * n ? 0 : 1;
}
"""


def measured_clock_ghz(compiler: str = "cc") -> float | None:
    """The clock every core sustains while all of them work (GHz): the probe above (~0.8 s), one process per core
    at once, the slowest. None where it cannot run (no C compiler, not x86-64)."""
    import platform
    import shutil
    import subprocess
    import tempfile

    if platform.machine() not in ("x86_64", "AMD64") or not shutil.which(compiler):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "clock.c"), os.path.join(tmp, "clock")
        with open(src, "w") as f:
            f.write(CLOCK_PROBE_C)
        if subprocess.run([compiler, "-O2", src, "-o", exe], capture_output=True).returncode:
            return None
        procs = [subprocess.Popen([exe], stdout=subprocess.PIPE, text=True)
                 for _ in range(len(os.sched_getaffinity(0)))]
        outs = [p.communicate()[0] for p in procs]
        if any(p.returncode for p in procs):
            return None
    return min(float(out) for out in outs)


def flops_per_cycle(bf16: bool, flags: set[str], vendor: str, family: int) -> tuple[int, str]:
    """A core's peak FLOPs a cycle for float32 or bfloat16 matmuls, from its vector units. AVX-512 parts have two
    512-bit FMA units (32 float32 FLOPs each a cycle; avx512_bf16's dot product does 64 bfloat16 FLOPs), except
    AMD's Zen 4 (family 25), which runs each 512-bit op on 256-bit units at half that rate; amx_bf16 adds Intel's
    tile unit (1,024 bfloat16 FLOPs a cycle)."""
    half = vendor == "AuthenticAMD" and family == 25
    if bf16 and "amx_bf16" in flags:
        return 1024, "AMX-BF16 tiles (1,024 FLOP/cycle)"
    if bf16 and "avx512_bf16" in flags:
        return (64, "AVX-512 BF16 dot products on 256-bit units (Zen 4: 64 FLOP/cycle)") if half else \
            (128, "2 x AVX-512 BF16 dot products (128 FLOP/cycle)")
    if "avx512f" in flags:
        return (32, "AVX-512 FMA float32 on 256-bit units (Zen 4: 32 FLOP/cycle)") if half else \
            (64, "2 x AVX-512 FMA float32 (64 FLOP/cycle)")
    return 32, "2 x AVX2 FMA float32 (32 FLOP/cycle)"


def cpu_peak(precision: str, cpuinfo: str = "/proc/cpuinfo", clock_ghz: float | None = None) -> Peak:
    """The CPU's peak FLOP/s for `precision`'s matmuls: cores x clock x FLOPs per cycle and core (flops_per_cycle).
    The clock is `clock_ghz` where measured (measured_clock_ghz), else /proc/cpuinfo's, which a VM reports as the
    nominal clock (turbo raises the true peak: the fraction reached is then overstated)."""
    cores = len(os.sched_getaffinity(0))
    mhz, flags, vendor, family = 0.0, set(), "", 0
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "cpu MHz" and not mhz:
                    mhz = float(value)
                elif key == "flags" and not flags:
                    flags = set(value.split())
                elif key == "vendor_id" and not vendor:
                    vendor = value
                elif key == "cpu family" and not family:
                    family = int(value)
    except (OSError, ValueError):
        pass
    if clock_ghz:
        ghz, clock = clock_ghz, f"{clock_ghz:.2f} GHz (measured, all cores busy)"
    else:
        ghz = (mhz or 2000.0) / 1000
        clock = f"{ghz:.2f} GHz ({'/proc/cpuinfo, nominal' if mhz else 'assumed'})"
    per_cycle, unit = flops_per_cycle("bfloat16" in precision, flags, vendor, family)
    top = cores * ghz * 1e9 * per_cycle
    return Peak(top, f"{cores} cores x {clock} x {unit} = {top / 1e12:.2f} TFLOP/s ({precision})")


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
