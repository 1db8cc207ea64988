"""GAN objectives as named, swappable pieces: D's logits on real and fake images -> (G loss, D loss, logs).

Each objective is a small function in the style of keras-io's GAN examples (and
:mod:`gan_core.train.pix2pix_step`'s named losses); the config's ``loss`` picks one from the registry, and the
trainer's step calls it between "D on real and fake" and "two updates". ``mean`` reduces a per-example loss to the
batch's: ``tf.reduce_mean`` by default; the trainer passes ``tf.nn.compute_average_loss`` so that a replica's loss
is its share of the global batch's mean.

``bce``      the reference notes' loss: sigmoid cross-entropy from logits, D: real -> ``real_label`` (< 1 is one-sided
             label smoothing), fake -> 0; G: fake -> 1 (the non-saturating loss of Goodfellow et al. 2014).
``lsgan``    least squares (Mao et al. 2017, a = 0, b = real_label, c = 1): halved squared errors to the targets.
``hinge``    D: relu(1 - real) + relu(1 + fake); G: -fake (Lim & Ye 2017; SN-GAN, SAGAN, BigGAN).
``rasgan``   relativistic average standard GAN (Jolicoeur-Martineau 2018): cross-entropy on D's real output minus
             the fakes' mean and the fakes' minus the reals' mean; G's loss uses D's real outputs too.
``wgan-gp``  the critic's Wasserstein estimate, D: fake - real, G: -fake, plus ``gp_weight`` x the gradient penalty
             (||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake (Gulrajani et al. 2017).

Each objective may declare its **balance point** (``balance``: real_label -> values): where the logged curves sit
when G's images match the data and D gives its best answer to that, i.e. D can no longer tell them apart. The keys
are the trainer's metrics (``g_loss``, ``d_loss``, and ``d_real`` / ``d_fake``, D's mean output as its ``reading``
shows it); charts draw them as reference lines. bce: D(x) = D(G(z)) = real_label / 2 (0.5), G loss ln 2, D loss
2 ln 2 (the sum of two means). lsgan: D's score real_label / 2, G loss (real_label / 2 - 1)^2 / 2, D loss
real_label^2 / 4. hinge, wgan-gp and rasgan have none: with G matching the data, any constant D in [-1, 1] (hinge)
or any constant critic (wgan-gp, rasgan) is optimal, so their curves have no one value to sit at.

Each objective also says what D's output **means** (``reading``, a :class:`Reading`): a probability for bce (the
sigmoid of its logit), a least-squares score for lsgan, a critic score for hinge and wgan-gp (its sign says real or
fake), a score read against the other set's mean for rasgan. The trainer logs d_real / d_fake through it, and the
viewers (What D sees, the live curves, Compare, the lab, the "D wins" alarm) label and judge D's output by it.

Penalties need D itself, not only its logits: :func:`gradient_penalty` and :func:`r1_penalty` take a ``critic``
(images -> logits). R1 (Mescheder et al. 2018), gamma / 2 x ||grad D(x_real)||^2, works with any objective
(``r1_gamma`` > 0; ``r1_every`` = k applies it every k-th step with weight x k, StyleGAN2's lazy regularisation).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError


def probability_real(logits) -> np.ndarray:
    """D's logits as its probability that an image is real, sigmoid(logit), flattened (float64, overflow-safe): what
    a cross-entropy D's output means (:data:`PROBABILITY`)."""
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits, np.float64).ravel(), -60, 60)))


@dataclass(frozen=True)
class Reading:
    """What D's raw output means, for the app to show: the value (a probability, or the score as it is), its axis
    label, and how "D is right" is decided. Runs record its ``name`` (``d_reading`` in metrics.jsonl); a run
    without one predates readings and logged sigmoid(output) for every objective: :func:`reading` gives it
    :data:`PROBABILITY`, so it shows as it always did."""
    name: str
    axis: str  # the axis title of D's output (and its mean, d_real / d_fake)
    meaning: str  # one sentence for captions: what the value is and where "real" starts
    rule: str  # how "D is right" is decided, in a few words
    sigmoid: bool = False  # shown = sigmoid(raw output); else the raw output itself
    relative: bool = False  # "real" means above the other set's mean (relativistic D), not above a threshold

    def show(self, raw) -> np.ndarray:
        """The raw outputs as shown, flattened (float64)."""
        return probability_real(raw) if self.sigmoid else np.asarray(raw, np.float64).ravel()

    def show_tensor(self, raw):
        """:meth:`show` in a TensorFlow graph (the trainer's d_real and d_fake are the means of this)."""
        import tensorflow as tf

        return tf.sigmoid(raw) if self.sigmoid else raw

    def threshold(self, real_label: float = 1.0) -> float:
        """Where D's verdict turns from fake to real: 0.5 for a probability, 0 for a critic's sign, the midpoint of
        the targets (real_label and 0) for a least-squares score."""
        return 0.5 if self.sigmoid else (real_label / 2 if self.name == "ls_score" else 0.0)

    def right(self, real, fake, real_label: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(which real images D calls real, which fakes D calls fake), from shown values."""
        real, fake = np.ravel(real), np.ravel(fake)
        if self.relative:  # RaGAN: a real image is judged against the fakes' mean, and a fake against the reals'
            return real > fake.mean(), fake < real.mean()
        line = self.threshold(real_label)
        return real > line, fake < line

    def accuracy(self, real, fake, real_label: float = 1.0) -> float:
        """D's accuracy, averaged over the two sets (each counts half whatever its size)."""
        real_right, fake_right = self.right(real, fake, real_label)
        return float((np.mean(real_right) + np.mean(fake_right)) / 2)


PROBABILITY = Reading("probability", "D's probability of real", "D's probability that an image is real "
                      "(sigmoid of its logit): above 0.5 it calls the image real", "probability above 0.5 = real",
                      sigmoid=True)
LS_SCORE = Reading("ls_score", "D's least-squares score", "D's least-squares score, pulled towards real_label on "
                   "real images and 0 on fakes: closer to real_label than to 0 (above real_label / 2) it calls the "
                   "image real", "score nearer real_label than 0 = real")
CRITIC = Reading("critic", "critic score", "the critic's raw score (no probability: only its sign and differences "
                 "mean something): above 0 it calls the image real", "score above 0 = real")
RELATIVE = Reading("relative", "critic score (relativistic)", "D's raw score, read relative to the other set: a real "
                   "image is called real when it scores above the fakes' mean, a fake is called fake below the reals' "
                   "mean", "score above the other set's mean = real", relative=True)
READINGS = {r.name: r for r in (PROBABILITY, LS_SCORE, CRITIC, RELATIVE)}


def reading(name: str | None) -> Reading:
    """A recorded ``d_reading`` as its Reading; none (a run from before readings) or unknown: :data:`PROBABILITY`,
    what such runs logged."""
    return READINGS.get(name or "", PROBABILITY)


def reading_of(records) -> Reading:
    """The Reading of a run's metrics records (window or discriminator records): the first ``d_reading`` they hold;
    none (a run from before readings): :data:`PROBABILITY`."""
    return reading(next((r["d_reading"] for r in records if isinstance(r.get("d_reading"), str)), None))

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
    reading: Reading = PROBABILITY  # what D's output means, for the app (probability, score, critic score)
    g_uses_real: bool = False  # G's loss reads D's real outputs: `alternating` recomputes them with the updated D

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
    """D's best answer to G matching the data: the score real_label / 2 (the mean of its targets real_label and 0),
    which is also what the logged D outputs are (:data:`LS_SCORE`)."""
    score = real_label / 2
    return {"g_loss": 0.5 * (score - 1) ** 2, "d_loss": real_label ** 2 / 4, "d_real": score, "d_fake": score}


@register("bce", "sigmoid cross-entropy from logits, real_label smoothing for D, non-saturating G (the notes')",
          smoothing=True, balance=_bce_balance)
def bce(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    g_loss = _bce(1.0, fake_logits, mean)
    d_loss = _bce(real_label, real_logits, mean) + _bce(0.0, fake_logits, mean)
    return g_loss, d_loss, {}


@register("lsgan", "least squares: D's logits pulled to real_label on real and 0 on fake, G's to 1 (Mao et al.)",
          smoothing=True, balance=_lsgan_balance, reading=LS_SCORE)
def lsgan(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    import tensorflow as tf

    g_loss = 0.5 * mean(tf.square(fake_logits - 1.0))
    d_loss = 0.5 * mean(tf.square(real_logits - real_label)) + 0.5 * mean(tf.square(fake_logits))
    return g_loss, d_loss, {}


@register("hinge", "hinge: D relu(1 - real) + relu(1 + fake), G -fake (SN-GAN, SAGAN, BigGAN)", reading=CRITIC)
def hinge(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    import tensorflow as tf

    g_loss = -mean(fake_logits)
    d_loss = mean(tf.nn.relu(1.0 - real_logits)) + mean(tf.nn.relu(1.0 + fake_logits))
    return g_loss, d_loss, {}


@register("wgan-gp", "Wasserstein critic D fake - real, G -fake, plus gp_weight x gradient penalty (Gulrajani et al.)",
          logs=("w_distance",), gradient_penalty=True, reading=CRITIC)
def wgan(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    real_score, fake_score = mean(real_logits), mean(fake_logits)
    return -fake_score, fake_score - real_score, {"w_distance": real_score - fake_score}


@register("rasgan", "relativistic average GAN: is a real image more real than the average fake? (RaSGAN, "
          "Jolicoeur-Martineau 2018)", reading=RELATIVE, g_uses_real=True)
def rasgan(real_logits, fake_logits, *, mean=_reduce_mean, real_label: float = 1.0) -> Losses:
    """D: real - mean(fake) -> 1, fake - mean(real) -> 0; G the same with the labels swapped, so G also learns from
    D's real outputs. The means are over this replica's batch."""
    import tensorflow as tf

    real_vs_fake = real_logits - tf.reduce_mean(fake_logits)
    fake_vs_real = fake_logits - tf.reduce_mean(real_logits)
    d_loss = _bce(1.0, real_vs_fake, mean) + _bce(0.0, fake_vs_real, mean)
    g_loss = _bce(1.0, fake_vs_real, mean) + _bce(0.0, real_vs_fake, mean)
    return g_loss, d_loss, {}


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
