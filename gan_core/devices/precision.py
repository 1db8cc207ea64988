"""Speed settings that depend on the machine: precision "auto", XLA "auto" and TensorFlow's thread pools.

Measured with bench/train_throughput.py and bench/step_ceiling.py on 2-core CPUs with avx512_bf16 (bench/README.md):
mixed_bfloat16 trains at 1.5x float32's images/s for mnist_dcgan and 2x for faces_rgb64 on an AMD EPYC (1.84x for
mnist_dcgan on a Sapphire Rapids with AMX), mixed_float16 at ~0.11x (CPUs emulate float16), and XLA (jit_compile)
at ~0.55x. On GPUs mixed precision and XLA are the usual wins, so "auto" turns them on there.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Sequence

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
BF16_MIN_GPU_CAPABILITY = (8, 0)  # Ampere and later run bfloat16 matmuls natively


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The first processor's "flags" line of /proc/cpuinfo as a set; empty where it cannot be read (not Linux)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep and key.strip() == "flags":
                    return set(value.split())
    except OSError:
        pass
    return set()


def gpu_capabilities() -> list[tuple[int, int]]:
    """Compute capabilities of the GPUs TensorFlow sees, e.g. [(8, 0)]; [] on a CPU-only machine.

    Where TensorFlow is not imported yet and the machine has no GPU device node, answer [] without importing it
    (a run is created in the app or CLI before any training, and TensorFlow's import takes seconds)."""
    if "tensorflow" not in sys.modules and not _gpu_device_nodes():
        return []
    import tensorflow as tf

    found = []
    for gpu in tf.config.list_physical_devices("GPU"):
        cc = tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0)
        found.append((int(cc[0]), int(cc[1])))
    return found


def _gpu_device_nodes() -> bool:
    dev = Path("/dev")
    try:
        return any(dev.glob("nvidia[0-9]*")) or (dev / "kfd").exists() or (dev / "dxg").exists()
    except OSError:
        return True  # cannot tell: let TensorFlow decide


def resolve_precision(requested: str, *, gpus: Sequence[tuple[int, int]] | None = None,
                      flags: Iterable[str] | None = None) -> tuple[str, str]:
    """The concrete precision for `requested` on this machine, and a one-line reason for the run's log.

    "auto" means the fastest precision that keeps training stable without loss scaling: mixed_bfloat16 where the
    hardware computes bfloat16 natively -- every GPU of compute capability 8.0 or more, or, with no GPU, a CPU
    with the avx512_bf16 or amx_bf16 instructions (1.5-2x float32's throughput measured here) -- else float32.
    mixed_float16 is never chosen: it needs loss scaling, and on a CPU it runs ~9x slower than float32.
    `gpus` (compute capabilities) and `flags` (CPU flags) are looked up when left out; tests inject them.
    Any other value is returned unchanged.
    """
    if requested != "auto":
        return requested, f"precision {requested} (set in the config)"
    gpus = gpu_capabilities() if gpus is None else list(gpus)
    if gpus:
        slowest = min(tuple(cc) for cc in gpus)
        where = f"{len(gpus)} GPU, compute capability {'.'.join(map(str, slowest))}"
        if slowest >= BF16_MIN_GPU_CAPABILITY:
            return "mixed_bfloat16", f"precision auto -> mixed_bfloat16: {where} (>= 8.0) computes bfloat16 natively"
        return "float32", f"precision auto -> float32: {where} (< 8.0) has no native bfloat16"
    flags = cpu_flags() if flags is None else set(flags)
    found = [f for f in BF16_CPU_FLAGS if f in flags]
    if found:
        return "mixed_bfloat16", f"precision auto -> mixed_bfloat16: no GPU, and the CPU has {' and '.join(found)}"
    return "float32", f"precision auto -> float32: no GPU, and the CPU lacks {' and '.join(BF16_CPU_FLAGS)}"


def resolve_config(cfg) -> str | None:
    """Replace cfg.precision "auto" by its concrete value (in place) before the config is first saved.

    Returns the reason to log, or None where nothing was "auto" (a resumed run keeps its saved value)."""
    if cfg.precision != "auto":
        return None
    cfg.precision, reason = resolve_precision("auto")
    return reason


def resolve_jit(requested: str, *, on_gpu: bool) -> tuple[bool, str]:
    """jit_compile "auto" is XLA on a GPU, where fusing the step's small ops pays, and off on a CPU, where XLA
    measured ~1.8x slower than TensorFlow's own kernels (oneDNN). "on"/"off" force it."""
    if requested == "auto":
        return on_gpu, f"jit_compile auto -> {'on (GPU)' if on_gpu else 'off (CPU: XLA measured slower here)'}"
    return requested == "on", f"jit_compile {requested}"


def apply_threads(intra: int, inter: int) -> str | None:
    """Set TensorFlow's intra-/inter-op thread pools (0 = leave TensorFlow's default). They can only be set before
    TensorFlow runs its first op; returns a message saying what happened, or None when nothing was asked."""
    if not intra and not inter:
        return None
    import tensorflow as tf

    threading = tf.config.threading
    wanted = {"threads": (intra, threading.get_intra_op_parallelism_threads,
                          threading.set_intra_op_parallelism_threads),
              "inter_op_threads": (inter, threading.get_inter_op_parallelism_threads,
                                   threading.set_inter_op_parallelism_threads)}
    done, failed = [], []
    for name, (value, get, put) in wanted.items():
        if not value:
            continue
        if get() == value:
            done.append(f"{name}={value}")
            continue
        try:
            put(value)
            done.append(f"{name}={value}")
        except RuntimeError:
            failed.append(f"{name}={value}")
    message = f"TensorFlow threads: {', '.join(done)}" if done else ""
    if failed:
        message += ("; " if message else "") + (f"could not apply {', '.join(failed)}: TensorFlow was already "
                                                  "initialised in this process (the defaults stay)")
    return message
