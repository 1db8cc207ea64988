"""What the workers of a `multiworker` run agree on, through the strategy's own collectives (tf.distribute's
all-reduce; no channel of our own): worker 0, the chief, sends the run's config, where it resumes and its weights;
every worker learns whether any of them was asked to stop, so all stop at the same step.

Each function here is a collective: every worker must call it at the same point, in the same order, or the others
wait for it. The chief's value reaches the others as a sum in which every other replica adds zeros, which is
exact for any number or byte.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import numpy as np


def from_chief(strategy, values: Iterable[float] | np.ndarray) -> np.ndarray:
    """The chief's `values` (float64) on every worker; the others pass anything of the same shape."""
    import tensorflow as tf

    local = tf.constant(np.asarray(values, np.float64))

    def pick():
        first = tf.equal(tf.distribute.get_replica_context().replica_id_in_sync_group, 0)
        return tf.where(first, local, tf.zeros_like(local))

    total = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(pick), axis=None)
    return np.asarray(total.numpy(), np.float64)


def anyone(strategy, flag: bool) -> bool:
    """True on every worker when `flag` is true on at least one of them."""
    import tensorflow as tf

    local = tf.constant(1.0 if flag else 0.0, tf.float64)
    total = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.identity(local)), axis=None)
    return float(total.numpy()) > 0


def send_json(strategy, message: Any) -> Any:
    """The chief's `message` (any JSON value) on every worker: its length first, then its bytes."""
    data = json.dumps(message, sort_keys=True).encode() if message is not None else b""
    size = int(from_chief(strategy, [len(data)])[0])
    padded = np.zeros(size, np.float64)
    padded[:min(size, len(data))] = np.frombuffer(data, np.uint8)[:size]
    return json.loads(from_chief(strategy, padded).astype(np.uint8).tobytes().decode())


def share_weights(strategy, variables: list[Any]) -> None:
    """Every worker's copies of `variables` (Keras or tf variables, created in the strategy's scope) set to the
    chief's values: after the chief alone read a checkpoint, all workers train on from the same weights."""
    import tensorflow as tf

    if not variables:
        return
    handles = [getattr(v, "value", v) for v in variables]

    @tf.function
    def chiefs():
        def pick():
            context = tf.distribute.get_replica_context()
            first = tf.equal(context.replica_id_in_sync_group, 0)
            return [context.all_reduce(tf.distribute.ReduceOp.SUM, tf.where(first, h, tf.zeros_like(h)))
                    for h in handles]

        return strategy.run(pick)

    for variable, value in zip(variables, chiefs()):
        variable.assign(strategy.experimental_local_results(value)[0])


def variables_of(objects: Iterable[Any]) -> list[Any]:
    """Every variable of the checkpointed objects (models, optimizers), each once, in a fixed order."""
    seen, found = set(), []
    for obj in objects:
        for variable in getattr(obj, "variables", []):
            if id(variable) not in seen:
                seen.add(id(variable))
                found.append(variable)
    return found
