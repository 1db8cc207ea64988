"""GPU memory and placement for the two TensorFlow processes that share a GPU: the app and the trainer it spawns.

Left alone, TensorFlow maps nearly all of a GPU's memory in the first process that touches it, so whichever of the
app (Latent space, Export, Snapshots, metrics) and its trainer starts second fails to allocate. Both therefore grow
their memory on demand (or take a fixed share), and the app can be kept off the GPU altogether while a run trains
there. TensorFlow accepts these settings only before it first initialises its GPUs; made later they are refused,
and :func:`configure` says so in its notes instead of failing.

Environment (read by both processes; the trainer inherits the app's):
  GAN_EXPLORER_GPU_MEMORY  "grow" (default): allocate as needed; a number: that many MiB per GPU for this process.
  GAN_EXPLORER_APP_DEVICE  "auto" (default): the app's generators use a GPU when TensorFlow sees one; "cpu": the app
                           hides its GPUs from itself (never the trainer's), so it cannot compete with training.
"""
from __future__ import annotations

import os
import re
from typing import Any, Mapping

from ..errors import ConfigError

MEMORY_ENV = "GAN_EXPLORER_GPU_MEMORY"
APP_DEVICE_ENV = "GAN_EXPLORER_APP_DEVICE"
APP_DEVICES = ("auto", "cpu")
TRAIN_DEVICE = re.compile(r"auto|cpu|gpu:\d{1,3}")  # a run's `device`: TensorFlow's choice, the CPU, or one GPU
NO_GPU = "no GPU visible to TensorFlow: nothing to configure"  # configure's only note where there is nothing to do
_configured: dict[str, list[str]] = {}  # role -> notes: a process configures its GPUs once


def memory_setting(env: Mapping[str, str] | None = None) -> str | int:
    """"grow", or a per-GPU limit in MiB, from GAN_EXPLORER_GPU_MEMORY (ConfigError naming the fix if neither)."""
    text = (os.environ if env is None else env).get(MEMORY_ENV, "grow").strip().lower()
    if text in ("", "grow"):
        return "grow"
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise ConfigError(f"{MEMORY_ENV}={text!r} is neither 'grow' nor a number of MiB; set it to grow or e.g. 4096")


def app_device(env: Mapping[str, str] | None = None) -> str:
    """Where the app runs its generators: "auto" (a GPU if seen) or "cpu", from GAN_EXPLORER_APP_DEVICE."""
    text = (os.environ if env is None else env).get(APP_DEVICE_ENV, "auto").strip().lower() or "auto"
    if text not in APP_DEVICES:
        raise ConfigError(f"{APP_DEVICE_ENV}={text!r} is not one of {', '.join(APP_DEVICES)}; set it to cpu to keep "
                          "the app off the GPU, or leave it unset")
    return text


def configure(role: str, env: Mapping[str, str] | None = None, tf: Any = None) -> list[str]:
    """Set this process's GPU memory (and, for role "app" with GAN_EXPLORER_APP_DEVICE=cpu, hide its GPUs) before
    TensorFlow's first op. Returns what was done, in words; idempotent per process and role. `tf` is for tests."""
    if role not in ("app", "trainer"):
        raise ValueError(f"role must be app or trainer, not {role!r}")
    if role in _configured and tf is None:
        return _configured[role]
    if tf is None:
        import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        notes = [NO_GPU]
    elif role == "app" and app_device(env) == "cpu":
        try:
            tf.config.set_visible_devices([], "GPU")
            notes = [f"{APP_DEVICE_ENV}=cpu: the app runs its generators on the CPU, leaving {len(gpus)} GPU(s) "
                     "to training"]
        except RuntimeError as exc:  # TensorFlow already initialised its GPUs in this process
            notes = [f"{APP_DEVICE_ENV}=cpu came too late (TensorFlow's GPUs are initialised): {exc}"]
    else:
        setting, notes = memory_setting(env), []
        for gpu in gpus:
            try:
                if setting == "grow":
                    tf.config.experimental.set_memory_growth(gpu, True)
                else:
                    tf.config.set_logical_device_configuration(
                        gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=setting)])
            except RuntimeError as exc:
                notes.append(f"{gpu.name}: memory setting refused (TensorFlow's GPUs are initialised): {exc}")
        what = "grows its memory on demand" if setting == "grow" else f"takes at most {setting} MiB"
        notes.insert(0, f"the {role} {what} on {len(gpus)} GPU(s) ({MEMORY_ENV})")
    _configured[role] = notes
    return notes


def check_train_device(device: str) -> str:
    """A run's `device` as given, if it is auto, cpu or gpu:N (ConfigError naming the choices if not)."""
    if not isinstance(device, str) or not TRAIN_DEVICE.fullmatch(device):
        raise ConfigError(f"device must be auto (TensorFlow's choice: its first GPU, else the CPU), cpu, or gpu:N "
                          f"for one GPU (gpu:0 is the first); got {device!r}")
    return device


def train_device_choices(tf: Any = None) -> list[str]:
    """The `device` values this machine can train on: auto, cpu, and gpu:N for each GPU TensorFlow sees."""
    if tf is None:
        import tensorflow as tf
    return ["auto", "cpu", *(f"gpu:{i}" for i in range(len(tf.config.list_physical_devices("GPU"))))]


def place_trainer(device: str, tf: Any = None) -> str | None:
    """Restrict the trainer's process to `device` before TensorFlow's first op: "cpu" hides every GPU, "gpu:N"
    all but the N-th (so a mirrored strategy, too, trains there alone); "auto" leaves TensorFlow's placement.
    Returns what was done in words, or None for "auto". A GPU that is not there is a ConfigError."""
    check_train_device(device)
    if device == "auto":
        return None
    if tf is None:
        import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    if device == "cpu":
        if gpus:
            tf.config.set_visible_devices([], "GPU")
        return f"device cpu: training on the CPU{f' ({len(gpus)} GPU(s) left unused)' if gpus else ''}"
    index = check_device_seen(device, tf)
    tf.config.set_visible_devices([gpus[index]], "GPU")
    return f"device {device}: training on {gpus[index].name} alone"


def check_device_seen(device: str, tf: Any = None) -> int | None:
    """ConfigError for a `device` gpu:N that TensorFlow does not see on this machine; its index N if it does (None
    for auto and cpu). Only lists the GPUs, which initialises none of them: a trainer may still place itself after
    this (so preflight asks it before a run folder exists)."""
    check_train_device(device)
    if not device.startswith("gpu:"):
        return None
    if tf is None:
        import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    index = int(device.split(":")[1])
    if index >= len(gpus):
        seen = f"GPUs 0-{len(gpus) - 1}" if gpus else "no GPU"
        raise ConfigError(f"device {device}: TensorFlow sees {seen} on this machine; pick one of those, cpu or auto")
    return index


def trainer_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a trainer the app spawns: the app's, plus TensorFlow's own allow-growth switch where
    memory is "grow" (it acts even before our code runs, e.g. in a library's import-time op). The app's
    GAN_EXPLORER_APP_DEVICE is the app's alone: the trainer never reads it."""
    out = dict(os.environ if env is None else env)
    if memory_setting(out) == "grow":
        out.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return out
