"""Where training runs: the tf.distribute strategy a config asks for, the cluster a `multiworker` run is part of
(TF_CONFIG, read here and nowhere else), and the devices in words for status.json."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from ..errors import ClusterError

MULTIWORKER = "multiworker"
TF_CONFIG_ENV = "TF_CONFIG"
EXAMPLE_TF_CONFIG = '{"cluster": {"worker": ["host0:12345", "host1:12345"]}, "task": {"type": "worker", "index": 0}}'
_FIX = (f"set it on every machine to the same worker list and that machine's own index, e.g. "
        f"TF_CONFIG='{EXAMPLE_TF_CONFIG}' on the chief and index 1, 2, ... on the others (README: Several machines)")
_multiworker: Any = None  # a process makes its MultiWorkerMirroredStrategy once, before its first TensorFlow op


@dataclass(frozen=True)
class Worker:
    """This process's place in a multiworker cluster: worker `index` of the `addresses` (worker 0 is the chief)."""
    index: int
    addresses: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.addresses)

    @property
    def chief(self) -> bool:
        return self.index == 0

    def describe(self) -> str:
        return f"worker {self.index} of {self.count}" + (" (the chief)" if self.chief else "")


def cluster_worker(env: Mapping[str, str] | None = None) -> Worker:
    """Where TF_CONFIG puts this process; ClusterError naming the fix when it is missing or malformed. Only the
    "worker" job is used (worker 0 is the chief, as tf.distribute makes it when there is no "chief" job)."""
    text = (os.environ if env is None else env).get(TF_CONFIG_ENV, "").strip()
    if not text:
        raise ClusterError(f"strategy multiworker needs {TF_CONFIG_ENV} in each worker's environment: {_FIX}")
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClusterError(f"{TF_CONFIG_ENV} is not JSON ({exc.msg} at character {exc.pos} of {text[:80]!r}); "
                           f"{_FIX}") from None
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    if not isinstance(cluster, dict) or not isinstance(cluster.get("worker"), list) or not cluster["worker"]:
        raise ClusterError(f"{TF_CONFIG_ENV} has no cluster.worker list of host:port addresses; {_FIX}")
    others = sorted(str(job) for job in cluster if job != "worker")
    if others:
        raise ClusterError(f"{TF_CONFIG_ENV} names the job(s) {', '.join(others)}: here every machine is a "
                           "'worker' and worker 0 is the chief, so list them all, chief first, under cluster.worker")
    addresses = cluster["worker"]
    for i, address in enumerate(addresses):
        host, sep, port = address.rpartition(":") if isinstance(address, str) else ("", "", "")
        if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
            raise ClusterError(f"{TF_CONFIG_ENV} cluster.worker[{i}] is {address!r}, not host:port (e.g. "
                               "10.0.0.2:12345, a port that machine can open)")
    if len(set(addresses)) != len(addresses):
        raise ClusterError(f"{TF_CONFIG_ENV} lists an address twice in cluster.worker ({', '.join(addresses)}): "
                           "give each worker its own host:port")
    task = spec.get("task")
    if not isinstance(task, dict) or task.get("type") != "worker":
        raise ClusterError(f"{TF_CONFIG_ENV} needs task.type \"worker\" and task.index (this machine's place in "
                           f"cluster.worker); got task {json.dumps(task)}")
    index = task.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(addresses):
        raise ClusterError(f"{TF_CONFIG_ENV} task.index is {json.dumps(index)}, but cluster.worker lists "
                           f"{len(addresses)} worker(s): give each machine its own index 0..{len(addresses) - 1} "
                           "(0 on the chief)")
    return Worker(index, tuple(addresses))


def check_own_port(worker: Worker) -> None:
    """ClusterError, before a run folder is made, when this worker's port (its TF_CONFIG address) cannot be opened
    here: TensorFlow's server would fail on it later with a page of traceback, leaving a failed run behind. Binds
    every interface, as TensorFlow's server does, and lets go at once."""
    address = worker.addresses[worker.index]
    port = int(address.rpartition(":")[2])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port left in TIME_WAIT is free to reuse
        try:
            probe.bind(("", port))
        except OSError as exc:
            raise ClusterError(f"this machine cannot open port {port} for {worker.describe()} ({address} in "
                               f"{TF_CONFIG_ENV}): {exc.strerror or exc}. Another process listens there (an earlier "
                               "worker still running?): end it, or give this worker another port in cluster.worker "
                               "on every machine") from None


def make_strategy(name: str):
    import tensorflow as tf

    if name == MULTIWORKER:
        return multiworker_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    return tf.distribute.get_strategy()


def multiworker_strategy():
    """This process's tf.distribute.MultiWorkerMirroredStrategy, made on first use from TF_CONFIG (checked first).
    Collectives go over gRPC between the workers: ring all-reduce on CPUs, TensorFlow's choice (NCCL) on GPUs."""
    global _multiworker
    worker = cluster_worker()
    if _multiworker is None:
        import tensorflow as tf

        kinds = tf.distribute.experimental.CommunicationImplementation
        kind = kinds.AUTO if tf.config.list_physical_devices("GPU") else kinds.RING
        try:
            _multiworker = tf.distribute.MultiWorkerMirroredStrategy(
                communication_options=tf.distribute.experimental.CommunicationOptions(implementation=kind))
        except Exception as exc:  # noqa: BLE001 - TensorFlow's UnknownError, without importing its errors
            if "Could not start gRPC server" not in str(exc):
                raise
            # the port was taken after check_own_port looked (or by something it cannot see)
            raise ClusterError(f"TensorFlow could not open {worker.addresses[worker.index]} for "
                               f"{worker.describe()}: another process listens on that port; end it, or give this "
                               "worker another port in cluster.worker on every machine") from None
    return _multiworker


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """While a worker waits for the others to join (TensorFlow then blocks in C++, where Python's signal handlers
    never run, so the CLI's Ctrl-C handler would wait for ever too), Ctrl-C and SIGTERM end the process at once, as
    they do without a handler: nothing has been trained yet. The handlers come back as the wait ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in saved:
        signal.signal(s, signal.SIG_DFL)
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def describe_devices(worker: Worker | None = None) -> str:
    """This process's devices in words; in a multiworker run prefixed by its place ("worker 0 of 2 (the chief): ")."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        here = f"{len(gpus)} GPU: " + ", ".join(names)
    else:
        here = f"CPU ({os.cpu_count()} cores)"
    return here if worker is None else f"{worker.describe()}: {here}"
