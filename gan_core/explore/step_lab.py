"""The step-through lab: GAN Lab's single D and G updates, on real MNIST, in the app's own process.

A small GAN (the dense MNIST GAN note's MLPs, `mnist_dense`) on a few thousand real digits, advanced one update at a
time: one D update, one G update, a full step (k D updates, then one G update), or n steps. After each, what the page
shows is in :meth:`StepLab.view`: the fixed-z grid, D's scores on the last real and fake batch, and the losses so far.
The learning rates, loss and label smoothing can change between clicks without retracing (they are variables or a
compiled function kept per loss). This is a lab bench, not a trainer: long training runs in its own process.
"""
from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from .. import config, data, latent_space, models
from ..algorithm import objectives
from ..errors import ConfigError
from ..files import pictures
from ..runs import training_charts

PRESET = "mnist_dense"
LAB_LOSSES = tuple(n for n in objectives.names() if not objectives.get(n).gradient_penalty)  # no penalty term here
GRID = 8  # the fixed-z grid is GRID x GRID
MAX_STEPS = 500  # per click: a lab answers in about a second
HISTORY_POINTS = 500  # points per curve at most, however long Play runs (a chart's width in pixels, roughly)


@dataclass
class Knobs:
    """What a user may change between clicks."""

    g_lr: float = 2e-4
    d_lr: float = 2e-4
    loss: str = "bce"
    real_label: float = 1.0
    d_steps: int = 1  # D updates per G update in a full step

    def check(self) -> "Knobs":
        if self.loss not in LAB_LOSSES:
            raise ConfigError(f"the lab's loss is one of {', '.join(LAB_LOSSES)}; got {self.loss!r}")
        for name in ("g_lr", "d_lr"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name} must be between 0 and 1 (e.g. 2e-4); got {getattr(self, name)}")
        if not 0.5 < self.real_label <= 1:
            raise ConfigError(f"real_label must be in (0.5, 1] (0.9 is usual smoothing); got {self.real_label}")
        if self.real_label != 1 and not objectives.get(self.loss).smoothing:
            raise ConfigError(f"label smoothing means nothing to the {self.loss} loss: set the real label to 1")
        if not 1 <= self.d_steps <= 20:
            raise ConfigError(f"D steps per G step must be 1 to 20; got {self.d_steps}")
        return self


@dataclass
class History:
    """The updates so far, each (update, network, losses and mean D scores of its batch), in at most `limit` points.

    Play runs for hours, and the curves are drawn on every tick: their cost must not grow with the run. While the
    run is short every update is a point; once `limit` points are kept, neighbours pair up and one of each pair
    stays, so a point then stands for a block of `span` consecutive updates (span doubles each time). Each block
    keeps one of its updates drawn at random: the curves keep the whole run's shape with the noise of single updates
    (a block's mean would smooth the past, its extremes widen it), and alternating D and G updates never leave
    only D's (or G's) rows, as every k-th update would. `last` is the newest update, always drawn."""

    limit: int = HISTORY_POINTS
    rows: list[dict[str, Any]] = field(default_factory=list)  # one chosen update per full block, oldest first
    updates: int = 0
    span: int = 1  # updates per block
    last: dict[str, Any] | None = None
    _pick: dict[str, Any] | None = field(default=None, repr=False)  # the block being filled: its chosen update
    _seen: int = field(default=0, repr=False)  # and how many of its updates came so far
    _rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def __post_init__(self) -> None:
        if self.limit < 2 or self.limit % 2:
            raise ValueError(f"a history keeps an even number of points, at least 2; got {self.limit}")

    def add(self, **row: Any) -> None:
        self.updates += 1
        self.last = {"update": self.updates, **row}
        self._seen += 1
        if self._rng.randrange(self._seen) == 0:  # reservoir sampling: each update of a block equally likely
            self._pick = self.last
        if self._seen < self.span:
            return
        self.rows.append(self._pick)
        self._pick, self._seen = None, 0
        if len(self.rows) == self.limit:  # pairs of blocks become one block of twice the span
            self.rows = [pair[self._rng.randrange(2)] for pair in zip(self.rows[::2], self.rows[1::2])]
            self.span *= 2

    def points(self) -> list[dict[str, Any]]:
        """What the curves draw: a chosen update per full block, then the newest update (at most limit + 1)."""
        if self.last is None or (self.rows and self.rows[-1] is self.last):
            return list(self.rows)
        return [*self.rows, self.last]


def curves_figure(points: list[dict[str, Any]], reference: dict[str, float] | None = None,
                  height: int = 380, reading: Any = None) -> Any:
    """The lab's loss and D-score curves against the update number (a plotly Figure); `reading` (the loss's
    objectives.Reading) says whether D's panel shows a probability or a score."""
    series = {k: ([r["update"] for r in points], [r[k] for r in points]) for k in ("g_loss", "d_loss", "d_real",
                                                                                  "d_fake")}
    figure = training_charts.series_figure(series, height=height, reference=reference, reading=reading)
    figure.update_xaxes(title_text="update", row=2, col=1)
    return figure


@contextlib.contextmanager
def _custom_gradients_forgotten() -> Iterator[None]:
    """Unregister the custom gradients that tracing inside this block registers, once it is done.

    Keras's ``apply_gradients`` in a ``tf.function`` sums the gradients over replicas through a
    ``tf.custom_gradient``, which TensorFlow (2.21 still) registers under a new name in its global gradient registry,
    for good: its closure holds the traced graph, so every lab ever built kept its two graphs per loss (~30 MB) after
    it was dropped (TensorFlow issues #27492, #97697). Nothing differentiates through an optimizer's update, so
    the entries are never looked up: forgetting them lets a dropped lab's graphs go. The registry is private; where
    a TensorFlow lacks it, nothing is removed (and tests/test_lab.py's memory test says so)."""
    from tensorflow.python.framework import ops  # the registry has no public way out

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    before = set(registry) if isinstance(registry, dict) else set()
    try:
        yield
    finally:
        for name in set(registry or ()) - before:
            if name.startswith("CustomGradient-"):
                del registry[name]


class StepLab:
    """One session's small GAN and its real digits. Not thread-safe: one per browser session."""

    def __init__(self, data_path: str | None = None, n_images: int = 6000, batch_size: int = 64, seed: int = 0):
        import keras
        import tensorflow as tf

        self.cfg = config.from_preset(PRESET, {"data": data_path, "limit": n_images, "batch_size": batch_size,
                                               "precision": "float32", "seed": seed})
        self.images, _ = data.load_images("mnist", path=data_path, limit=n_images)
        keras.utils.set_random_seed(seed)
        arch = models.get(self.cfg.architecture)
        self.G, self.D = arch.build_generator(self.cfg), models.build_discriminator(self.cfg)
        self.real_label = tf.Variable(1.0, dtype=tf.float32)
        self.g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)  # their rates are variables: set between clicks
        self.d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_opt.build(self.G.trainable_variables)
        self.d_opt.build(self.D.trainable_variables)
        self.fixed_z = latent_space.z_from_seeds(latent_space.grid_seeds(0, GRID * GRID), self.cfg.noise_dim,
                                                 self.cfg.noise)
        self.knobs, self.history = Knobs(), History()
        self._rng = np.random.default_rng(seed)
        self._compiled: dict[str, tuple[Any, Any]] = {}
        self.last_real = self.last_fake = np.zeros(0, np.float32)
        self.set_knobs(self.knobs)
        self._steps_for(self.knobs.loss)  # traced now, so the first click is as quick as the rest

    # --- knobs and steps ---------------------------------------------------------------------------------------
    def set_knobs(self, knobs: Knobs) -> None:
        """The knobs for the next clicks; a loss not used before is traced here (seconds, once per loss)."""
        self.knobs = knobs.check()
        self._steps_for(knobs.loss)
        self.g_opt.learning_rate.assign(knobs.g_lr)
        self.d_opt.learning_rate.assign(knobs.d_lr)
        self.real_label.assign(knobs.real_label)

    def _steps_for(self, loss: str):
        """(d_update, g_update) compiled for `loss`: each takes a real batch and z, updates one network and returns
        (g_loss, d_loss, D's logits on real, on fake)."""
        if loss in self._compiled:
            return self._compiled[loss]
        import tensorflow as tf

        objective, G, D = objectives.get(loss), self.G, self.D

        def losses(real, z):
            fake = G(z, training=True)
            real_logits, fake_logits = D(real, training=True), D(fake, training=True)
            g_loss, d_loss, _ = objective(real_logits, fake_logits, real_label=self.real_label)
            return g_loss, d_loss, real_logits, fake_logits

        @tf.function
        def d_update(real, z):
            # G runs in training mode (as in a full step) but a D step changes D alone: G's BatchNorm statistics,
            # which that pass moves, are put back
            kept = [tf.identity(v) for v in G.non_trainable_variables]
            with tf.GradientTape() as tape:
                g_loss, d_loss, real_logits, fake_logits = losses(real, z)
            self.d_opt.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
            with tf.control_dependencies([fake_logits]):
                for variable, value in zip(G.non_trainable_variables, kept):
                    variable.assign(value)
            return g_loss, d_loss, real_logits, fake_logits

        @tf.function
        def g_update(real, z):
            with tf.GradientTape() as tape:
                g_loss, d_loss, real_logits, fake_logits = losses(real, z)
            self.g_opt.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
            return g_loss, d_loss, real_logits, fake_logits

        n, shape = self.cfg.batch_size, self.images.shape[1:]
        specs = (tf.TensorSpec([n, *shape], tf.float32), tf.TensorSpec([n, self.cfg.noise_dim], tf.float32))
        with _custom_gradients_forgotten():
            for update in (d_update, g_update):  # traced now: no click pays for it
                update.get_concrete_function(*specs)
        self._dry_run(d_update, g_update)
        self._compiled[loss] = (d_update, g_update)
        return self._compiled[loss]

    def _dry_run(self, *updates) -> None:
        """Run each update once and put every weight and optimizer variable back: TensorFlow optimises a graph on
        its first run (a second or more here), which would otherwise be the first click's wait."""
        keep = [(v, v.numpy()) for v in (*self.G.variables, *self.D.variables, *self.g_opt.variables,
                                         *self.d_opt.variables)]
        real, z = self.images[: self.cfg.batch_size], np.zeros((self.cfg.batch_size, self.cfg.noise_dim), np.float32)
        for update in updates:
            update(real, z)
        for variable, value in keep:
            variable.assign(value)

    def _batch(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.cfg.batch_size
        real = self.images[self._rng.integers(0, len(self.images), n)]
        z = self._rng.standard_normal((n, self.cfg.noise_dim)).astype(np.float32)
        return real, z

    def _update(self, network: str) -> None:
        d_update, g_update = self._steps_for(self.knobs.loss)
        g_loss, d_loss, real_logits, fake_logits = (d_update if network == "D" else g_update)(*self._batch())
        reading = objectives.get(self.knobs.loss).reading  # a probability for bce, a score for lsgan and hinge
        self.last_real = reading.show(real_logits).astype(np.float32)
        self.last_fake = reading.show(fake_logits).astype(np.float32)
        self.history.add(network=network, g_loss=float(g_loss), d_loss=float(d_loss),
                         d_real=float(self.last_real.mean()), d_fake=float(self.last_fake.mean()),
                         d_reading=reading.name)

    def d_step(self) -> None:
        """One update of D on a fresh real batch and fresh z."""
        self._update("D")

    def g_step(self) -> None:
        """One update of G through the current D."""
        self._update("G")

    def full_step(self) -> None:
        """k D updates (the knob), then one G update: one step of the alternating game."""
        for _ in range(self.knobs.d_steps):
            self.d_step()
        self.g_step()

    def steps(self, n: int) -> None:
        if not 1 <= n <= MAX_STEPS:
            raise ConfigError(f"steps per click must be 1 to {MAX_STEPS}; got {n}")
        for _ in range(n):
            self.full_step()

    # --- what the page shows -----------------------------------------------------------------------------------
    def balance_point(self) -> dict[str, float] | None:
        """Where the curves sit at the game's balance for the current loss and real label (None: no such point)."""
        return objectives.get(self.knobs.loss).balance_point(self.knobs.real_label)

    def grid(self) -> np.ndarray:
        """The fixed-z grid now, uint8."""
        images = np.asarray(self.G(self.fixed_z, training=False), np.float32)
        return pictures.grid(pictures.to_uint8(images, self.cfg.pixel_range), GRID, GRID)

    def view(self) -> dict[str, Any]:
        """The grid, the last batch's D scores (as the loss reads them: `reading`), the newest update's figures (None
        before the first) and the curves' points (see :class:`History`)."""
        return {"grid": self.grid(), "d_real_scores": self.last_real, "d_fake_scores": self.last_fake,
                "reading": objectives.get(self.knobs.loss).reading,
                "last": self.history.last, "history": self.history.points(), "updates": self.history.updates}


