"""What can be known to fail before a run folder exists: data that is not there, models that cannot fit in memory.

`train --set noise_dim=200000` used to build a 2.5-billion-parameter Dense layer and die in TensorFlow's allocator
(or the OOM killer) with a traceback and a `failed` run folder. Here the models are built symbolically under a Keras
StatelessScope -- layers, shapes and variable shapes, but no weights are allocated -- and their parameters,
activations and the training images are compared with the memory this machine has free. The estimate is a lower
bound (weights, gradients and Adam's two slots; one forward's activations; the images as float32), so what it
refuses cannot train here, and what it lets through may still be tight.
"""
from __future__ import annotations

import copy
import math
import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import data as data_lib
from . import devices, models
from .config import TrainConfig
from .errors import ConfigError

GIB = 1024**3
BYTES_PER_PARAMETER = 16  # float32 weight + gradient + Adam's m and v
MNIST_TRAIN_IMAGES = 60_000


@dataclass(frozen=True)
class Estimate:
    """Lower bounds, in bytes, of what a training run of a config holds in memory."""

    g_parameters: int
    d_parameters: int
    model_bytes: int  # parameters and activations: on the GPU when there is one
    n_images: int | None
    data_bytes: int  # the training images as float32 (and their uint8 decode), in host memory


@dataclass(frozen=True)
class Memory:
    host: int | None  # bytes free for this process (MemAvailable, within a cgroup limit); None if unknown
    gpu: int | None  # bytes free on the first GPU; None without a GPU or when it cannot be asked


def check(cfg: TrainConfig, memory: Memory | None = None) -> Estimate | None:
    """ConfigError or DataError for a config whose device is not here (gpu:N), whose data is missing or whose run
    cannot fit in memory."""
    devices.check_device_seen(cfg.device)
    n_images = check_data(cfg)
    return check_memory(cfg, memory, n_images=n_images)


def check_data(cfg: TrainConfig) -> int | None:
    """The training data's location and format (data.check_source) for each domain; the image count if known."""
    n = data_lib.check_source(cfg.dataset, cfg.data)
    if cfg.dataset_b:  # domain B (a CycleGAN; other tasks refuse the field)
        n_b = data_lib.check_source(cfg.dataset_b, cfg.data_b)
        n = None if n is None or n_b is None else min(n, n_b)
    return n


def check_memory(cfg: TrainConfig, memory: Memory | None = None, n_images: int | None = None) -> Estimate | None:
    """ConfigError naming what to lower when the estimate exceeds the free memory; the estimate (None if the
    models could not be built symbolically: then nothing is refused)."""
    estimate = estimate_memory(cfg, n_images)
    if estimate is None:
        return None
    memory = memory or available_memory()
    where = "on the GPU" if memory.gpu is not None else "in this machine's memory"
    free_for_models = memory.gpu if memory.gpu is not None else memory.host
    host_needs = estimate.data_bytes + (0 if memory.gpu is not None else estimate.model_bytes)
    if free_for_models is not None and estimate.model_bytes > free_for_models:
        raise ConfigError(
            f"{cfg.architecture} at noise_dim {cfg.noise_dim}, image_size {cfg.image_size}, batch_size "
            f"{cfg.batch_size} needs at least {_gib(estimate.model_bytes)} to train (G {estimate.g_parameters:,} and "
            f"D {estimate.d_parameters:,} parameters, with gradients, Adam's state and activations) but "
            f"{_gib(free_for_models)} is free {where}: lower noise_dim, image_size or batch_size")
    if memory.host is not None and host_needs > memory.host:
        images = f"{estimate.n_images:,} " if estimate.n_images else ""
        raise ConfigError(
            f"the {images}training images at {cfg.image_size}x{cfg.image_size}x{cfg.channels} need at least "
            f"{_gib(host_needs)} of memory as float32" + (" with the models" if memory.gpu is None else "")
            + f" but {_gib(memory.host)} is free: train on fewer images (--limit N) or a smaller image_size")
    return estimate


def estimate_memory(cfg: TrainConfig, n_images: int | None = None) -> Estimate | None:
    """Parameters and activations of G and D built without weights, and the images' size; None if Keras cannot
    build them symbolically (a future Keras without StatelessScope's deferred variables)."""
    shapes = _symbolic_models(cfg)
    if shapes is None:
        return None
    (g_params, g_acts), (d_params, d_acts) = shapes
    arch = models.get(cfg.architecture)
    copies = arch.generators  # a CycleGAN: two generators and two discriminators
    # D runs on a real and a fake batch; two generators also run the round trip (about twice the activations)
    activations = cfg.batch_size * (g_acts + 2 * d_acts) * 4 * copies * copies
    model_bytes = BYTES_PER_PARAMETER * copies * (g_params + d_params) + activations
    n = n_images if n_images is not None else (MNIST_TRAIN_IMAGES if cfg.dataset != "folder" else None)
    if n is not None and cfg.limit:
        n = min(n, cfg.limit)
    pixels = cfg.image_size * cfg.image_size * cfg.channels
    per_image = pixels * 5 * arch.images_per_example
    return Estimate(copies * g_params, copies * d_params, model_bytes, n, (n or 0) * per_image)


def _symbolic_models(cfg: TrainConfig) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """((G parameters, G activations per example), (D ...)) from models whose variables are never allocated."""
    import keras

    try:
        from keras.src.backend.common import global_state
    except ImportError:
        return None
    arch = models.get(cfg.architecture)
    # leave no trace: layer names ("dense_1"), Python's random state (Keras draws default seeds from it) and
    # Keras's list of variables to initialise are put back as they were
    names = copy.copy(global_state.get_global_attribute("object_name_uids", None))
    random_state = random.getstate()
    try:
        with keras.StatelessScope(initialize_variables=False):
            pending = list(global_state.get_global_attribute("uninitialized_variables", None) or [])
            try:
                g, d = arch.build_generator(cfg), arch.build_discriminator(cfg)
                return _sizes(g), _sizes(d)
            finally:
                # forget our deferred variables, or the next model built anywhere in this thread allocates them
                global_state.set_global_attribute("uninitialized_variables", pending)
                global_state.set_global_attribute("object_name_uids", names)
                random.setstate(random_state)
    except ConfigError:
        raise
    except Exception:  # noqa: BLE001 - an estimate that cannot be made must never stop a run
        return None


def _sizes(model) -> tuple[int, int]:
    parameters = sum(math.prod(v.shape) for v in model.weights)
    activations = 0
    for layer in model.layers:
        outputs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        activations += sum(math.prod(d or 1 for d in t.shape[1:]) for t in outputs)
    return int(parameters), int(activations)


def available_memory() -> Memory:
    return Memory(host=_host_free(), gpu=_gpu_free() if devices.gpu_capabilities() else None)


def _host_free() -> int | None:
    """MemAvailable, or less where a cgroup (a container's memory limit) allows less."""
    free = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            if limit != "max" and int(limit) < 2**60:
                room = int(limit) - int(Path(usage_file).read_text().strip())
                free = room if free is None else min(free, room)
        except (OSError, ValueError):
            continue
    return free


def _gpu_free() -> int | None:
    """Free memory of the first visible GPU from nvidia-smi (TensorFlow reports no total); None if it cannot say."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    try:
        out = subprocess.run([smi, "--query-gpu=memory.free", "--format=csv,noheader,nounits",
                              *([f"--id={visible}"] if visible else [])],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        return int(out.split()[0]) * 1024**2
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def _gib(n: int) -> str:
    return f"{n / GIB:,.1f} GiB" if n >= GIB / 10 else f"{n / 1024**2:,.0f} MiB"

