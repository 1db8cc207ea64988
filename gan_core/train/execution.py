"""How a task's GAN step runs, apart from what it computes: the part of training a learner can skip.

The tasks' steps (:func:`.latent_gan.simultaneous_step` / :func:`.latent_gan.alternating_step`, the steps of
:func:`.pix2pix_step.make_train_step` and :func:`.cyclegan_step.make_train_step`) say what one step computes; the loop
(:meth:`.loop.Trainer.compile_steps`) runs them through this module:

- :func:`compile_steps`: n steps in one compiled call (``steps_per_call``), each on every replica of the
  tf.distribute strategy, the step XLA-compiled where ``jit_compile`` resolves to on, and each metric summed over
  replicas (:func:`replica_share` makes that sum a mean);
- :func:`latent_draws`: a step's random numbers, keyed by (seed, global step, replica) and made outside XLA (whose
  generators give other numbers for the same key), with a multi-worker run's rows sliced from one global draw;
- :func:`replica_mean`: a replica's per-example losses as its share of the global batch's mean;
- :func:`gradients` / :func:`update`: one network's update, with float16's loss scaling;
- :func:`every`: an update on every k-th step only (``d_steps``), as a ``tf.cond`` inside the compiled step.

EMA's update (:mod:`gan_core.algorithm.ema`) is the trainer's, right after its step.
"""
from __future__ import annotations

from typing import Any, Callable

import tensorflow as tf

Progress = Callable[[dict[str, Any]], None]  # what the loop reports each record to (the CLI's printer, a test)
fold = tf.random.experimental.stateless_fold_in  # a key -> independent draws: fold(key, i)


# --- compiled calls of n steps -----------------------------------------------------------------------------------

def compile_steps(strategy, one_step: Callable, keys: tuple[str, ...], draw: Callable | None = None,
                  jit: bool = False) -> Callable:
    """`train_steps(iterator, n, first_step)`: n calls of `one_step(batch, step, *draw(batch, step))` on each
    replica in one compiled call, returning each metric of `keys` as a length-n vector summed over replicas.
    `one_step` is XLA-compiled when `jit`; `draw`, never, so XLA or not trains on the same random numbers."""
    compiled = tf.function(one_step, jit_compile=True) if jit else one_step

    def replica_step(batch, step):
        return compiled(batch, step, *(draw(batch, step) if draw else ()))

    def total(value):
        return tf.cast(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None), tf.float32)

    @tf.function
    def train_steps(iterator, n, first_step):
        per_step = {k: tf.TensorArray(tf.float32, size=n) for k in keys}
        for j in tf.range(n):
            out = strategy.run(replica_step, args=(next(iterator), first_step + tf.cast(j, tf.int64)))
            per_step = {k: values.write(j, total(out[k])) for k, values in per_step.items()}
        return {k: values.stack() for k, values in per_step.items()}

    return train_steps


# --- a replica's share of the global batch -------------------------------------------------------------------------

def replica_mean(global_batch: int) -> Callable:
    """`mean(per_example)`: this replica's share of the global batch's mean, so the replicas' gradients sum to the
    gradient of the whole batch's mean (on one device, the plain mean)."""
    def mean(per_example):
        return tf.nn.compute_average_loss(tf.reshape(per_example, [-1]), global_batch_size=global_batch)

    return mean


def replica_share(n, global_batch: int):
    """n / global batch: a replica's metric times this sums over replicas to the global batch's mean."""
    return tf.cast(n, tf.float32) / global_batch


# --- keyed random numbers (outside XLA) -----------------------------------------------------------------------------

def step_key(seed: int, step, replica: Any = None):
    """The key of a step's draws: stateless, from (seed, global step, replica), so the same numbers for a step
    however the steps are grouped into calls, XLA or not, and after a resume."""
    if replica is None:
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
    return fold(tf.stack([tf.constant(seed, tf.int64), step]), replica)


def latent_draws(seed: int, noise: str, noise_dim: int, num_classes: int, global_batch: int,
                 multiworker: bool) -> Callable:
    """`draw(batch, step) -> (key, z, classes)`: a latent GAN step's random numbers. z is `noise` ("uniform" or
    normal); classes (one-hot, uniform, from fold(key, 1)) only for a conditional run, else None; the key is what
    the step folds further numbers from (DiffAugment, the gradient penalty)."""
    def latents(n, key):
        if noise == "uniform":
            return tf.random.stateless_uniform([n, noise_dim], seed=key)
        return tf.random.stateless_normal([n, noise_dim], seed=key)

    def classes(n, key):
        drawn = tf.random.stateless_uniform([n], seed=fold(key, 1), minval=0, maxval=num_classes, dtype=tf.int32)
        return tf.one_hot(drawn, num_classes)

    def draw(batch, step):
        n = tf.shape(batch[0] if num_classes else batch)[0]
        key = step_key(seed, step)
        if not multiworker:
            return key, latents(n, key), classes(n, key) if num_classes else None
        # several workers: this replica's rows of what one process draws for the global batch (its key is replica
        # 0's), so N workers train on the same numbers as one process
        whole = step_key(seed, step, replica=0)
        rows = tf.range(n) + tf.distribute.get_replica_context().replica_id_in_sync_group * n
        return (key, tf.gather(latents(global_batch, whole), rows),
                tf.gather(classes(global_batch, whole), rows) if num_classes else None)

    return draw


# --- updates -------------------------------------------------------------------------------------------------------

def gradients(tape: tf.GradientTape, opt, loss, variables) -> list:
    """d loss / d variables from `tape`, scaled for float16: the gradient starts at the optimizer's loss scale, as
    if the loss had been multiplied by it (a LossScaleOptimizer's apply_gradients divides it back out; x1 for the
    other optimizers), so the step's own code never sees the scale."""
    return tape.gradient(loss, variables, output_gradients=opt.scale_loss(tf.ones_like(loss)))


def update(tape: tf.GradientTape, opt, loss, variables) -> None:
    """One optimizer step of `variables` on `loss` recorded by `tape`."""
    opt.apply_gradients(zip(gradients(tape, opt, loss, variables), variables))


def every(k: int, step, apply: Callable[[], Any]) -> None:
    """`apply()` on every k-th step only (the last of each k), in the compiled graph; each step when k is 1."""
    if k == 1:
        apply()
        return

    def applied():
        apply()
        return tf.constant(True)

    tf.cond(tf.equal(step % k, k - 1), applied, lambda: tf.constant(False))
