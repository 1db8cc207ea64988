"""Unpaired image-to-image translation (CycleGAN: Zhu et al. 2017).

Two generators, G: A -> B and F: B -> A, and two discriminators, D_A (is this a real A?) and D_B. No pairs are
needed: G's output must fool D_B (the GAN term, least-squares as in the paper), and the round trips F(G(a)) and
G(F(b)) must come back to where they started (cycle consistency, lambda = 10), which is what ties each output to its
input. An identity term (G(b) ~ b, F(a) ~ a, 0.5 lambda) keeps colours and layout from drifting where nothing needs
translating. D learns from a pool of the last 50 fakes rather than only the newest, which damps oscillation.

Read top to bottom: losses -> image pool -> the train step -> the trainer (networks: :mod:`gan_core.models.cyclegan`).
Pixels are in [-1, 1].
"""
from __future__ import annotations

from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from ..data import load_domains, make_dataset
from ..errors import ConfigError
from ..evaluation.translation_quality import cyclegan_quality, translate
from ..files import pictures
from .execution import update
from .translation_trainer import TranslationTrainer

CYCLE_WEIGHT = 10.0  # the paper's lambda
IDENTITY_SHARE = 0.5  # identity loss weight = 0.5 * lambda, as in the paper
POOL_SIZE = 50
LEARNING_RATE, BETA_1 = 2e-4, 0.5


# --- losses ---------------------------------------------------------------------------------------------------


def _mse(target: float, scores: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(tf.square(tf.cast(scores, tf.float32) - target))


def _l1(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))


def generator_adversarial_loss(fake_scores: tf.Tensor) -> tf.Tensor:
    """Least squares: push D's score of the fake towards 'real' (1)."""
    return _mse(1.0, fake_scores)


def discriminator_loss(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """Least squares, halved as in the paper (so D learns at half G's pace): real -> 1, fake -> 0."""
    return 0.5 * (_mse(1.0, real_scores) + _mse(0.0, fake_scores))


def cycle_loss(real: tf.Tensor, cycled: tf.Tensor, weight: float = CYCLE_WEIGHT) -> tf.Tensor:
    """weight * mean |x - F(G(x))|: the round trip must come back."""
    return weight * _l1(real, cycled)


def identity_loss(real: tf.Tensor, same: tf.Tensor, weight: float = CYCLE_WEIGHT * IDENTITY_SHARE) -> tf.Tensor:
    """weight * mean |b - G(b)|: an image already in G's target domain should pass through unchanged."""
    return weight * _l1(real, same)


# --- image pool -----------------------------------------------------------------------------------------------


class ImagePool:
    """The paper's history of generated images (Shrivastava et al. 2017), as TensorFlow variables so it lives inside
    the compiled step and in the checkpoint.

    Until the pool is full, each fake goes in and is returned as is. Then each fake, with probability 1/2, is swapped
    for a random stored one (which is returned, the new one kept in its place), else returned as is. ``size`` 0
    returns the fakes unchanged.
    """

    def __init__(self, size: int, image_shape: tuple[int, int, int], name: str = "pool"):
        if size < 0:
            raise ConfigError(f"pool_size must be 0 or more; got {size}")
        self.size = int(size)
        self.images = tf.Variable(tf.zeros([max(1, self.size), *image_shape]), trainable=False, name=f"{name}_images")
        self.count = tf.Variable(0, dtype=tf.int32, trainable=False, name=f"{name}_count")

    def draw(self, n: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The random numbers a query of n fakes uses, keyed by ``seed`` (a stateless key, shape [2]): per fake a
        coin in [0, 1) and a slot. Drawn apart from :meth:`query` so that an XLA-compiled step can take them as
        inputs (XLA's generators give other numbers for the same key)."""
        coins, slots = tf.TensorArray(tf.float32, size=n), tf.TensorArray(tf.int32, size=n)
        for i in tf.range(n):
            key = tf.random.experimental.stateless_fold_in(seed, i)
            coins = coins.write(i, tf.random.stateless_uniform([], seed=key))
            slots = slots.write(i, tf.random.stateless_uniform(
                [], seed=tf.random.experimental.stateless_fold_in(key, 1), minval=0, maxval=max(1, self.size),
                dtype=tf.int32))
        return coins.stack(), slots.stack()

    def query(self, fakes: tf.Tensor, seed: tf.Tensor | None = None,
              draws: tuple[tf.Tensor, tf.Tensor] | None = None) -> tf.Tensor:
        """The images D should see as fakes this step: the swaps drawn from ``seed``, or given as :meth:`draw`'s
        ``draws``."""
        fakes = tf.stop_gradient(tf.cast(fakes, tf.float32))
        if self.size == 0:
            return fakes
        n = tf.shape(fakes)[0]
        coins, slots = self.draw(n, seed) if draws is None else draws
        out = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            image = fakes[i]
            # Branch-free (XLA compiles no assignment to a slice at a variable index): a pool not yet full takes
            # the fake into its next free slot; a full one swaps it for the slot's image when the coin says so.
            filling = self.count < self.size
            index = tf.where(filling, self.count, slots[i])
            stored = tf.gather(self.images, index)
            swapped = tf.logical_and(tf.logical_not(filling), coins[i] < 0.5)
            self.images.scatter_nd_update([[index]], [tf.where(filling | swapped, image, stored)])
            self.count.assign_add(tf.cast(filling, tf.int32))
            out = out.write(i, tf.where(swapped, stored, image))
        return out.stack()


# --- training -------------------------------------------------------------------------------------------------

METRICS = ("g_loss", "d_loss", "g_gan", "cycle", "identity", "d_real", "d_fake")


def make_train_step(G: keras.Model, F: keras.Model, D_A: keras.Model, D_B: keras.Model, g_opt: Any,
                    d_opt: Any, pool_a: ImagePool, pool_b: ImagePool, cycle_weight: float = CYCLE_WEIGHT,
                    identity_weight: float = IDENTITY_SHARE,
                    compile: bool = True) -> Callable[..., dict[str, tf.Tensor]]:
    """`step(real_a, real_b, seed) -> {g_loss, d_loss, g_gan, cycle, identity, d_real, d_fake}`: one update of
    both generators (one optimizer over G and F, as the paper's code) and of both discriminators.

    ``identity_weight`` is a share of ``cycle_weight`` (the paper's 0.5); it needs A and B of one shape.
    d_real and d_fake are the discriminators' mean raw scores (least squares aims them at 1 and 0).
    ``compile=False`` returns the plain function, for a caller that compiles several steps into one call, and
    `step.pool_draws(real_a, real_b, seed)`: the pools' random numbers, for a caller that makes them outside an
    XLA-compiled step and passes them as ``draws``.
    """
    g_vars = G.trainable_variables + F.trainable_variables
    d_vars = D_A.trainable_variables + D_B.trainable_variables
    for opt, variables in ((g_opt, g_vars), (d_opt, d_vars)):
        if not getattr(opt, "built", True):  # Keras 3 makes its slots lazily: make them outside the trace
            opt.build(variables)
    same_shape = tuple(G.inputs[0].shape[1:]) == tuple(F.inputs[0].shape[1:])
    if identity_weight and not same_shape:
        raise ConfigError("the identity loss compares an image with its translation, so A and B must have the same "
                          "size and channels; set identity_weight=0 or load both domains alike")
    id_weight = cycle_weight * identity_weight

    def pool_draws(real_a, real_b, seed):
        return (pool_a.draw(tf.shape(real_b)[0], tf.random.experimental.stateless_fold_in(seed, 0)),
                pool_b.draw(tf.shape(real_a)[0], tf.random.experimental.stateless_fold_in(seed, 1)))

    def step(real_a, real_b, seed, draws=None):
        real_a, real_b = tf.cast(real_a, tf.float32), tf.cast(real_b, tf.float32)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_b = G(real_a, training=True)
            fake_a = F(real_b, training=True)
            cycled_a = F(fake_b, training=True)
            cycled_b = G(fake_a, training=True)
            g_gan = (generator_adversarial_loss(D_B(fake_b, training=True))
                     + generator_adversarial_loss(D_A(fake_a, training=True)))
            cycle = cycle_loss(real_a, cycled_a, cycle_weight) + cycle_loss(real_b, cycled_b, cycle_weight)
            if id_weight:
                identity = (identity_loss(real_b, G(real_b, training=True), id_weight)
                            + identity_loss(real_a, F(real_a, training=True), id_weight))
            else:
                identity = tf.constant(0.0)
            g_loss = g_gan + cycle + identity

            draws_a, draws_b = draws if draws is not None else pool_draws(real_a, real_b, seed)
            pooled_a, pooled_b = pool_a.query(fake_a, draws=draws_a), pool_b.query(fake_b, draws=draws_b)
            real_scores = [D_A(real_a, training=True), D_B(real_b, training=True)]
            fake_scores = [D_A(pooled_a, training=True), D_B(pooled_b, training=True)]
            d_loss = sum(discriminator_loss(r, f) for r, f in zip(real_scores, fake_scores))
        update(g_tape, g_opt, g_loss, g_vars)  # (with float16's loss scaling)
        update(d_tape, d_opt, d_loss, d_vars)
        mean = lambda scores: tf.reduce_mean([tf.reduce_mean(tf.cast(s, tf.float32)) for s in scores])  # noqa: E731
        return {"g_loss": g_loss, "d_loss": d_loss, "g_gan": g_gan, "cycle": cycle, "identity": identity,
                "d_real": mean(real_scores), "d_fake": mean(fake_scores)}

    made = tf.function(step) if compile else step
    made.pool_draws = pool_draws
    return made


# --- the trainer --------------------------------------------------------------------------------------------------


class CycleGANTrainer(TranslationTrainer):
    """CycleGAN: G: A -> B and F: B -> A with discriminators D_B and D_A, on two unpaired image sets."""

    d_reading = "ls_score"  # its discriminators' raw least-squares scores (targets: 1 real, 0 fake)

    def build_models(self, arch) -> dict[str, Any]:
        cfg = self.cfg
        self.G, self.F = arch.build_generator(cfg), arch.build_generator(cfg)
        self.D_A, self.D_B = arch.build_discriminator(cfg), arch.build_discriminator(cfg)
        self.g_opt = self.make_optimizer(cfg.g_lr, self.G.trainable_variables + self.F.trainable_variables)
        self.d_opt = self.make_optimizer(cfg.d_lr, self.D_A.trainable_variables + self.D_B.trainable_variables)
        shape = (cfg.image_size, cfg.image_size, cfg.channels)
        self.pool_a = ImagePool(cfg.pool_size, shape, "pool_a")
        self.pool_b = ImagePool(cfg.pool_size, shape, "pool_b")
        pools = tf.train.Checkpoint(a_images=self.pool_a.images, a_count=self.pool_a.count,
                                    b_images=self.pool_b.images, b_count=self.pool_b.count)
        return dict(generator=self.G, generator_ba=self.F, discriminator_a=self.D_A, discriminator=self.D_B,
                    g_opt=self.g_opt, d_opt=self.d_opt, pools=pools)

    def load_data(self):
        cfg = self.cfg
        self.domain_a, self.domain_b = load_domains(cfg, self.log)
        self.n_images = min(len(self.domain_a.train), len(self.domain_b.train))
        self.steps_per_epoch = self.n_images // cfg.batch_size
        self.log(f"data: A {len(self.domain_a.train)} images from {self.domain_a.source}, B "
                 f"{len(self.domain_b.train)} from {self.domain_b.source} (+{len(self.domain_a.test)} / "
                 f"{len(self.domain_b.test)} held out), {self.steps_per_epoch} steps of {cfg.batch_size} per epoch")
        a = make_dataset(self.domain_a.train, cfg.batch_size, seed=cfg.seed + self.epoch)
        b = make_dataset(self.domain_b.train, cfg.batch_size, seed=cfg.seed + 10_007 + self.epoch)
        return tf.data.Dataset.zip((a, b))

    def fixed_inputs(self) -> None:
        self.examples = self.save_examples(a=self.domain_a.test, b=self.domain_b.test)

    def make_train_step(self):
        cfg = self.cfg
        step = make_train_step(self.G, self.F, self.D_A, self.D_B, self.g_opt, self.d_opt, self.pool_a,
                                        self.pool_b, cfg.cycle_weight, cfg.identity_weight, compile=False)

        def draw(batch, global_step):
            # the pools' draws are keyed by (seed, step), like the latent GANs' noise: reproducible and resumable;
            # made outside XLA (compile_steps)
            seed = tf.stack([tf.constant(cfg.seed, tf.int64), global_step])
            return (step.pool_draws(batch[0], batch[1], seed),)

        def one_step(batch, _global_step, draws):
            return step(batch[0], batch[1], None, draws)

        return self.compile_steps(one_step, METRICS, draw)

    def snapshot(self, epoch: int) -> None:
        rows = self.cfg.grid
        a, b = self.examples["a"][:rows], self.examples["b"][:rows]
        fake_b, fake_a = translate(self.G, a), translate(self.F, b)
        back_a, back_b = translate(self.F, fake_b * 2 - 1), translate(self.G, fake_a * 2 - 1)
        self.check_finite(np.concatenate([fake_a, fake_b]), epoch)
        unit = pictures.to_unit
        self.save_picture(epoch, pictures.triplet_grid([unit(a), fake_b, back_a, unit(b), fake_a, back_b], len(a)))

    def optimizers(self) -> list[Any]:
        return [self.g_opt, self.d_opt]

    def saved_generators(self) -> dict[str, Any]:
        return {"AtoB": self.G, "BtoA": self.F}

    def quality(self, n: int) -> dict[str, Any]:
        return cyclegan_quality(self.G, self.F, self.domain_a, self.domain_b, self.cfg, n)
