"""The latent GAN (z -> image): the seeds' DCGAN-family step, keras-io style, in the shared training loop.

Read top to bottom: the networks and their EMA -> data (images, and labels for a class-conditional run) -> the
fixed latents of every grid -> the GAN step (noise -> G -> D on real and fake -> objective -> two updates) -> the
plumbing around it (keyed noise, the global batch's mean, replica shares) -> grids and quality.
"""
from __future__ import annotations

import io
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from .. import augment as augment_lib
from .. import data as data_lib
from .. import evaluation, latent, models, objectives, pictures
from ..ema import WeightAverage, half_life_steps
from ..evaluation.discriminator import PROBE, diversity_ratio
from ..errors import GanError
from ..fsutil import atomic_write_bytes
from ..inference import Generator
from .loop import Trainer

METRICS = ("g_loss", "d_loss", "d_real", "d_fake")
QUICK_EVAL_N = {"digits": 2000, "faces": 500}  # eval_n = 0: enough to follow the trend, seconds not minutes
PROBE_SEED = 1_000_000  # the fakes D is shown each epoch: seeds from here on, apart from the grid's 0..n-1


class LatentTrainer(Trainer):
    """G(z [, class]) against D(image [, class]) with a named objective (gan_core.objectives), optionally EMA of G,
    spectral norm, DiffAugment and R1 or a gradient penalty, on one device or replicated (tf.distribute)."""

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
        return latent.labels_for(len(labels), cfg.num_classes, labels)

    def fixed_labels(self) -> np.ndarray | None:
        """The snapshot grid's classes: cycling 0..C-1 along each row (a 10-wide grid has one digit per column)."""
        return latent.labels_for(self.cfg.grid ** 2, self.cfg.num_classes) if self.cfg.num_classes else None

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
        z = latent.z_from_seeds(latent.grid_seeds(0, n), dim, self.cfg.noise)
        buf = io.BytesIO()
        np.save(buf, z)
        atomic_write_bytes(self.run.fixed_z_path, buf.getvalue())
        return z

    def make_gan_step(self, mean: Callable):
        """The GAN algorithm on one replica's batch, the seed's two-tape step with a swappable objective:
        noise -> G -> D on real and fake (through DiffAugment, if on) -> objective (+ D's penalty) -> two updates;
        or, with update="alternating", D's update first and then G's through the updated D. With d_steps = k, G's
        update happens on every k-th step only.
        `mean` reduces per-example losses (the replica's share of the global batch's mean); noise, keys and labels
        come from the caller."""
        cfg, G, D, g_opt, d_opt = self.cfg, self.G, self.D, self.g_opt, self.d_opt
        objective = objectives.get(cfg.loss)
        penalty = objectives.make_penalty(objective, gp_weight=cfg.gp_weight, r1_gamma=cfg.r1_gamma,
                                          r1_every=cfg.r1_every)

        def with_label(x, y):  # a conditional G or D also takes the one-hot class
            return [x, y] if cfg.num_classes else x

        augment = augment_lib.make_augment(cfg.augment, cfg.pixel_range)  # the identity when cfg.augment is ""
        fold = tf.random.experimental.stateless_fold_in  # the step's key -> independent draws: fold(key, i)

        def logits(images, labels):
            return tf.cast(D(with_label(images, labels), training=True), tf.float32)

        def discriminate(real, real_y, fake, fake_y, key):
            real, fake = augment(real, fold(key, 2)), augment(fake, fold(key, 3))  # independent draws
            if cfg.d_joint_batch:  # seed 003: real and fake in one batch, so D's BatchNorm sees both
                both_y = tf.concat([real_y, fake_y], axis=0) if cfg.num_classes else None
                both = logits(tf.concat([real, fake], axis=0), both_y)
                n = tf.shape(real)[0]
                return both[:n], both[n:]
            return logits(real, real_y), logits(fake, fake_y)  # seed 000's two calls

        def critic(key, labels):  # D as the penalties see it: on real images' augmentation and labels
            return lambda images: logits(augment(images, fold(key, 2)), labels)

        def penalised(d_loss, real, real_y, fake, key, step, logs):
            """D's loss plus its penalty, if any (also added to `logs`)."""
            if penalty is None:
                return d_loss
            logs["d_penalty"] = penalty(critic(key, real_y), real, fake, fold(key, 4), step, mean)
            return d_loss + logs["d_penalty"]

        def update_g(g_grads, step):
            # d_steps D updates per G update (WGAN's n_critic): G learns on every d_steps-th batch only
            def apply():
                g_opt.apply_gradients(zip(g_grads, G.trainable_variables))
                return tf.constant(True)

            if cfg.d_steps == 1:
                apply()
            else:
                tf.cond(tf.equal(step % cfg.d_steps, cfg.d_steps - 1), apply, lambda: tf.constant(False))

        def simultaneous_step(real, real_y, z, fake_y, key, step):
            # seed 000's step: both losses from one forward pass, both networks updated from it
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = tf.cast(G(with_label(z, fake_y), training=True), real.dtype)
                real_logits, fake_logits = discriminate(real, real_y, fake, fake_y, key)
                g_loss, d_loss, logs = objective(real_logits, fake_logits, mean=mean, real_label=cfg.real_label)
                with g_tape.stop_recording():
                    d_loss = penalised(d_loss, real, real_y, fake, key, step, logs)
                # float16's loss scaling (a LossScaleOptimizer's apply_gradients divides it back out), inside the
                # tapes: a product taken after them is not recorded and its gradients would be None
                g_scaled, d_scaled = g_opt.scale_loss(g_loss), d_opt.scale_loss(d_loss)
            g_grads = g_tape.gradient(g_scaled, G.trainable_variables)
            d_grads = d_tape.gradient(d_scaled, D.trainable_variables)
            update_g(g_grads, step)
            d_opt.apply_gradients(zip(d_grads, D.trainable_variables))
            return g_loss, d_loss, real_logits, fake_logits, logs

        def alternating_step(real, real_y, z, fake_y, key, step):
            # seeds 002/003's combined model: D learns first, then G through the updated D, on the same z
            with tf.GradientTape() as d_tape:
                fake = tf.stop_gradient(tf.cast(G(with_label(z, fake_y), training=True), real.dtype))
                real_logits, fake_logits = discriminate(real, real_y, fake, fake_y, key)
                _, d_loss, logs = objective(real_logits, fake_logits, mean=mean, real_label=cfg.real_label)
                d_loss = penalised(d_loss, real, real_y, fake, key, step, logs)
                d_scaled = d_opt.scale_loss(d_loss)
            d_opt.apply_gradients(zip(d_tape.gradient(d_scaled, D.trainable_variables), D.trainable_variables))
            with tf.GradientTape() as g_tape:
                fake = tf.cast(G(with_label(z, fake_y), training=True), real.dtype)
                after = logits(augment(fake, fold(key, 3)), fake_y)  # the updated D's verdict
                g_loss, _, g_logs = objective(tf.stop_gradient(real_logits), after, mean=mean,
                                              real_label=cfg.real_label)
                g_scaled = g_opt.scale_loss(g_loss)
            update_g(g_tape.gradient(g_scaled, G.trainable_variables), step)
            return g_loss, d_loss, real_logits, fake_logits, {**g_logs, **logs}

        gan_step = alternating_step if cfg.update == "alternating" else simultaneous_step
        return gan_step

    def step_metrics(self) -> tuple[str, ...]:
        """The metrics of each step: the run contract's four, then the objective's and the penalty's."""
        objective = objectives.get(self.cfg.loss)
        has_penalty = objective.gradient_penalty or bool(self.cfg.r1_gamma)
        return METRICS + objective.logs + (("d_penalty",) if has_penalty else ())

    def make_train_step(self):
        """`train_steps(iterator, n, first_step)`: n optimizer steps on the next n batches in one compiled call,
        returning each step's metrics as length-n vectors. n = 1 is the seed's step; n > 1 is the same steps in
        the same order (steps_per_call), with fewer Python round trips. The plumbing around :meth:`make_gan_step`:
        keyed noise and labels, the global batch's mean, the EMA update and each metric's replica share."""
        cfg, ema = self.cfg, self.ema
        global_batch = cfg.batch_size

        def step_key(step):
            # Stateless, keyed by (seed, global step, replica): the same z for a step however the steps are
            # grouped into calls, XLA or not, and after a resume. Other draws fold further numbers into it.
            key = tf.stack([tf.constant(cfg.seed, tf.int64), step])
            return tf.random.experimental.stateless_fold_in(
                key, tf.distribute.get_replica_context().replica_id_in_sync_group)

        def noise(n, key):
            if cfg.noise == "uniform":
                return tf.random.stateless_uniform([n, cfg.noise_dim], seed=key)
            return tf.random.stateless_normal([n, cfg.noise_dim], seed=key)

        def fake_labels(n, key):
            # the classes G is asked for: uniform, from the step's own key (so also reproducible)
            classes = tf.random.stateless_uniform([n], seed=tf.random.experimental.stateless_fold_in(key, 1),
                                                  minval=0, maxval=cfg.num_classes, dtype=tf.int32)
            return tf.one_hot(classes, cfg.num_classes)

        def mean(per_example):
            return tf.nn.compute_average_loss(tf.reshape(per_example, [-1]), global_batch_size=global_batch)

        conditional = cfg.num_classes > 0
        gan_step = self.make_gan_step(mean)
        extra = self.step_metrics()[len(METRICS):]

        def draw(batch, step):
            # the step's keyed random numbers, outside XLA (compile_steps): its key, z and G's classes
            n = tf.shape(batch[0] if conditional else batch)[0]
            key = step_key(step)
            if self.worker is not None:
                # several workers: z and classes are this replica's rows of what one process draws for the global
                # batch (its key is replica 0's), so N workers train on the same numbers as one process
                replica = tf.distribute.get_replica_context().replica_id_in_sync_group
                whole = tf.random.experimental.stateless_fold_in(tf.stack([tf.constant(cfg.seed, tf.int64), step]), 0)
                rows = tf.range(n) + replica * n
                return (key, tf.gather(noise(global_batch, whole), rows),
                        tf.gather(fake_labels(global_batch, whole), rows) if conditional else None)
            return key, noise(n, key), fake_labels(n, key) if conditional else None

        def replica_step(batch, step, key, z, fake_y):
            # a conditional run's batches are (images, one-hot labels); G and D then also take the label
            real, real_y = batch if conditional else (batch, None)
            n = tf.shape(real)[0]
            g_loss, d_loss, real_logits, fake_logits, logs = gan_step(real, real_y, z, fake_y, key, step)
            if ema is not None:
                ema.update(step)
            share = tf.cast(n, tf.float32) / global_batch  # so that a SUM over replicas is a mean
            return {"g_loss": g_loss, "d_loss": d_loss,
                    "d_real": tf.reduce_mean(tf.sigmoid(real_logits)) * share,
                    "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)) * share,
                    **{k: logs[k] for k in extra}}

        return self.compile_steps(replica_step, self.step_metrics(), draw)

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
        z = latent.z_from_seeds(latent.grid_seeds(PROBE_SEED, n), cfg.noise_dim, cfg.noise)
        fake_y = latent.labels_for(n, cfg.num_classes) if cfg.num_classes else None

        def d(images, labels):
            return np.asarray(self.D(images if labels is None else [images, labels], training=False), np.float32)

        fakes = np.asarray(self.G(z if fake_y is None else [z, fake_y], training=False), np.float32)
        view = evaluation.discriminator_view(d(real, real_y), d(fakes, fake_y), d(grid_images, grid_labels))
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
