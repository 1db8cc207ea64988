"""GAN objectives as named, swappable pieces: D's logits on real and fake images -> (G loss, D loss, logs).

Each objective is a small function in the style of keras-io's GAN examples (and :mod:`gan_core.train.pix2pix`'s named
losses); the config's ``loss`` picks one from the registry, and the trainer's step calls it between "D on real and
fake" and "two updates". ``mean`` reduces a per-example loss to the batch's: ``tf.reduce_mean`` by default; the
trainer passes ``tf.nn.compute_average_loss`` so that a replica's loss is its share of the global batch's mean.

``bce``      the seeds' loss: sigmoid cross-entropy from logits, D: real -> ``real_label`` (< 1 is one-sided label
             smoothing), fake -> 0; G: fake -> 1 (the non-saturating loss of Goodfellow et al. 2014).
``lsgan``    least squares (Mao et al. 2017, a = 0, b = real_label, c = 1): halved squared errors to the targets.
``hinge``    D: relu(1 - real) + relu(1 + fake); G: -fake (Lim & Ye 2017; SN-GAN, SAGAN, BigGAN).
``wgan-gp``  the critic's Wasserstein estimate, D: fake - real, G: -fake, plus ``gp_weight`` x the gradient penalty
             (||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake (Gulrajani et al. 2017).

Each objective may declare its **balance point** (``balance``: real_label -> values): where the logged curves sit
when G's images match the data and D gives its best answer to that, i.e. D can no longer tell them apart. The keys
are the trainer's metrics (``g_loss``, ``d_loss``, and ``d_real`` / ``d_fake``, D's mean *sigmoid* output); charts
draw them as reference lines. bce: D(x) = D(G(z)) = real_label / 2 (0.5), G loss ln 2, D loss 2 ln 2 (the sum of
two means). lsgan: D's logits real_label / 2, G loss (real_label / 2 - 1)^2 / 2, D loss real_label^2 / 4. hinge
and wgan-gp have none: with G matching the data, any constant D in [-1, 1] (hinge) or any constant critic
(wgan-gp) is optimal, so their curves have no one value to sit at.

Penalties need D itself, not only its logits: :func:`gradient_penalty` and :func:`r1_penalty` take a ``critic``
(images -> logits). R1 (Mescheder et al. 2018), gamma / 2 x ||grad D(x_real)||^2, works with any objective
(``r1_gamma`` > 0; ``r1_every`` = k applies it every k-th step with weight x k, StyleGAN2's lazy regularisation).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .errors import ConfigError


def probability_real(logits) -> np.ndarray:
    """D's logits as its probability that an image is real, sigmoid(logit), flattened (float64, overflow-safe): the
    score the viewers show, the trainer's d_real and d_fake are its means."""
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits, np.float64).ravel(), -60, 60)))

Logs = dict[str, Any]
Losses = tuple[Any, Any, Logs]  # (G loss, D loss, logs): scalar tensors


def _reduce_mean(per_example):
    import tensorflow as tf

    return tf.reduce_mean(per_example)


@dataclass(frozen=True)
class Objective:
    name: str
    summary: str
    fn: Callable[..., Losses]  # fn(real_logits, fake_logits, *, mean, real_label) -> (g_loss, d_loss, logs)
    logs: tuple[str, ...] = ()  # the keys of the logs it returns (the step's metrics, fixed per run)
    smoothing: bool = False  # whether real_label (label smoothing) means anything to it
    gradient_penalty: bool = False  # wgan-gp: the trainer adds gp_weight x gradient_penalty to D's loss
    balance: Callable[[float], dict[str, float]] | None = None  # real_label -> the curves' values at balance

    def balance_point(self, real_label: float = 1.0) -> dict[str, float] | None:
        """Where G loss, D loss, D(x) and D(G(z)) sit when D can no longer tell G's images from real ones (see the
        module's docstring), for this real_label; None for an objective without one."""
        return dict(self.balance(real_label)) if self.balance is not None else None

    def __call__(self, real_logits, fake_logits, *, mean: Callable = _reduce_mean, real_label: float = 1.0) -> Losses:
        return self.fn(real_logits, fake_logits, mean=mean, real_label=real_label)


_REGISTRY: dict[str, Objective] = {}


def register(name: str, summary: str, **options: Any) -> Callable:
    """Decorator: ``fn(real_logits, fake_logits, *, mean, real_label) -> (g_loss, d_loss, logs)`` becomes ``name``."""

    def wrap(fn):
        if name in _REGISTRY:
            raise ValueError(f"objective {name!r} is registered twice")
        _REGISTRY[name] = Objective(name, summary, fn, **options)
        return fn

    return wrap


def names() -> list[str]:
    return list(_REGISTRY)


def get(name: str) -> Objective:
    if not isinstance(name, str) or name not in _REGISTRY:  # a hand-edited config.json may hold a dict or list
        raise ConfigError(f"loss must be one of {', '.join(_REGISTRY)}; got {str(name)[:60]!r}")
    return _REGISTRY[name]


# --- the objectives ------------------------------------------------------------------------------------------

def _bce(label: float, logits, mean):
    import tensorflow as tf

    return mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(logits), label), logits))


def _bce_balance(real_label: float) -> dict[str, float]:
    """D's best answer to G matching the data is D = real_label / 2 everywhere (0.5 without smoothing): minimise
    -s ln D - (1 - s) ln(1 - D) - ln(1 - D) over D. Then G's loss is -ln D and D's the two cross-entropies."""
    p = real_label / 2
    d_loss = -(real_label * math.log(p) + (1 - real_label) * math.log(1 - p)) - math.log(1 - p)
    return {"g_loss": -math.log(p), "d_loss": d_loss, "d_real": p, "d_fake": p}


def _lsgan_balance(real_label: float) -> dict[str, float]:
    """D's best answer to G matching the data: logits real_label / 2 (the mean of its targets real_label and 0);
    the logged D outputs are their sigmoid."""
    logit = real_label / 2
    p = 1 / (1 + math.exp(-logit))
    return {"g_loss": 0.5 * (logit - 1) ** 2, "d_loss": real_label ** 2 / 4, "d_real": p, "d_fake": p}


@register("bce", "sigmoid cross-entropy from logits, real_label smoothing for D, non-saturating G (the seeds')",
          smoothing=True, balance=_bce_balance)
def bce(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    g_loss = _bce(1.0, fake_logits, mean)
    d_loss = _bce(real_label, real_logits, mean) + _bce(0.0, fake_logits, mean)
    return g_loss, d_loss, {}


@register("lsgan", "least squares: D's logits pulled to real_label on real and 0 on fake, G's to 1 (Mao et al.)",
          smoothing=True, balance=_lsgan_balance)
def lsgan(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    import tensorflow as tf

    g_loss = 0.5 * mean(tf.square(fake_logits - 1.0))
    d_loss = 0.5 * mean(tf.square(real_logits - real_label)) + 0.5 * mean(tf.square(fake_logits))
    return g_loss, d_loss, {}


@register("hinge", "hinge: D relu(1 - real) + relu(1 + fake), G -fake (SN-GAN, SAGAN, BigGAN)")
def hinge(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    import tensorflow as tf

    g_loss = -mean(fake_logits)
    d_loss = mean(tf.nn.relu(1.0 - real_logits)) + mean(tf.nn.relu(1.0 + fake_logits))
    return g_loss, d_loss, {}


@register("wgan-gp", "Wasserstein critic D fake - real, G -fake, plus gp_weight x gradient penalty (Gulrajani et al.)",
          logs=("w_distance",), gradient_penalty=True)
def wgan(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    real_score, fake_score = mean(real_logits), mean(fake_logits)
    return -fake_score, fake_score - real_score, {"w_distance": real_score - fake_score}


# --- penalties on D's input gradients ------------------------------------------------------------------------

def _input_gradients(critic: Callable, images):
    """d sum(critic(x)) / dx: each example's gradient of its own logit (examples do not mix in a D without
    BatchNorm; with BatchNorm in training mode they mix slightly through the batch statistics)."""
    import tensorflow as tf

    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(images)
        total = tf.reduce_sum(tf.cast(critic(images), tf.float32))
    grads = tape.gradient(total, images)
    return tf.reshape(tf.cast(grads, tf.float32), [tf.shape(images)[0], -1])


def r1_penalty(critic: Callable, real, mean: Callable = _reduce_mean):
    """mean ||grad D(x)||^2 over real images (weight it by gamma / 2)."""
    import tensorflow as tf

    return mean(tf.reduce_sum(tf.square(_input_gradients(critic, real)), axis=1))


def gradient_penalty(critic: Callable, real, fake, key, mean: Callable = _reduce_mean):
    """mean (||grad D(x_hat)|| - 1)^2 with x_hat = e real + (1 - e) fake, e ~ U[0, 1] per example, drawn
    statelessly from `key` (weight it by gp_weight; 10 in the paper). G is not trained through it."""
    import tensorflow as tf

    fake = tf.stop_gradient(tf.cast(fake, real.dtype))
    e = tf.random.stateless_uniform([tf.shape(real)[0], 1, 1, 1], seed=key, dtype=real.dtype)
    norms = tf.sqrt(tf.reduce_sum(tf.square(_input_gradients(critic, e * real + (1 - e) * fake)), axis=1) + 1e-12)
    return mean(tf.square(norms - 1.0))


def make_penalty(objective: Objective, *, gp_weight: float, r1_gamma: float, r1_every: int = 1
                 ) -> Callable | None:
    """D's penalty for a config: ``penalty(critic, real, fake, key, step, mean) -> scalar``, or None without one."""
    if not objective.gradient_penalty and not r1_gamma:
        return None
    import tensorflow as tf

    def penalty(critic, real, fake, key, step, mean=_reduce_mean):
        total = tf.constant(0.0, tf.float32)
        if objective.gradient_penalty:
            total += gp_weight * gradient_penalty(critic, real, fake, key, mean)
        if r1_gamma:
            r1 = lambda: (r1_gamma / 2.0 * r1_every) * r1_penalty(critic, real, mean)  # noqa: E731
            if r1_every > 1:  # lazy: every k-th step, k times as strong
                total += tf.cond(step % r1_every == 0, r1, lambda: tf.constant(0.0, tf.float32))
            else:
                total += r1()
        return total

    return penalty
