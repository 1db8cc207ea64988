"""Reading a run's latest checkpoint in tests: one reader, shared by the tests that compare trainings weight by
weight (steps_per_call, XLA, precision, recipes)."""
from __future__ import annotations

import numpy as np

from gan_core import config, runs, tasks


def checkpoint_tensors(run: runs.RunDir) -> dict[str, np.ndarray]:
    """Every tensor of the latest checkpoint but its save counter and object graph."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(run.latest_checkpoint()))
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if "save_counter" not in k and k != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def network_weights(run: runs.RunDir) -> dict[str, np.ndarray]:
    """The networks' variables: the trainable ones sit under the optimizer that tracks them
    (`g_opt/_trainable_variables/N`, the same path under a LossScaleOptimizer), BatchNorm's statistics under their
    network; the optimizers' slots, step counters and loss scales are left out."""
    return {k: v for k, v in checkpoint_tensors(run).items() if "/_trainable_variables/" in k or "/moving_" in k}


def initial_weights(root, cfg: config.TrainConfig) -> dict[str, np.ndarray]:
    """network_weights that every run of `cfg` starts from (the trainer seeds its build): built, checkpointed in a
    run of its own under `root`, read."""
    run = runs.create_run(root / "initial", cfg)
    trainer = tasks.of_run(run).trainer(run.config(), run)
    trainer.build()
    trainer.checkpoint()
    return network_weights(run)


def update_difference(initial: dict, a: dict, b: dict) -> float:
    """||update b - update a|| / ||update a|| over every network variable (trained minus initial)."""
    keys = sorted(initial)
    da = np.concatenate([(a[k] - initial[k]).ravel() for k in keys])
    db = np.concatenate([(b[k] - initial[k]).ravel() for k in keys])
    return float(np.linalg.norm(db - da) / np.linalg.norm(da))
