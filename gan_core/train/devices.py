"""Where training runs: the tf.distribute strategy a config asks for, and the devices in words for status.json."""
from __future__ import annotations

import os
from typing import Any, Callable

Progress = Callable[[dict[str, Any]], None]


def make_strategy(name: str):
    import tensorflow as tf

    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    return tf.distribute.get_strategy()


def describe_devices() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        return f"{len(gpus)} GPU: " + ", ".join(names)
    return f"CPU ({os.cpu_count()} cores)"
