"""The training loop every task shares, in a tf.distribute strategy, writing the run directory.

Read top to bottom: run_training (lock, status, failure) -> Trainer: the hooks a task fills in -> build (strategy,
precision, checkpoint, resume) -> compiled steps -> outputs (grids, generators; checkpoints in
:mod:`.checkpointing`) -> the epoch loop (its metrics windows: :mod:`.metrics_window`).
The loop knows nothing of the app or the CLI: it reports to `progress(record)` and polls `should_stop()` once per
compiled call (one step unless steps_per_call says more). The GAN algorithms are the tasks' trainers.
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Any, Callable

import numpy as np

from .. import devices, evaluation, models, preflight
from ..config import TrainConfig
from ..devices import MULTIWORKER, cluster_worker, describe_devices, make_strategy
from ..errors import ClusterError, GanError
from ..files import pictures
from ..runs import RunDir, append_quality
from ..runs.temp_files import clean_temp_files
from . import execution, workers
from .checkpointing import Checkpointing
from .execution import Progress
from .metrics_window import Window


class Trainer(Checkpointing):
    """The loop every task shares: build, resume, epochs of compiled steps, snapshots, checkpoints, roll-backs.

    A task's trainer (:mod:`.latent_gan`, :mod:`.pix2pix_step`, :mod:`.cyclegan_step`) fills in the hooks below; the
    loop makes no assumption of how many networks it trains."""

    d_reading = "probability"  # what its d_real / d_fake mean (algorithm.objectives.READINGS), in each window record

    def __init__(self, cfg: TrainConfig, run: RunDir, *, progress: Progress | None = None,
                 should_stop: Callable[[], bool] | None = None, log: Callable[[str], None] | None = None):
        self.cfg, self.run = cfg, run
        self.progress = progress or (lambda record: None)
        self.should_stop = should_stop or (lambda: False)
        self._log = log or (lambda message: None)
        # multiworker: this process's place in TF_CONFIG's cluster; it writes `run` (the chief's run folder, or a
        # non-chief's scratch folder that its session removes) and takes resume points and weights from the chief
        self.worker = cluster_worker() if cfg.strategy == MULTIWORKER else None

    def log(self, message: str) -> None:
        self._log(message)
        self.run.log_metrics({"kind": "event", "level": "info", "message": message})

    # --- what each task's trainer provides -------------------------------------------------------------
    def build_models(self, arch: models.Architecture) -> dict[str, Any]:
        """Build the networks and optimizers (in the strategy's scope); return what the checkpoint holds."""
        raise NotImplementedError

    def optimizers(self) -> list[Any]:
        """Every optimizer, so a roll-back after NaN can lower all their learning rates."""
        raise NotImplementedError

    def load_data(self) -> Any:
        """The training batches (a tf.data.Dataset); sets n_images and steps_per_epoch."""
        raise NotImplementedError

    def fixed_inputs(self) -> None:
        """What every snapshot grid is drawn from, the same each epoch (fixed latents, held-out examples)."""
        raise NotImplementedError

    def make_train_step(self) -> Callable:
        """`train_steps(iterator, n, first_step)` returning each step's metrics (see :meth:`compile_steps`)."""
        raise NotImplementedError

    def snapshot(self, epoch: int) -> None:
        """Draw this epoch's grid from the fixed inputs (with :meth:`save_picture`)."""
        raise NotImplementedError

    def saved_generators(self) -> dict[str, Any]:
        """The generators saved each generator_every epochs, by direction ("AtoB", and "BtoA" for a CycleGAN)."""
        raise NotImplementedError

    def measure_quality(self, epoch: int) -> dict[str, Any]:
        """This epoch's quality figures (see gan_core.evaluation), for quality.jsonl."""
        raise NotImplementedError

    # --- build -----------------------------------------------------------------------------------
    def build(self) -> None:
        import keras
        import tensorflow as tf

        cfg = self.cfg
        preflight.check_memory(cfg)  # before a weight is allocated: a run too big for memory fails with the reason
        threads = devices.apply_threads(cfg.threads, cfg.inter_op_threads)  # before TensorFlow's first op
        if threads:
            self.log(threads)
        placed = devices.place_trainer(cfg.device)  # before TensorFlow initialises its GPUs, as memory growth
        if placed:
            self.log(placed)
        notes = devices.configure("trainer")  # memory growth: the app may share this GPU
        if notes != [devices.NO_GPU]:
            for note in notes:
                self.log(note)
        reason = devices.resolve_config(cfg)  # "auto" in a config saved without create_run (by hand, or older)
        if reason:
            self.run.write_config(cfg)
            self.log(reason)
        keras.utils.set_random_seed(cfg.seed)
        self.strategy = make_strategy(cfg.strategy)
        replicas = self.strategy.num_replicas_in_sync
        if self.worker is not None and cfg.batch_size % replicas:
            raise ClusterError(f"batch_size {cfg.batch_size} does not split evenly over the cluster's {replicas} "
                               f"replicas: make it a multiple of {replicas}")
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
        found = self.chief_checkpoint(self.resume_point())
        if found is not None:
            self.restore(found)
            self.log(f"resumed from {found.name}: epoch {self.epoch}, step {self.step}")

    def make_optimizer(self, learning_rate: float, variables):
        import keras

        cfg = self.cfg
        clip = {"global_clipnorm": cfg.clip_norm} if cfg.clip_norm else {}  # one network's gradients, together
        opt = keras.optimizers.Adam(learning_rate, beta_1=cfg.beta_1, beta_2=cfg.beta_2, **clip)
        if cfg.precision == "mixed_float16":
            opt = keras.optimizers.LossScaleOptimizer(opt)
        # Keras 3 optimizers create their slots lazily; inside a strategy that must happen in scope.
        opt.build(variables)
        return opt


    # --- steps -----------------------------------------------------------------------------------------

    def compile_steps(self, one_step: Callable, keys: tuple[str, ...], draw: Callable | None = None):
        """`train_steps(iterator, n, first_step)`: n calls of `one_step(batch, step, *draw(batch, step))` on each
        replica in one compiled call (see :func:`.execution.compile_steps`), XLA-compiled where the config's
        jit_compile resolves to on (devices.resolve_jit)."""
        import tensorflow as tf

        cfg = self.cfg
        jit, jit_reason = devices.resolve_jit(cfg.jit_compile, on_gpu=bool(tf.config.list_logical_devices("GPU")))
        self.log(f"speed: precision {cfg.precision}, {jit_reason}, steps_per_call {cfg.steps_per_call}"
                 + (f" (a call never spans a metrics window: at most log_every={cfg.log_every} steps)"
                    if cfg.steps_per_call > cfg.log_every else ""))
        return execution.compile_steps(self.strategy, one_step, keys, draw, jit)

    # --- outputs -------------------------------------------------------------------------------------

    def evaluate_quality(self, epoch: int) -> None:
        """Score this epoch's generator into quality.jsonl, where the Snapshots page draws the quality curve. A
        metric that cannot run here (no evaluator, no test split) is a warning in the log: it never stops the
        training."""
        start = time.perf_counter()
        try:
            result = self.measure_quality(epoch)
        except (GanError, OSError, ValueError) as exc:
            self.run.log_metrics({"kind": "event", "level": "warning",
                                  "message": f"quality at epoch {epoch} not measured: {exc}"})
            return
        result["epoch"] = epoch
        append_quality(self.run, result)
        self.log(f"quality at epoch {epoch} (n={result['n']}, {time.perf_counter() - start:.0f} s): "
                 + evaluation.summary_line(result))

    def save_generator(self, epoch: int) -> None:
        """generators/epoch_NNNN[.ba].keras for each of saved_generators(), A -> B last: its file is what makes
        the epoch appear to readers, so they never find one direction without the other."""
        self.run.generators_dir.mkdir(exist_ok=True)
        for direction, model in reversed(list(self.saved_generators().items())):
            final = self.run.generator_file(epoch, direction)
            tmp = final.with_name(f".tmp-{os.getpid()}-{final.name}")  # Keras wants the .keras ending; readers skip it
            model.save(tmp)
            os.replace(tmp, final)

    def save_picture(self, epoch: int, picture: np.ndarray) -> None:
        """One epoch's snapshot grid: samples/epoch_NNNN.png and TensorBoard's image."""
        import tensorflow as tf

        pictures.save_png(self.run.sample_path(epoch), picture)
        with self.tb.as_default():
            tf.summary.image("samples", picture[None].astype(np.float32) / 255.0, step=self.step)

    def check_finite(self, images: np.ndarray, epoch: int) -> None:
        if not np.all(np.isfinite(images)):
            raise GanError(f"the generator produced NaN/Inf images at epoch {epoch}; lower the learning rates "
                           "(--set g_lr=...) and resume from the last checkpoint")

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
                         total_steps=self.total_steps, device=describe_devices(self.worker), n_images=self.n_images,
                         batch_size=cfg.batch_size)
        if self.step == 0 and not run.sample_path(0).exists():
            self.snapshot(0)  # what the untrained generator makes: the GIF's first frame
        if self.stop_wanted(run.stop_requested()):  # Stop pressed while the run was still starting
            return self.stop_now(self.epoch + 1)
        rollbacks = 0
        while True:
            try:
                return self.run_epochs()
            except Diverged as exc:
                found, _ = run.checkpoints()
                latest = self.chief_checkpoint(found[0] if found else None)
                if rollbacks >= cfg.nan_retries or latest is None:
                    where = "no checkpoint to roll back to" if latest is None else f"{rollbacks} roll-backs"
                    raise GanError(f"{exc} ({where}); lower the learning rates (--set g_lr=... d_lr=...) "
                                   "and resume") from None
                rollbacks += 1
                self.restore(latest)
                for opt in self.optimizers():
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

    def stop_wanted(self, asked: bool) -> bool:
        """Whether to stop now: `asked` here; with several workers, asked on any of them, so all stop together."""
        return asked if self.worker is None else workers.anyone(self.strategy, asked)

    def distribute(self, dataset):
        """`dataset`'s global batches as the replicas' shares. With several workers, each runs the same pipeline
        (same seed, same order) and keeps its replicas' consecutive slices of every global batch, so N workers train
        on exactly the batches one process would (replica r holds rows r*b .. r*b + b - 1, b = batch / replicas)."""
        import tensorflow as tf

        strategy = self.strategy
        if self.worker is None:
            return strategy.experimental_distribute_dataset(dataset)
        per_replica = self.cfg.batch_size // strategy.num_replicas_in_sync
        local = strategy.num_replicas_in_sync // self.worker.count  # replicas on this worker (its GPUs, or 1)
        start = self.worker.index * local * per_replica

        def mine(*parts):
            sliced = tuple(tf.reshape(t[start:start + local * per_replica], [local, per_replica, *t.shape[1:]])
                           for t in parts)
            return sliced if len(sliced) > 1 else sliced[0]

        def per_worker(context):
            return dataset.map(mine).unbatch()  # one replica's batch per element, this worker's replicas in turn

        return strategy.distribute_datasets_from_function(per_worker)

    def run_epochs(self) -> str:
        import tensorflow as tf

        cfg, run = self.cfg, self.run
        self.seconds_per_step = None  # the ETA's smoothed pace, measured afresh after a roll-back
        while self.epoch < cfg.epochs:
            epoch = self.epoch + 1
            done_in_epoch = self.step - self.epoch * self.steps_per_epoch
            epoch_start, epoch_values, step_seconds = time.perf_counter(), [], 0.0
            window = Window()
            batches = iter(self.dataset)
            i = done_in_epoch  # steps done in this epoch
            while i < self.steps_per_epoch:
                # A call never crosses a metrics window or the epoch's end, so both stay exactly where k=1 puts them.
                n = min(cfg.steps_per_call, cfg.log_every - window.steps, self.steps_per_epoch - i)
                called = time.perf_counter()
                outputs = self.train_step(batches, tf.constant(n, tf.int32), tf.constant(self.step, tf.int64))
                call_seconds = time.perf_counter() - called  # the call returns when its steps are done (eager is sync)
                step_seconds += call_seconds
                window.add(outputs, n, call_seconds)
                self.step += n
                i += n
                stop = self.stop_wanted(self.should_stop() or run.stop_requested())
                if window.steps >= cfg.log_every or i == self.steps_per_epoch or stop:
                    epoch_values.append((window.steps, self.close_window(window, epoch, i)))
                    window = Window()
                if stop:
                    return self.stop_now(epoch)
            self.epoch = epoch
            self.end_epoch(epoch, time.perf_counter() - epoch_start, epoch_values, step_seconds, done_in_epoch)
        return "done"

    def close_window(self, window: Window, epoch: int, i: int) -> dict[str, float]:
        """A window's means (Diverged if one is not finite) into metrics.jsonl, TensorBoard, status.json with the
        ETA, and `progress`; `i` is the steps done in this epoch."""
        import tensorflow as tf

        cfg, run, total_steps = self.cfg, self.run, self.total_steps
        values = window.means()
        if not all(math.isfinite(v) for v in values.values()):
            raise Diverged(f"training diverged: a loss became NaN/Inf by step {self.step} (epoch {epoch})")
        elapsed = time.perf_counter() - window.start
        sps = elapsed / window.steps
        self.seconds_per_step = sps if self.seconds_per_step is None else 0.7 * self.seconds_per_step + 0.3 * sps
        record = {"kind": "window", "epoch": epoch, "step": self.step,
                  "step_in_epoch": i, "steps_per_epoch": self.steps_per_epoch,
                  **{k: round(v, 5) for k, v in values.items()}, "d_reading": self.d_reading,
                  "images_per_sec": round(window.steps * cfg.batch_size / elapsed, 1),
                  "step_ms": window.ms}  # each step's time: the step time's distribution
        run.log_metrics(record)
        with self.tb.as_default():
            for k, v in values.items():
                tf.summary.scalar(k, v, step=self.step)
        eta = self.seconds_per_step * (total_steps - self.step)
        run.write_status(epoch=self.epoch, step=self.step, images_per_sec=record["images_per_sec"],
                         eta_s=round(eta, 1), g_loss=record["g_loss"], d_loss=record["d_loss"])
        self.progress({**record, "epochs": cfg.epochs, "total_steps": total_steps, "eta_s": eta})
        return values

    def end_epoch(self, epoch: int, seconds: float, epoch_values: list[tuple[int, dict[str, float]]],
                  step_seconds: float, done_in_epoch: int) -> None:
        """The epoch's record (its windows' means, weighted by their steps), then its due side work (snapshot,
        generator, checkpoint, quality), each part timed into a "side_work" record, then status and `progress`."""
        cfg, run = self.cfg, self.run
        weights = sum(n for n, _ in epoch_values)
        means = {k: round(sum(n * v[k] for n, v in epoch_values) / weights, 5) for k in epoch_values[0][1]}
        images = (self.steps_per_epoch - done_in_epoch) * cfg.batch_size
        # `step_seconds` is the steps' own time; the rest of `seconds`, the windows' host syncs and records
        run.log_metrics({"kind": "epoch", "epoch": epoch, "step": self.step, **means,
                         "seconds": round(seconds, 2), "images_per_sec": round(images / seconds, 1),
                         "step_seconds": round(step_seconds, 2),
                         "train_images_per_sec": round(images / step_seconds, 1) if step_seconds else None})
        last = epoch == cfg.epochs
        side = {"snapshot": (epoch % cfg.snapshot_every == 0 or last, self.snapshot),
                "generator": (epoch % cfg.generator_every == 0 or last, self.save_generator),
                "checkpoint": (epoch % cfg.checkpoint_every == 0 or last, lambda epoch: self.checkpoint()),
                "quality": (bool(cfg.eval_every) and (epoch % cfg.eval_every == 0 or last),
                            self.evaluate_quality)}
        side_seconds = {}
        for name, (due, work) in side.items():
            if due:
                started = time.perf_counter()
                work(epoch)
                side_seconds[name] = round(time.perf_counter() - started, 3)
        run.log_metrics({"kind": "side_work", "epoch": epoch, "step": self.step, "seconds": side_seconds})
        run.write_status(epoch=self.epoch, step=self.step)
        self.progress({"kind": "epoch", "epoch": epoch, "epochs": cfg.epochs, "step": self.step,
                       "seconds": seconds, **means})
        self.tb.flush()


class Diverged(Exception):
    """A non-finite loss: the trainer rolls back to its last checkpoint rather than keep writing NaN."""
