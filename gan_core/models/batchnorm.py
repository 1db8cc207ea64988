"""BatchNormalization whose training pass is one fused kernel: Keras's layer, the same arithmetic, fewer passes.

Keras 3's BatchNormalization trains through separate ops (moments as Mean, SquaredDifference and Mean; then the
normalisation as Mul, Sub, Add), each a pass over the activations, and as many again for the gradient. On a CPU
these passes over G's wide activations cost more than the convolutions beside them (faces_rgb64's 64x64x256
layers: bench/README.md). TensorFlow's FusedBatchNormV3 (oneDNN's kernel on x86) computes the same statistics and
output, y = gamma * (x - mean) / sqrt(var + epsilon) + beta over the batch and spatial axes, in float32 whatever the
input's dtype, in one pass forward and one backward: what tf.keras 2's layer did by default (``fused=None`` chose
this kernel for 4-d inputs; the reference notes were written against it), which Keras 3 dropped. On the CPU the
kernel reads bfloat16 activations itself; with a GPU present they are cast to float32 first, as Keras's layer
does, since not every GPU build registers bfloat16.

Everything else is Keras's: the variables and their names, the config, the moving averages (updated with the
batch's biased variance, as Keras does: the kernel returns Bessel's n / (n - 1) times it, which is undone),
inference, and every case the kernel does not cover (a mask, renorm, synchronized statistics, an axis other than
the last, 3-d inputs, another backend), which falls back to Keras's own call. The layer is a registered Keras
serializable under Keras's class name, so a saved model names it ``gan_core>BatchNormalization`` and loads (safe
mode included) wherever this package is imported; its weights are a BatchNormalization's.
"""
from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="gan_core")
class BatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization, trained through tf.raw_ops.FusedBatchNormV3 where it applies."""

    def _fused_applies(self, inputs, mask) -> bool:
        rank = len(inputs.shape)
        return (keras.backend.backend() == "tensorflow" and mask is None and not self.renorm
                and not self.synchronized and rank in (2, 4) and self.axis in (-1, rank - 1)
                and inputs.dtype in ("float32", "bfloat16"))

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or not self._fused_applies(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = tf.convert_to_tensor(inputs)
        if x.dtype == tf.bfloat16 and tf.config.list_logical_devices("GPU"):
            x = tf.cast(x, tf.float32)  # the CPU kernel (oneDNN's) reads bfloat16 itself; not every GPU build does
        channels = x.shape[-1]
        flat = len(x.shape) == 2
        if flat:  # (batch, features): features are the channels of a 1x1 image
            x = tf.reshape(x, [-1, 1, 1, channels])
        ones, zeros = tf.ones([channels], tf.float32), tf.zeros([channels], tf.float32)
        gamma = tf.cast(self.gamma, tf.float32) if self.scale else ones
        beta = tf.cast(self.beta, tf.float32) if self.center else zeros
        empty = tf.constant([], tf.float32)
        y, mean, unbiased, _, _, _ = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=gamma, offset=beta, mean=empty, variance=empty, epsilon=self.epsilon,
            exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
        n = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
        variance = tf.where(n > 1, unbiased * (n - 1) / n, zeros)  # the batch's own (biased) variance
        momentum = self.momentum
        self.moving_mean.assign(tf.cast(self.moving_mean, tf.float32) * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(tf.cast(self.moving_variance, tf.float32) * momentum
                                    + variance * (1.0 - momentum))
        if flat:
            y = tf.reshape(y, [-1, channels])
        return tf.cast(y, self.compute_dtype)
