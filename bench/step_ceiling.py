"""What the TF DCGAN tutorial's step can reach on this CPU with its arithmetic fixed: the same step with parts of it
removed.

    python bench/step_ceiling.py [--preset mnist_dcgan] [--rounds 5] [--steps 20]

One process, the preset's networks (gan_core's builders; for mnist_dcgan the tutorial's own sizes) in the TF DCGAN
tutorial's two-tape step, losses and Adam (the preset's rates), on one fixed batch of random images (no data pipeline),
as variants alternated round by round (A B C D A B C D ...):

  float32            the tutorial loop as written (keras.layers.BatchNormalization)
  bf16, Keras's BN   gan_core's default precision on a CPU with bfloat16 units, with Keras's BatchNormalization
  bf16, fused BN     the same with gan_core's (gan_core.models.batchnorm: one fused kernel, the same arithmetic)
  bf16, no dropout   the last, its Dropout layers replaced by identities: what the masks cost
  bf16, convs only   Dropout, BatchNormalization and activation layers replaced by identities: the convolutions,
                     dense layers, losses and Adam alone

Removing a part changes the training, so only the first three are trainers; the others bound what a change that keeps
the step's arithmetic can reach (the "convs only" figure is a ceiling: little else is left to make faster). Prints
each variant's median images/s over the rounds and its ratio to float32's, round by round.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import keras
import tensorflow as tf
from keras import layers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tutorial_baseline import with_keras_batchnorm  # noqa: E402  (bench/tutorial_baseline.py, beside this script)

VARIANTS = {  # name: (precision, Keras's own BatchNorm instead of the builders' fused one, layers made identities)
    "float32": ("float32", True, ()),
    "bf16, Keras's BN": ("mixed_bfloat16", True, ()),
    "bf16, fused BN": ("mixed_bfloat16", False, ()),
    "bf16, no dropout": ("mixed_bfloat16", False, (layers.Dropout,)),
    "bf16, convs only": ("mixed_bfloat16", False, (layers.Dropout, layers.BatchNormalization, layers.LeakyReLU,
                                                   layers.ReLU, layers.Activation)),
}


class Skipped(layers.Layer):
    """A removed layer: passes its input through (and takes whatever arguments the removed one took)."""

    def call(self, x, training=None, mask=None):
        return x


def without(model: keras.Model, removed: tuple[type, ...]) -> keras.Model:
    """`model` rebuilt (fresh weights) with every layer of the `removed` types replaced by an identity."""
    if not removed:
        return model
    return keras.models.clone_model(model, clone_function=lambda layer: Skipped() if isinstance(layer, removed)
                                    else type(layer).from_config(layer.get_config()))


def make_step(cfg, precision: str, keras_batchnorm: bool, removed: tuple[type, ...]):
    from gan_core import models

    def network(built: keras.Model) -> keras.Model:
        return without(with_keras_batchnorm(built) if keras_batchnorm else built, removed)

    keras.mixed_precision.set_global_policy(precision)
    try:
        g = network(models.get(cfg.architecture).build_generator(cfg))
        d = network(models.build_discriminator(cfg))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    g_opt = keras.optimizers.Adam(cfg.g_lr, beta_1=cfg.beta_1)
    d_opt = keras.optimizers.Adam(cfg.d_lr, beta_1=cfg.beta_1)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(images):
        noise = tf.random.normal([cfg.batch_size, cfg.noise_dim])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = tf.cast(g(noise, training=True), tf.float32)
            real_out = tf.cast(d(images, training=True), tf.float32)
            fake_out = tf.cast(d(fake, training=True), tf.float32)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
        return d_loss

    return step


def main() -> None:
    from gan_core import config as config_lib

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="mnist_dcgan")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per variant and round")
    args = ap.parse_args()
    cfg = config_lib.from_preset(args.preset, {"precision": "float32", "data": "unused"})  # no data read
    images = tf.random.uniform([cfg.batch_size, cfg.image_size, cfg.image_size, cfg.channels], -1.0, 1.0)
    steps = {name: make_step(cfg, *how) for name, how in VARIANTS.items()}
    for step in steps.values():  # trace and warm up every variant before timing any
        for _ in range(3):
            step(images).numpy()
    rates: dict[str, list[float]] = {name: [] for name in steps}
    print(f"{args.preset}: batch {cfg.batch_size}, {args.steps} steps per variant and round", flush=True)
    for r in range(args.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                loss = step(images)
            loss.numpy()
            rates[name].append(args.steps * cfg.batch_size / (time.perf_counter() - start))
        print(f"round {r + 1}: " + ", ".join(f"{name} {v[-1]:.1f}" for name, v in rates.items()) + " img/s",
              flush=True)
    base = statistics.median(rates["float32"])
    for name, v in rates.items():
        ratios = [x / b for x, b in zip(v, rates["float32"])]
        print(f"{name:18s} median {statistics.median(v):7.1f} img/s  ratio to float32 per round min / median / "
              f"max {min(ratios):.2f} / {statistics.median(ratios):.2f} / {max(ratios):.2f}x "
              f"(of the medians {statistics.median(v) / base:.2f}x)")


if __name__ == "__main__":
    main()
