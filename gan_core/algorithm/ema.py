"""An exponential moving average of the generator's weights, kept during training.

A GAN's generator oscillates around a good solution from step to step; the average of its recent weights sits
nearer the middle, with fewer colour blotches and smears (Yazıcı et al. 2019, "The Unusual Effectiveness of
Averaging in GAN Training"; Karras et al.'s Progressive GAN and StyleGAN ship the averaged generator). The average
lives in a second model of the same architecture (a clone of G), so it is what gets saved as
``generators/epoch_NNNN.keras``, what draws the snapshot grids and what is scored; the raw G keeps training.

After optimizer step t (0-based), with decay d_t::

    ema <- d_t * ema + (1 - d_t) * G

- d_t = 0 (a plain copy) while t < ``start_step``: the average starts from trained weights, not the initial noise;
- d_t = ``decay`` afterwards, or with ``rampup`` > 0 (StyleGAN2's ``ema_rampup``) the average's half-life is at
  most ``rampup`` x (t + 1) steps, so a short run is not dominated by its first weights:
  d_t = min(decay, 0.5 ** (1 / (rampup * (t + 1)))).

Every variable of G is averaged, BatchNorm's moving statistics included: to first order a layer's mean output is
linear in its weights, so the averaged statistics match the averaged weights (copying the raw G's statistics would
pair them with weights they were not measured on).

Under tf.distribute the update runs in the replica step and is applied in cross-replica context with
``strategy.extended.update`` (as Keras's optimizers apply theirs), so every replica's copy stays identical.
"""
from __future__ import annotations

import math
from typing import Any


def decay_at(step: int, decay: float, start_step: int = 0, rampup: float = 0.0) -> float:
    """d_t of the module docstring, in plain Python: the reference the compiled update is tested against."""
    if step < start_step:
        return 0.0
    if rampup > 0:
        return min(decay, 0.5 ** (1.0 / (rampup * (step + 1))))
    return decay


class WeightAverage:
    """The moving average of `source`'s weights, held in `shadow` (a model of the same architecture)."""

    def __init__(self, source: Any, shadow: Any, decay: float, start_step: int = 0, rampup: float = 0.0):
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1); got {decay}")
        if [tuple(v.shape) for v in source.weights] != [tuple(v.shape) for v in shadow.weights]:
            raise ValueError("the shadow model must have the source model's architecture")
        self.source, self.shadow = source, shadow
        self.decay, self.start_step, self.rampup = float(decay), int(start_step), float(rampup)
        self.copy_from_source()

    def copy_from_source(self) -> None:
        """shadow <- source (eagerly, outside any step): the start, and the fallback for a checkpoint without it."""
        for ema, value in zip(self.shadow.weights, self.source.weights):
            ema.assign(value)

    def decay_tensor(self, step):
        """d_t for an int64 step tensor, inside the compiled step."""
        import tensorflow as tf

        t = tf.cast(step, tf.float64)
        d = tf.constant(self.decay, tf.float64)
        if self.rampup > 0:
            d = tf.minimum(d, tf.pow(tf.constant(0.5, tf.float64), 1.0 / (self.rampup * (t + 1.0))))
        return tf.cast(tf.where(step < self.start_step, tf.constant(0.0, tf.float64), d), tf.float32)

    def update(self, step) -> None:
        """One averaging step after optimizer step `step` (call it in the replica step, after G's update)."""
        import tensorflow as tf

        decay = self.decay_tensor(step)
        values = [tf.identity(v) for v in self.source.weights]  # this replica's copy, read after the update

        def apply(strategy, decay, values):
            for ema, value in zip(self.shadow.weights, values):
                strategy.extended.update(_tf_variable(ema), _blend, args=(value, decay), group=False)

        context = tf.distribute.get_replica_context()
        if context is None:  # called in cross-replica context (outside strategy.run)
            apply(tf.distribute.get_strategy(), decay, values)
        else:
            context.merge_call(apply, args=(decay, values))


def _blend(ema, value, decay):
    import tensorflow as tf

    decay = tf.cast(decay, ema.dtype)
    return ema.assign(decay * ema + (1 - decay) * tf.cast(value, ema.dtype))


def _tf_variable(variable):
    """The tf.Variable (a distributed one under a strategy) behind a Keras 3 variable, which
    `strategy.extended.update` needs."""
    import keras

    return variable.value if isinstance(variable, keras.Variable) else variable


def half_life_steps(decay: float) -> float:
    """How many steps until a weight's share in the average halves: ln 0.5 / ln decay (for the log line)."""
    return math.log(0.5) / math.log(decay)
