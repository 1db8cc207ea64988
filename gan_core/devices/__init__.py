"""Where the work runs and how fast: every TensorFlow device question in one place, asked before TensorFlow's first op.

``precision`` resolves precision "auto" and jit_compile "auto" for this machine's hardware and sets TensorFlow's
thread pools; ``placement`` shares a GPU between the app and the trainer it spawns (memory growth or a fixed share,
the app kept on the CPU) and places a trainer on the `device` its config names; ``cluster`` makes the
tf.distribute strategy a config asks for, reads a `multiworker` run's cluster from TF_CONFIG, and describes the
devices in words. Nothing here imports TensorFlow at import time.
"""
from .cluster import (
                      MULTIWORKER,
                      Worker,
                      check_own_port,
                      cluster_worker,
                      describe_devices,
                      interruptible,
                      make_strategy,
                      multiworker_strategy,
)
from .placement import (
                        NO_GPU,
                        check_device_seen,
                        check_train_device,
                        configure,
                        place_trainer,
                        train_device_choices,
                        trainer_env,
)
from .precision import apply_threads, gpu_capabilities, resolve_config, resolve_jit, resolve_precision

__all__ = ["MULTIWORKER", "NO_GPU", "Worker", "apply_threads", "check_device_seen", "check_own_port",
           "check_train_device", "cluster_worker", "configure", "describe_devices", "gpu_capabilities",
           "interruptible", "make_strategy", "multiworker_strategy", "place_trainer", "resolve_config", "resolve_jit",
           "resolve_precision", "train_device_choices", "trainer_env"]
