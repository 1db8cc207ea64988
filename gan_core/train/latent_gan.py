"""The latent GAN (z -> image): the reference notes' DCGAN-family step, keras-io style, in the shared training loop.

Read top to bottom: the GAN step -- :class:`GAN` (G, D, the objective, how D sees images), then
:func:`simultaneous_step` and :func:`alternating_step` (noise -> G -> D on real and fake -> objective (+ penalty) ->
updates) -- then the trainer: the networks and their EMA -> data -> the fixed latents of every grid -> the step's
wiring (keyed draws, replica shares, compiled calls: :mod:`.execution`) -> grids, What D sees, and quality.
"""
from __future__ import annotations

import io
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from .. import data as data_lib
from .. import evaluation, latent_space, models
from ..algorithm import augment as augment_lib
from ..algorithm import objectives
from ..algorithm.ema import WeightAverage, half_life_steps
from ..errors import GanError
from ..evaluation.discriminator import PROBE, diversity_ratio
from ..files import pictures
from ..files.disk import atomic_write_bytes
from ..inference import Generator
from . import execution
from .loop import Trainer

METRICS = ("g_loss", "d_loss", "d_real", "d_fake")
QUICK_EVAL_N = {"digits": 2000, "faces": 500}  # eval_n = 0: enough to follow the trend, seconds not minutes
PROBE_SEED = 1_000_000  # the fakes D is shown each epoch: seeds from here on, apart from the grid's 0..n-1


# --- the GAN step ----------------------------------------------------------------------------------------------


class GAN:
    """What a step trains and how D looks at images: G, D, their optimizers, the config's objective and D's penalty,
    DiffAugment (the identity when off). `mean` reduces per-example losses (a replica's share of the global batch's
    mean, from the loop); `key` is the step's key for its random draws (augmentation, penalty)."""

    def __init__(self, cfg, G, D, g_opt, d_opt, mean: Callable = tf.reduce_mean):
        self.cfg, self.G, self.D, self.g_opt, self.d_opt, self.mean = cfg, G, D, g_opt, d_opt, mean
        self.objective = objectives.get(cfg.loss)
        self.penalty = objectives.make_penalty(self.objective, gp_weight=cfg.gp_weight, r1_gamma=cfg.r1_gamma,
                                               r1_every=cfg.r1_every)
        self.augment = augment_lib.make_augment(cfg.augment, cfg.pixel_range)

    def _inputs(self, x, y):
        return [x, y] if self.cfg.num_classes else x  # a conditional G or D also takes the one-hot class

    def generate(self, z, y, dtype):
        return tf.cast(self.G(self._inputs(z, y), training=True), dtype)

    def logits(self, images, labels):
        return tf.cast(self.D(self._inputs(images, labels), training=True), tf.float32)

    def discriminate(self, real, real_y, fake, fake_y, key):
        """D's logits on real and fake images, each through its own DiffAugment draw."""
        real, fake = self.augment(real, execution.fold(key, 2)), self.augment(fake, execution.fold(key, 3))
        if self.cfg.d_joint_batch:  # the colour faces note: real and fake in one batch, so D's BatchNorm sees both
            both_y = tf.concat([real_y, fake_y], axis=0) if self.cfg.num_classes else None
            both = self.logits(tf.concat([real, fake], axis=0), both_y)
            return both[:tf.shape(real)[0]], both[tf.shape(real)[0]:]
        return self.logits(real, real_y), self.logits(fake, fake_y)  # the TF DCGAN tutorial's two calls

    def discriminate_again(self, real, real_y, fake, fake_y, key, real_logits):
        """The updated D's logits for G's loss (alternating): on the new fakes; on the real images again only where
        the objective's G loss reads them (relativistic losses), else the pre-update ones it ignores."""
        if self.objective.g_uses_real:
            real_after, fake_after = self.discriminate(real, real_y, fake, fake_y, key)
            return tf.stop_gradient(real_after), fake_after
        return tf.stop_gradient(real_logits), self.logits(self.augment(fake, execution.fold(key, 3)), fake_y)

    def losses(self, real_logits, fake_logits):
        return self.objective(real_logits, fake_logits, mean=self.mean, real_label=self.cfg.real_label)

    def penalised(self, d_loss, real, real_y, fake, key, step, logs):
        """D's loss plus its penalty on D as it sees real images (R1, the gradient penalty), if any (into `logs`)."""
        if self.penalty is None:
            return d_loss
        critic = lambda images: self.logits(self.augment(images, execution.fold(key, 2)), real_y)  # noqa: E731
        logs["d_penalty"] = self.penalty(critic, real, fake, execution.fold(key, 4), step, self.mean)
        return d_loss + logs["d_penalty"]

    def update_d(self, tape, d_loss):
        execution.update(tape, self.d_opt, d_loss, self.D.trainable_variables)

    def update_g(self, tape, g_loss, step):
        """G's update, on every d_steps-th step only (WGAN's n_critic: d_steps D updates per G update)."""
        grads = execution.gradients(tape, self.g_opt, g_loss, self.G.trainable_variables)
        execution.every(self.cfg.d_steps, step,
                        lambda: self.g_opt.apply_gradients(zip(grads, self.G.trainable_variables)))


def simultaneous_step(gan: GAN, real, real_y, z, fake_y, key, step):
    """The TF DCGAN tutorial's step: noise -> G -> D on real and fake -> both losses from that one pass -> both
    updates."""
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = gan.generate(z, fake_y, real.dtype)
        real_logits, fake_logits = gan.discriminate(real, real_y, fake, fake_y, key)
        g_loss, d_loss, logs = gan.losses(real_logits, fake_logits)
        with g_tape.stop_recording():
            d_loss = gan.penalised(d_loss, real, real_y, fake, key, step, logs)
    gan.update_g(g_tape, g_loss, step)
    gan.update_d(d_tape, d_loss)
    return g_loss, d_loss, real_logits, fake_logits, logs


def alternating_step(gan: GAN, real, real_y, z, fake_y, key, step):
    """The two faces notes' combined model: D learns first; then G, on the same z, through the updated D."""
    with tf.GradientTape() as d_tape:
        fake = tf.stop_gradient(gan.generate(z, fake_y, real.dtype))
        real_logits, fake_logits = gan.discriminate(real, real_y, fake, fake_y, key)
        _, d_loss, logs = gan.losses(real_logits, fake_logits)
        d_loss = gan.penalised(d_loss, real, real_y, fake, key, step, logs)
    gan.update_d(d_tape, d_loss)
    with tf.GradientTape() as g_tape:
        fake = gan.generate(z, fake_y, real.dtype)
        real_after, fake_after = gan.discriminate_again(real, real_y, fake, fake_y, key, real_logits)
        g_loss, _, g_logs = gan.losses(real_after, fake_after)
    gan.update_g(g_tape, g_loss, step)
    return g_loss, d_loss, real_logits, fake_logits, {**g_logs, **logs}


# --- the trainer ---------------------------------------------------------------------------------------------------


class LatentTrainer(Trainer):
    """G(z [, class]) against D(image [, class]) with a named objective (gan_core.algorithm.objectives), optionally
    EMA of G, spectral norm, DiffAugment and R1 or a gradient penalty, on one device or replicated (tf.distribute)."""

    def build_models(self, arch) -> dict[str, Any]:
        """G, D and their optimizers (called in the strategy's scope); returns what the checkpoint holds."""
        cfg = self.cfg
        self.G = arch.build_generator(cfg)
        self.D = models.build_discriminator(cfg)  # the architecture's, with the config's options (spectral_norm)
        self.g_opt = self.make_optimizer(cfg.g_lr, self.G.trainable_variables)
        self.d_opt = self.make_optimizer(cfg.d_lr, self.D.trainable_variables)
        held = dict(generator=self.G, discriminator=self.D, g_opt=self.g_opt, d_opt=self.d_opt)
        self.ema = None
        if cfg.ema_decay:
            self.G_ema = keras.models.clone_model(self.G)  # same layers and names, its own variables
            self.ema = WeightAverage(self.G, self.G_ema, cfg.ema_decay, cfg.ema_start_step, cfg.ema_rampup)
            held["generator_ema"] = self.G_ema
            self.log(f"EMA of G's weights: decay {cfg.ema_decay} (half-life {half_life_steps(cfg.ema_decay):.0f} "
                     f"steps), copying G until step {cfg.ema_start_step}"
                     + (f", half-life at most {cfg.ema_rampup:g} x the steps so far" if cfg.ema_rampup else ""))
        return held

    @property
    def sampler(self):
        """The generator that draws the grids, is scored and is saved for the app: the average when EMA is on."""
        return self.G_ema if getattr(self, "ema", None) is not None else self.G

    def load_data(self):
        cfg = self.cfg
        images, report = data_lib.load_images(
            cfg.dataset, path=cfg.data, image_size=cfg.image_size, channels=cfg.channels,
            pixel_range=cfg.pixel_range, limit=cfg.limit, log=self.log)
        labels = self.load_labels(len(images)) if cfg.num_classes else None
        # what D is shown each epoch (see discriminator_view): a fixed sample of real images, spread over the data
        probe = np.linspace(0, len(images) - 1, min(PROBE, len(images))).astype(int)
        self.real_probe = (images[probe], None if labels is None else labels[probe])
        self.n_images = len(images)
        self.steps_per_epoch = self.n_images // cfg.batch_size
        dataset = data_lib.make_dataset(images, cfg.batch_size, seed=cfg.seed + self.epoch, labels=labels)
        self.log(f"data: {report.n_images} images from {cfg.dataset} ({report.path or 'standard location'}), "
                 f"{report.n_skipped} skipped, {self.steps_per_epoch} steps of {cfg.batch_size} per epoch")
        return self.distribute(dataset)

    def load_labels(self, n_images: int) -> np.ndarray:
        """One-hot training labels, in the same order as the images (both are the file's first n)."""
        cfg = self.cfg
        _, labels = data_lib.load_labelled(cfg.dataset, "train", cfg.data, limit=cfg.limit)
        if len(labels) != n_images:
            raise GanError(f"{cfg.dataset}: {n_images} training images but {len(labels)} labels; class-conditional "
                           "training needs the labels file (Keras's .npz y_train, or train-labels-idx1-ubyte[.gz] "
                           "beside the images)")
        if labels.max() >= cfg.num_classes:
            raise GanError(f"{cfg.dataset} has class {int(labels.max())} but num_classes is {cfg.num_classes}; "
                           f"set num_classes={int(labels.max()) + 1}")
        self.log(f"labels: {cfg.num_classes} classes, counts {np.bincount(labels, minlength=cfg.num_classes).tolist()}")
        return latent_space.labels_for(len(labels), cfg.num_classes, labels)

    def fixed_labels(self) -> np.ndarray | None:
        """The snapshot grid's classes: cycling 0..C-1 along each row (a 10-wide grid has one digit per column)."""
        return latent_space.labels_for(self.cfg.grid ** 2, self.cfg.num_classes) if self.cfg.num_classes else None

    def fixed_inputs(self) -> None:
        """What every snapshot grid is drawn from, the same each epoch: here the fixed latents."""
        self._fixed_z = self.fixed_z()

    def fixed_z(self) -> np.ndarray:
        """The snapshot grid's latents: made once per run (seeds 0..n-1), then read back on every resume. A file
        that is damaged or of another shape is made again from the same seeds, so the grids stay comparable."""
        n, dim = self.cfg.grid ** 2, self.cfg.noise_dim
        if self.run.fixed_z_path.is_file():
            try:
                z = self.run.fixed_z()
            except GanError:
                problem = "is not a saved array of latents"
            else:
                if z.shape == (n, dim):
                    return z
                problem = f"holds shape {z.shape}, not ({n}, {dim})"
            self.log(f"fixed_z.npy {problem}; made it again from seeds 0..{n - 1}, as the run first did")
        z = latent_space.z_from_seeds(latent_space.grid_seeds(0, n), dim, self.cfg.noise)
        buf = io.BytesIO()
        np.save(buf, z)
        atomic_write_bytes(self.run.fixed_z_path, buf.getvalue())
        return z

    @property
    def d_reading(self) -> str:
        """What the logged d_real / d_fake mean: the objective's reading (a probability, a score, a critic score)."""
        return objectives.get(self.cfg.loss).reading.name

    def step_metrics(self) -> tuple[str, ...]:
        """The metrics of each step: the run contract's four, then the objective's and the penalty's."""
        objective = objectives.get(self.cfg.loss)
        has_penalty = objective.gradient_penalty or bool(self.cfg.r1_gamma)
        return METRICS + objective.logs + (("d_penalty",) if has_penalty else ())

    def make_train_step(self):
        """`train_steps(iterator, n, first_step)` (:meth:`compile_steps`): this config's GAN step on each batch,
        with its keyed draws, then the EMA update; each metric as this replica's share of the global batch's."""
        cfg, ema, conditional = self.cfg, self.ema, self.cfg.num_classes > 0
        gan = GAN(cfg, self.G, self.D, self.g_opt, self.d_opt, mean=execution.replica_mean(cfg.batch_size))
        gan_step = alternating_step if cfg.update == "alternating" else simultaneous_step
        reading = gan.objective.reading
        extra = self.step_metrics()[len(METRICS):]

        def one_step(batch, step, key, z, fake_y):
            real, real_y = batch if conditional else (batch, None)  # a conditional run's batches carry labels
            g_loss, d_loss, real_logits, fake_logits, logs = gan_step(gan, real, real_y, z, fake_y, key, step)
            if ema is not None:
                ema.update(step)
            share = execution.replica_share(tf.shape(real)[0], cfg.batch_size)  # a SUM over replicas is a mean
            return {"g_loss": g_loss, "d_loss": d_loss,  # D's mean outputs as its objective reads them
                    "d_real": tf.reduce_mean(reading.show_tensor(real_logits)) * share,
                    "d_fake": tf.reduce_mean(reading.show_tensor(fake_logits)) * share,
                    **{k: logs[k] for k in extra}}

        draw = execution.latent_draws(cfg.seed, cfg.noise, cfg.noise_dim, cfg.num_classes, cfg.batch_size,
                                      multiworker=self.worker is not None)
        return self.compile_steps(one_step, self.step_metrics(), draw)

    def snapshot(self, epoch: int) -> None:
        labels = self.fixed_labels()
        inputs = self._fixed_z if labels is None else [self._fixed_z, labels]
        images = np.asarray(self.sampler(inputs, training=False), np.float32)
        self.check_finite(images, epoch)
        self.save_picture(epoch, pictures.grid(pictures.to_uint8(images, self.cfg.pixel_range), self.cfg.grid,
                                               self.cfg.grid))
        self.log_discriminator_view(epoch, images, labels)

    def log_discriminator_view(self, epoch: int, grid_images: np.ndarray, grid_labels: np.ndarray | None) -> None:
        """D's verdicts this epoch into metrics.jsonl (kind "discriminator"): on the fixed real sample, on as many
        fakes of the raw G (what D is trained against) from fixed seeds, and on each cell of the epoch's grid; and
        those fakes' diversity against the reals'."""
        cfg = self.cfg
        real, real_y = self.real_probe
        n = len(real)
        z = latent_space.z_from_seeds(latent_space.grid_seeds(PROBE_SEED, n), cfg.noise_dim, cfg.noise)
        fake_y = latent_space.labels_for(n, cfg.num_classes) if cfg.num_classes else None

        def d(images, labels):
            return np.asarray(self.D(images if labels is None else [images, labels], training=False), np.float32)

        fakes = np.asarray(self.G(z if fake_y is None else [z, fake_y], training=False), np.float32)
        view = evaluation.discriminator_view(d(real, real_y), d(fakes, fake_y), d(grid_images, grid_labels),
                                             reading=objectives.get(cfg.loss).reading, real_label=cfg.real_label)
        view["diversity"] = round(diversity_ratio(fakes, real), 4)  # the live view's mode-collapse alarm reads it
        self.run.log_metrics({"kind": "discriminator", "epoch": epoch, **view})

    def measure_quality(self, epoch: int) -> dict[str, Any]:
        """classifier-FID/score/coverage for digits, SWD for faces, at the quick n unless eval_n says."""
        cfg = self.cfg
        n = cfg.eval_n or QUICK_EVAL_N[evaluation.data_kind(cfg.dataset)]
        generator = Generator(self.sampler, cfg.noise_dim, cfg.noise, cfg.pixel_range, source=f"epoch {epoch}",
                              num_classes=cfg.num_classes)
        return evaluation.evaluate(generator, cfg.dataset, cfg.data, n=n, epoch=epoch, log=lambda m: None)

    def optimizers(self) -> list[Any]:
        return [self.g_opt, self.d_opt]

    def saved_generators(self) -> dict[str, Any]:
        return {"AtoB": self.sampler}
