"""Pix2Pix training (Isola et al. 2017, as in TensorFlow's pix2pix tutorial): named losses, then the step.

A conditional GAN learns a mapping input -> target from aligned pairs: the U-Net G (:mod:`gan_core.models.pix2pix`)
against a PatchGAN D that judges each patch of the (input, candidate) pair, and G's loss adds 100 x L1 to the
target, so the GAN term only has to supply the sharpness that L1 alone blurs away. Read top to bottom: optimizers
-> losses -> the train step -> the trainer that runs it in the shared loop. Pixels are in [-1, 1].
"""
from __future__ import annotations

from typing import Any, Callable

import keras
import tensorflow as tf

from .. import models
from ..data import load_pairs, make_dataset
from ..errors import ConfigError
from ..evaluation.translation_quality import pix2pix_quality, translate
from ..files import pictures
from .execution import update
from .translation_trainer import PER_ROW, TranslationTrainer

L1_WEIGHT = 100.0  # the paper's lambda
LEARNING_RATE, BETA_1 = 2e-4, 0.5  # the paper's and the tutorial's Adam


def make_optimizers(learning_rate: float = LEARNING_RATE, beta_1: float = BETA_1) -> tuple[Any, Any]:
    """(G's, D's) Adam with the paper's settings: separate optimizers, since each keeps its own moments."""
    return (keras.optimizers.Adam(learning_rate, beta_1=beta_1),
            keras.optimizers.Adam(learning_rate, beta_1=beta_1))


# --- losses ---------------------------------------------------------------------------------------------------


def _bce(label: float, logits: tf.Tensor) -> tf.Tensor:
    """Mean binary cross-entropy from logits over every patch and image (Keras's BinaryCrossentropy(from_logits))."""
    logits = tf.cast(logits, tf.float32)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(logits), label), logits))


def generator_loss(fake_logits: tf.Tensor, fake: tf.Tensor, target: tf.Tensor,
                   l1_weight: float = L1_WEIGHT) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(total, gan, l1): fool D on every patch, and stay near the target.

    ``l1`` is the weighted term, l1_weight * mean|target - fake| (the tutorial returns it unweighted), so that
    total = gan + l1 and the three curves add up.
    """
    gan = _bce(1.0, fake_logits)
    l1 = l1_weight * tf.reduce_mean(tf.abs(tf.cast(target, tf.float32) - tf.cast(fake, tf.float32)))
    return gan + l1, gan, l1


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Real pairs -> 1, generated pairs -> 0, summed (as in the tutorial; the paper halves D's loss instead)."""
    return _bce(1.0, real_logits) + _bce(0.0, fake_logits)


# --- the train step ---------------------------------------------------------------------------------------------


def _fits(generator: keras.Model, discriminator: keras.Model) -> None:
    """G's (input, output) must be what D takes, or the step would fail deep inside a traced graph."""
    g_in, g_out = tuple(generator.inputs[0].shape[1:]), tuple(generator.outputs[0].shape[1:])
    d_in = [tuple(t.shape[1:]) for t in discriminator.inputs]
    if d_in != [g_in, g_out]:
        raise ConfigError(f"the discriminator takes [input, target] of shapes {d_in}, but the generator maps "
                          f"{g_in} to {g_out}. Build both with the same image_size, in_channels and out_channels.")


METRICS = ("g_loss", "d_loss", "g_gan", "g_l1", "d_real", "d_fake")


def make_train_step(generator: keras.Model, discriminator: keras.Model, g_opt: Any, d_opt: Any,
                    l1_weight: float = L1_WEIGHT, compile: bool = True) -> Callable[[Any, Any], dict[str, tf.Tensor]]:
    """`step(inputs, targets) -> {g_loss, d_loss, g_gan, g_l1, d_real, d_fake}`: one update of G and one of D on a
    batch of pairs in [-1, 1], as the tutorial's train_step. g_loss = g_gan + g_l1 (G's total); d_real and d_fake
    are D's mean probability of "real" over the patches of real and generated pairs. ``compile=False`` returns the
    plain function, for a caller that compiles several steps into one call (the trainer)."""
    _fits(generator, discriminator)
    for opt, model in ((g_opt, generator), (d_opt, discriminator)):
        if not getattr(opt, "built", True):  # Keras 3 makes its slots lazily: make them outside the trace
            opt.build(model.trainable_variables)

    def train_step(inputs, targets):
        inputs, targets = tf.cast(inputs, tf.float32), tf.cast(targets, tf.float32)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(inputs, training=True)
            real_logits = discriminator([inputs, targets], training=True)
            fake_logits = discriminator([inputs, fake], training=True)
            g_total, g_gan, g_l1 = generator_loss(fake_logits, fake, targets, l1_weight)
            d_loss = discriminator_loss(real_logits, fake_logits)
        update(g_tape, g_opt, g_total, generator.trainable_variables)  # (with float16's loss scaling)
        update(d_tape, d_opt, d_loss, discriminator.trainable_variables)
        return {"g_loss": g_total, "d_loss": d_loss, "g_gan": g_gan, "g_l1": g_l1,
                "d_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_logits, tf.float32))),
                "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32)))}

    return tf.function(train_step) if compile else train_step


# --- the trainer --------------------------------------------------------------------------------------------------


class Pix2PixTrainer(TranslationTrainer):
    """Pix2Pix: U-Net G(input) against a PatchGAN D(input, candidate), GAN + L1 loss, on aligned pairs."""

    def build_models(self, arch: models.Architecture) -> dict[str, Any]:
        cfg = self.cfg
        self.G, self.D = arch.build_generator(cfg), models.build_discriminator(cfg)
        self.g_opt = self.make_optimizer(cfg.g_lr, self.G.trainable_variables)
        self.d_opt = self.make_optimizer(cfg.d_lr, self.D.trainable_variables)
        return dict(generator=self.G, discriminator=self.D, g_opt=self.g_opt, d_opt=self.d_opt)

    def load_data(self):
        cfg = self.cfg
        pairs = load_pairs(cfg, self.log)
        self.pairs = pairs
        self.n_images = len(pairs.inputs)
        self.steps_per_epoch = self.n_images // cfg.batch_size
        self.log(f"data: {self.n_images} {cfg.pairing} pairs from {pairs.source} (+{len(pairs.test_inputs)} held "
                 f"out), {self.steps_per_epoch} steps of {cfg.batch_size} per epoch")
        return make_dataset(pairs.inputs, cfg.batch_size, seed=cfg.seed + self.epoch, labels=pairs.targets)

    def fixed_inputs(self) -> None:
        self.examples = self.save_examples(inputs=self.pairs.test_inputs, targets=self.pairs.test_targets)

    def make_train_step(self):
        step = make_train_step(self.G, self.D, self.g_opt, self.d_opt, self.cfg.l1_weight, compile=False)

        def one_step(batch, _global_step):  # no random draws: the step is the same under XLA
            return step(*batch)

        return self.compile_steps(one_step, METRICS)

    def snapshot(self, epoch: int) -> None:
        n = self.cfg.grid * PER_ROW
        inputs, targets = self.examples["inputs"][:n], self.examples["targets"][:n]
        outputs = translate(self.G, inputs)
        self.check_finite(outputs, epoch)
        grid = pictures.triplet_grid([pictures.to_unit(inputs), outputs, pictures.to_unit(targets)],
                                     min(self.cfg.grid, len(inputs)))
        self.save_picture(epoch, grid)

    def optimizers(self) -> list[Any]:
        return [self.g_opt, self.d_opt]

    def saved_generators(self) -> dict[str, Any]:
        return {"AtoB": self.G}

    def quality(self, n: int) -> dict[str, Any]:
        return pix2pix_quality(self.G, self.pairs.test_inputs, self.pairs.test_targets, n)
