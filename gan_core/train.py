"""The training loop: the seed's two-tape step under tf.function, in a tf.distribute strategy, writing a run dir.

Read top to bottom: build (models, optimizers, checkpoint) -> data -> the step -> the epoch loop. The loop knows
nothing of the app or the CLI: it reports to `progress(record)` and polls `should_stop()` once per
compiled call (one step unless steps_per_call says more).
"""
from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import shutil
import socket
import time
import traceback
from typing import Any, Callable

import numpy as np

from . import data as data_lib
from . import augment as augment_lib
from . import export, latent, models, objectives, preflight, speed
from .ema import WeightAverage, half_life_steps
from .config import TrainConfig
from .errors import GanError, ResourceError, first_line
from .runs import (Checkpoint, RunDir, atomic_write_bytes, atomic_write_json, clean_temp_files, epoch_file,
                   overwrite_in_place, read_json)

Progress = Callable[[dict[str, Any]], None]
KEEP_CHECKPOINTS = 2
METRICS = ("g_loss", "d_loss", "d_real", "d_fake")
QUICK_EVAL_N = {"digits": 2000, "faces": 500}  # eval_n = 0: enough to follow the trend, seconds not minutes


def train(run: RunDir, *, progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
          log: Callable[[str], None] | None = None, restart: bool = False) -> str:
    """Train (or resume) the run in `run` to its configured epochs. Returns the final state:
    'done', 'stopped' (asked to stop; resumable) or raises after marking the run 'failed'.

    A stop asked for before this process took the lock (Stop pressed while the run was 'starting') is kept and
    honoured before the first step; the trainer removes the STOP file only when it acts on it. `restart` moves
    everything trained so far aside (attempts/NN/) and starts at epoch 0."""
    cfg = run.config().validate()
    with run.lock():
        if restart:
            moved = run.move_attempt_aside()
            run.write_status(state="starting", epoch=0, step=0, error=None, traceback=None)
            run.log_metrics({"kind": "event", "level": "info",
                             "message": f"restarted from epoch 0; the previous attempt is in {moved.relative_to(run.path)}"})
        run.write_status(state="running", pid=os.getpid(), host=socket.gethostname(), error=None, traceback=None,
                         started_at=time.time(), finished_at=None)
        try:
            state = trainer_for(cfg)(cfg, run, progress=progress, should_stop=should_stop, log=log).fit()
        except BaseException as exc:
            message = failure_message(exc, run)
            record_failure(run, message, None if isinstance(exc, GanError) else traceback.format_exc(limit=8))
            if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
                raise ResourceError(message) from exc
            if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":  # TensorFlow's OOM
                raise ResourceError(f"out of memory while training: {first_line(exc, 200)}; lower the batch size "
                                    "or the model's size") from exc
            raise
        run.write_status(state=state, finished_at=time.time())
        return state


def record_failure(run: RunDir, message: str, trace: str | None) -> None:
    """Mark the run failed with its error. On a full disk the atomic write (a new file) may be refused: then
    rewrite status.json's existing blocks in place, so the app still shows why the trainer died."""
    try:
        run.write_status(state="failed", error=message, finished_at=time.time(), traceback=trace)
    except OSError:
        status = read_json(run.status_path, {})
        status = status if isinstance(status, dict) else {}
        status.update(state="failed", error=message, finished_at=time.time(), updated_at=time.time())
        with contextlib.suppress(OSError):
            overwrite_in_place(run.status_path, json.dumps(status, sort_keys=True).encode())
    with contextlib.suppress(OSError):
        run.log_metrics({"kind": "event", "level": "error", "message": message})


_DISK_ERRORS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT)


def trainer_for(cfg: TrainConfig) -> type["Trainer"]:
    """The latent GANs' Trainer, or an image-to-image one (same loop and run folder, other models and step)."""
    if cfg.task == "noise":
        return Trainer
    from . import translation

    return translation.TRAINERS[cfg.task]


def failure_message(exc: BaseException, run: RunDir) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted before a checkpoint (resume continues from the last one)"
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
        return (f"cannot write {exc.filename or run.path}: {exc.strerror}; free disk space or make the runs "
                "folder writable, then resume (the last good checkpoint is kept)")
    if isinstance(exc, GanError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def make_strategy(name: str):
    import tensorflow as tf

    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    return tf.distribute.get_strategy()


def describe_devices() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        return f"{len(gpus)} GPU: " + ", ".join(names)
    return f"CPU ({os.cpu_count()} cores)"


class Trainer:
    def __init__(self, cfg: TrainConfig, run: RunDir, *, progress: Progress | None = None,
                 should_stop: Callable[[], bool] | None = None, log: Callable[[str], None] | None = None):
        self.cfg, self.run = cfg, run
        self.progress = progress or (lambda record: None)
        self.should_stop = should_stop or (lambda: False)
        self._log = log or (lambda message: None)

    def log(self, message: str) -> None:
        self._log(message)
        self.run.log_metrics({"kind": "event", "level": "info", "message": message})

    # --- build -----------------------------------------------------------------------------------
    def build(self) -> None:
        import keras
        import tensorflow as tf

        cfg = self.cfg
        preflight.check_memory(cfg)  # before a weight is allocated: a run too big for memory fails with the reason
        threads = speed.apply_threads(cfg.threads, cfg.inter_op_threads)  # before TensorFlow's first op
        if threads:
            self.log(threads)
        reason = speed.resolve_config(cfg)  # "auto" in a config saved without create_run (by hand, or older)
        if reason:
            self.run.write_config(cfg)
            self.log(reason)
        keras.utils.set_random_seed(cfg.seed)
        self.strategy = make_strategy(cfg.strategy)
        arch = models.get(cfg.architecture)
        previous_policy = keras.mixed_precision.dtype_policy()
        keras.mixed_precision.set_dtype_policy(cfg.precision)
        try:
            with self.strategy.scope():
                self.held = self.build_models(arch)
                self.ckpt = tf.train.Checkpoint(**self.held)
        finally:
            keras.mixed_precision.set_dtype_policy(previous_policy)
        self.epoch, self.step = 0, 0
        found = self.resume_point()
        if found is not None:
            self.restore(found)
            self.log(f"resumed from {found.name}: epoch {self.epoch}, step {self.step}")

    def resume_point(self) -> Checkpoint | None:
        """The newest checkpoint on disk that reads back whole; None for a fresh run. Every skipped one is named in
        the log; with none readable past the first checkpoint interval, refuse (never train over trained epochs)."""
        import tensorflow as tf

        found, notes = self.run.checkpoints()
        readable = None
        for candidate in found:
            try:
                reader = tf.train.load_checkpoint(str(candidate.path))
                for name in reader.get_variable_to_shape_map():
                    reader.get_tensor(name)  # reads every byte: a truncated data file fails here, not mid-restore
            except (tf.errors.OpError, ValueError, IndexError, OSError, RuntimeError) as exc:
                notes.append(f"checkpoints/{candidate.name} does not read back ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:120] if str(exc) else 'no message'})")
                continue
            readable = candidate
            break
        for note in notes:
            self.log(f"checkpoint skipped: {note}")
        if readable is None:
            self.run.refuse_start_over([], notes, self.cfg.checkpoint_every)
        elif readable is not found[0] or notes:
            self.log(f"resuming from {readable.name}, the newest checkpoint that reads back")
        return readable

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
            import keras

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

    def make_optimizer(self, learning_rate: float, variables):
        import keras

        cfg = self.cfg
        opt = keras.optimizers.Adam(learning_rate, beta_1=cfg.beta_1, beta_2=cfg.beta_2)
        if cfg.precision == "mixed_float16":
            opt = keras.optimizers.LossScaleOptimizer(opt)
        # Keras 3 optimizers create their slots lazily; inside a strategy that must happen in scope.
        opt.build(variables)
        return opt

    def load_data(self):
        cfg = self.cfg
        images, report = data_lib.load_images(
            cfg.dataset, path=cfg.data, image_size=cfg.image_size, channels=cfg.channels,
            pixel_range=cfg.pixel_range, limit=cfg.limit, log=self.log)
        labels = self.load_labels(len(images)) if cfg.num_classes else None
        self.n_images = len(images)
        self.steps_per_epoch = self.n_images // cfg.batch_size
        dataset = data_lib.make_dataset(images, cfg.batch_size, seed=cfg.seed + self.epoch, labels=labels)
        self.log(f"data: {report.n_images} images from {cfg.dataset} ({report.path or 'standard location'}), "
                 f"{report.n_skipped} skipped, {self.steps_per_epoch} steps of {cfg.batch_size} per epoch")
        return self.strategy.experimental_distribute_dataset(dataset)

    def load_labels(self, n_images: int) -> np.ndarray:
        """One-hot training labels, in the same order as the images (both are the file's first n)."""
        from .evaluators import load_labelled

        cfg = self.cfg
        _, labels = load_labelled(cfg.dataset, "train", cfg.data, limit=cfg.limit)
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

    # --- the step ------------------------------------------------------------------------------------
    def make_gan_step(self, mean: Callable):
        """The GAN algorithm on one replica's batch, the seed's two-tape step with a swappable objective:
        noise -> G -> D on real and fake (through DiffAugment, if on) -> objective (+ D's penalty) -> two updates.
        `mean` reduces per-example losses (the replica's share of the global batch's mean); noise, keys and labels
        come from the caller."""
        import tensorflow as tf

        cfg, G, D, g_opt, d_opt = self.cfg, self.G, self.D, self.g_opt, self.d_opt
        objective = objectives.get(cfg.loss)
        penalty = objectives.make_penalty(objective, gp_weight=cfg.gp_weight, r1_gamma=cfg.r1_gamma,
                                          r1_every=cfg.r1_every)

        def with_label(x, y):  # a conditional G or D also takes the one-hot class
            return [x, y] if cfg.num_classes else x

        def scaled(opt, loss):  # float16's loss scaling (bfloat16 and float32 need none)
            return opt.scale_loss(loss) if cfg.precision == "mixed_float16" else loss

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

        def gan_step(real, real_y, z, fake_y, key, step):
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = tf.cast(G(with_label(z, fake_y), training=True), real.dtype)
                real_logits, fake_logits = discriminate(real, real_y, fake, fake_y, key)
                g_loss, d_loss, logs = objective(real_logits, fake_logits, mean=mean, real_label=cfg.real_label)
                if penalty is not None:
                    with g_tape.stop_recording():
                        logs["d_penalty"] = penalty(critic(key, real_y), real, fake, fold(key, 4), step, mean)
                    d_loss += logs["d_penalty"]
            g_grads = g_tape.gradient(scaled(g_opt, g_loss), G.trainable_variables)
            d_grads = d_tape.gradient(scaled(d_opt, d_loss), D.trainable_variables)
            g_opt.apply_gradients(zip(g_grads, G.trainable_variables))
            d_opt.apply_gradients(zip(d_grads, D.trainable_variables))
            return g_loss, d_loss, real_logits, fake_logits, logs

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
        import tensorflow as tf

        cfg, ema = self.cfg, self.ema
        global_batch = cfg.batch_size
        jit, jit_reason = speed.resolve_jit(cfg.jit_compile, on_gpu=bool(tf.config.list_logical_devices("GPU")))
        self.log(f"speed: precision {cfg.precision}, {jit_reason}, steps_per_call {cfg.steps_per_call}"
                 + (f" (a call never spans a metrics window: at most log_every={cfg.log_every} steps)"
                    if cfg.steps_per_call > cfg.log_every else ""))

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

        def replica_step(batch, step):
            # a conditional run's batches are (images, one-hot labels); G and D then also take the label
            real, real_y = batch if conditional else (batch, None)
            n = tf.shape(real)[0]
            key = step_key(step)
            fake_y = fake_labels(n, key) if conditional else None
            g_loss, d_loss, real_logits, fake_logits, logs = gan_step(real, real_y, noise(n, key), fake_y, key, step)
            if ema is not None:
                ema.update(step)
            share = tf.cast(n, tf.float32) / global_batch  # so that a SUM over replicas is a mean
            return {"g_loss": g_loss, "d_loss": d_loss,
                    "d_real": tf.reduce_mean(tf.sigmoid(real_logits)) * share,
                    "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)) * share,
                    **{k: logs[k] for k in extra}}

        return self.compile_steps(tf.function(replica_step, jit_compile=True) if jit else replica_step,
                                  self.step_metrics())

    def compile_steps(self, one_step: Callable, keys: tuple[str, ...]):
        """`train_steps(iterator, n, first_step)`: n calls of `one_step(batch, step)` on each replica in one
        compiled call, each metric summed over replicas (a step reports its replica's share of the mean)."""
        import tensorflow as tf

        strategy = self.strategy

        def total(value):
            return tf.cast(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None), tf.float32)

        @tf.function
        def train_steps(iterator, n, first_step):
            per_step = {k: tf.TensorArray(tf.float32, size=n) for k in keys}
            for j in tf.range(n):
                out = strategy.run(one_step, args=(next(iterator), first_step + tf.cast(j, tf.int64)))
                per_step = {k: values.write(j, total(out[k])) for k, values in per_step.items()}
            return {k: values.stack() for k, values in per_step.items()}

        return train_steps

    # --- outputs -------------------------------------------------------------------------------------
    def snapshot(self, epoch: int) -> None:
        import tensorflow as tf

        labels = self.fixed_labels()
        inputs = self._fixed_z if labels is None else [self._fixed_z, labels]
        images = np.asarray(self.sampler(inputs, training=False), np.float32)
        if not np.all(np.isfinite(images)):
            raise GanError(f"the generator produced NaN/Inf images at epoch {epoch}; lower the learning rates "
                           "(--set g_lr=...) and resume from the last checkpoint")
        picture = export.grid(export.to_uint8(images, self.cfg.pixel_range), self.cfg.grid, self.cfg.grid)
        export.save_png(self.run.sample_path(epoch), picture)
        with self.tb.as_default():
            tf.summary.image("samples", picture[None].astype(np.float32) / 255.0, step=self.step)

    def evaluate_quality(self, epoch: int) -> None:
        """Score this epoch's generator into quality.jsonl, where the Snapshots page draws the quality curve. A
        metric that cannot run here (no evaluator, no test split) is a warning in the log: it never stops the
        training."""
        from . import metrics

        start = time.perf_counter()
        try:
            result = self.measure_quality(epoch)
        except (GanError, OSError, ValueError) as exc:
            self.run.log_metrics({"kind": "event", "level": "warning",
                                  "message": f"quality at epoch {epoch} not measured: {exc}"})
            return
        result["epoch"] = epoch
        metrics.append_quality(self.run, result)
        self.log(f"quality at epoch {epoch} (n={result['n']}, {time.perf_counter() - start:.0f} s): "
                 + metrics.summary_line(result))

    def measure_quality(self, epoch: int) -> dict[str, Any]:
        """classifier-FID/score/coverage for digits, SWD for faces, at the quick n unless eval_n says."""
        from . import metrics
        from .generator import Generator

        cfg = self.cfg
        n = cfg.eval_n or QUICK_EVAL_N[metrics.data_kind(cfg.dataset)]
        generator = Generator(self.sampler, cfg.noise_dim, cfg.noise, cfg.pixel_range, source=f"epoch {epoch}",
                              num_classes=cfg.num_classes)
        return metrics.evaluate(generator, cfg.dataset, cfg.data, n=n, epoch=epoch, log=lambda m: None)

    def save_generator(self, epoch: int) -> None:
        folder = self.run.generators_dir
        folder.mkdir(exist_ok=True)
        name = epoch_file(epoch, "keras")
        tmp = folder / f".tmp-{os.getpid()}-{name}"  # Keras insists on the .keras ending; readers skip '.tmp-'
        self.sampler.save(tmp)
        os.replace(tmp, folder / name)

    def checkpoint(self) -> None:
        """Write to a temporary folder, rename it, then point latest.json at it: a kill at any moment leaves
        the previous checkpoint intact."""
        root = self.run.checkpoints_dir
        root.mkdir(exist_ok=True)
        name = f"step_{self.step:08d}"
        tmp = root / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        self.ckpt.write(str(tmp / "ckpt"))
        # its own record of where it stands, inside the folder, so a lost latest.json loses nothing
        atomic_write_json(tmp / "meta.json", {"epoch": self.epoch, "step": self.step, "time": time.time()})
        final = root / name
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        atomic_write_json(root / "latest.json", {"dir": name, "epoch": self.epoch, "step": self.step,
                                                 "time": time.time()})
        kept = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step_"))
        for old in kept[:-KEEP_CHECKPOINTS]:
            shutil.rmtree(old, ignore_errors=True)

    def clean_temp_files(self) -> None:
        """Before writing anything: remove what killed or out-of-disk saves of an earlier trainer left behind."""
        removed = clean_temp_files(self.run)
        if removed:
            names = ", ".join(str(p.relative_to(self.run.path)) for p in removed[:5])
            self.log(f"removed {len(removed)} temporary file(s) left by an earlier trainer: {names}"
                     + (", ..." if len(removed) > 5 else ""))

    # --- the loop ------------------------------------------------------------------------------------
    def fit(self) -> str:
        import tensorflow as tf

        cfg, run = self.cfg, self.run
        self.clean_temp_files()
        self.build()
        self.dataset = self.load_data()
        self.fixed_inputs()
        self.tb = tf.summary.create_file_writer(str(run.tb_dir))
        self.train_step = self.make_train_step()
        self.total_steps = cfg.epochs * self.steps_per_epoch
        run.write_status(epoch=self.epoch, epochs=cfg.epochs, step=self.step, steps_per_epoch=self.steps_per_epoch,
                         total_steps=self.total_steps, device=describe_devices(), n_images=self.n_images,
                         batch_size=cfg.batch_size)
        if self.step == 0 and not run.sample_path(0).exists():
            self.snapshot(0)  # what the untrained generator makes: the GIF's first frame
        if run.stop_requested():  # Stop pressed while the run was still starting
            return self.stop_now(self.epoch + 1)
        rollbacks = 0
        while True:
            try:
                return self.run_epochs()
            except Diverged as exc:
                found, _ = run.checkpoints()
                latest = found[0] if found else None
                if rollbacks >= cfg.nan_retries or latest is None:
                    where = "no checkpoint to roll back to" if latest is None else f"{rollbacks} roll-backs"
                    raise GanError(f"{exc} ({where}); lower the learning rates (--set g_lr=... d_lr=...) "
                                   "and resume") from None
                rollbacks += 1
                self.restore(latest)
                for opt in (self.g_opt, self.d_opt):
                    opt.learning_rate.assign(opt.learning_rate * cfg.nan_lr_scale)
                self.log(f"{exc}; rolled back to {latest.name} (epoch {self.epoch}, step {self.step}) with "
                         f"learning rates x{cfg.nan_lr_scale} (roll-back {rollbacks} of {cfg.nan_retries})")

    def stop_now(self, epoch: int) -> str:
        """Checkpoint where we are, then consume the stop request (a later resume must not stop at once)."""
        self.checkpoint()
        with contextlib.suppress(FileNotFoundError):
            self.run.stop_path.unlink()
        self.log(f"stopped at epoch {epoch}, step {self.step}; resume to continue")
        return "stopped"

    def restore(self, found: Checkpoint) -> None:
        import tensorflow as tf

        held = self.held
        saved = {name.split("/", 1)[0] for name, _ in tf.train.list_variables(str(found.path))}
        late = [name for name in ("generator_ema",) if name in held and name not in saved]
        with self.strategy.scope():
            reader = tf.train.Checkpoint(**{k: v for k, v in held.items() if k not in late}) if late else self.ckpt
            reader.read(str(found.path)).assert_existing_objects_matched()
        if late:  # EMA switched on for a run whose checkpoints predate it: start the average from the restored G
            self.ema.copy_from_source()
            self.log("the checkpoint has no EMA of G yet: the average starts from the restored generator")
        self.step = found.step
        if found.epoch is not None:
            self.epoch = found.epoch
        else:  # an old checkpoint with no record of its epoch: the run's fixed steps per epoch tell it
            per_epoch = read_json(self.run.status_path, {}).get("steps_per_epoch")
            self.epoch = found.step // per_epoch if isinstance(per_epoch, int) and per_epoch > 0 else 0

    def run_epochs(self) -> str:
        import tensorflow as tf

        cfg, run, total_steps = self.cfg, self.run, self.total_steps
        seconds_per_step: float | None = None
        while self.epoch < cfg.epochs:
            epoch = self.epoch + 1
            done_in_epoch = self.step - self.epoch * self.steps_per_epoch
            epoch_start, epoch_values = time.perf_counter(), []
            window, window_steps, window_start = [], 0, time.perf_counter()
            batches = iter(self.dataset)
            i = done_in_epoch  # steps done in this epoch
            while i < self.steps_per_epoch:
                # A call never crosses a metrics window or the epoch's end, so both stay exactly where k=1 puts them.
                n = min(cfg.steps_per_call, cfg.log_every - window_steps, self.steps_per_epoch - i)
                window.append(self.train_step(batches, tf.constant(n, tf.int32), tf.constant(self.step, tf.int64)))
                window_steps += n
                self.step += n
                i += n
                last_in_epoch = i == self.steps_per_epoch
                stop = self.should_stop() or run.stop_requested()
                if window_steps >= cfg.log_every or last_in_epoch or stop:
                    # the one host sync of a window: its steps' metrics, read back together
                    values = {k: float(np.mean(np.concatenate([np.reshape(w[k].numpy(), [-1]) for w in window])))
                              for k in window[0]}
                    if not all(math.isfinite(v) for v in values.values()):
                        raise Diverged(f"training diverged: a loss became NaN/Inf by step {self.step} (epoch {epoch})")
                    elapsed = time.perf_counter() - window_start
                    sps = elapsed / window_steps
                    seconds_per_step = sps if seconds_per_step is None else 0.7 * seconds_per_step + 0.3 * sps
                    record = {"kind": "window", "epoch": epoch, "step": self.step,
                              "step_in_epoch": i, "steps_per_epoch": self.steps_per_epoch,
                              **{k: round(v, 5) for k, v in values.items()},
                              "images_per_sec": round(window_steps * cfg.batch_size / elapsed, 1)}
                    run.log_metrics(record)
                    with self.tb.as_default():
                        for k, v in values.items():
                            tf.summary.scalar(k, v, step=self.step)
                    eta = seconds_per_step * (total_steps - self.step)
                    run.write_status(epoch=self.epoch, step=self.step, images_per_sec=record["images_per_sec"],
                                     eta_s=round(eta, 1), g_loss=record["g_loss"], d_loss=record["d_loss"])
                    self.progress({**record, "epochs": cfg.epochs, "total_steps": total_steps, "eta_s": eta})
                    epoch_values.append((window_steps, values))
                    window, window_steps, window_start = [], 0, time.perf_counter()
                if stop:
                    return self.stop_now(epoch)

            self.epoch = epoch
            seconds = time.perf_counter() - epoch_start
            weights = sum(n for n, _ in epoch_values)
            means = {k: round(sum(n * v[k] for n, v in epoch_values) / weights, 5) for k in epoch_values[0][1]}
            run.log_metrics({"kind": "epoch", "epoch": epoch, "step": self.step, **means,
                             "seconds": round(seconds, 2),
                             "images_per_sec": round((self.steps_per_epoch - done_in_epoch) * cfg.batch_size / seconds, 1)})
            last = epoch == cfg.epochs
            if epoch % cfg.snapshot_every == 0 or last:
                self.snapshot(epoch)
            if epoch % cfg.generator_every == 0 or last:
                self.save_generator(epoch)
            if epoch % cfg.checkpoint_every == 0 or last:
                self.checkpoint()
            if cfg.eval_every and (epoch % cfg.eval_every == 0 or last):
                self.evaluate_quality(epoch)
            run.write_status(epoch=self.epoch, step=self.step)
            self.progress({"kind": "epoch", "epoch": epoch, "epochs": cfg.epochs, "step": self.step,
                           "seconds": seconds, **means})
            self.tb.flush()
        return "done"


class Diverged(Exception):
    """A non-finite loss: the trainer rolls back to its last checkpoint rather than keep writing NaN."""
