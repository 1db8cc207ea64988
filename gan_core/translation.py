"""Image-to-image training in the same loop and run folder as the latent GANs: Pix2Pix (paired) and CycleGAN
(unpaired).

The trainers here subclass :class:`gan_core.train.Trainer` and replace only what differs: the models, the data
(pairs, or two domains, each with held-out images), the step, the snapshot grid (input | output | target rows of
fixed held-out images instead of fixed latents) and the quality figures. Epochs, metrics windows, checkpoints,
stop/resume and NaN roll-backs are the base loop's, so the app's live view, Snapshots page and CLI work unchanged.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import cyclegan, pictures, pix2pix
from .config import TrainConfig
from .data import load_images, load_test_images, make_dataset
from .errors import ConfigError, DataError, GanError
from .fsutil import atomic_write_bytes
from .metrics import check_n
from .train import Trainer

EXAMPLES = 32  # held-out examples saved in the run folder (examples.npz): the grids' and the Translate page's
PER_ROW = 2  # a Pix2Pix grid row holds two input | output | target triplets
QUICK_EVAL_N = 500  # images per quality evaluation during training (eval_every)
DEFAULT_EVAL_N = 1000


# --- data -----------------------------------------------------------------------------------------------------


@dataclass
class Split:
    """Training and held-out images in [-1, 1]; labels of the held-out digits where the dataset has them."""

    train: np.ndarray
    test: np.ndarray
    test_labels: np.ndarray | None = None
    source: str = ""


def load_split(dataset: str, path: str | None, cfg: TrainConfig, log: Callable[[str], None], aspect: int = 1
               ) -> Split:
    """A dataset's training images and held-out ones: MNIST-like data holds out its test split, a folder its last
    ``cfg.holdout`` images (after ``limit``)."""
    images, report = load_images(dataset, path=path, image_size=cfg.image_size, channels=cfg.channels,
                                 pixel_range="tanh", limit=cfg.limit, log=log, aspect=aspect)
    where = f"{dataset} ({report.path or 'standard location'})"
    if dataset != "folder":
        test, labels = load_test_images(dataset, path=path, image_size=cfg.image_size, channels=cfg.channels,
                                        pixel_range="tanh")
        return Split(images, test, labels, where)
    if cfg.holdout < 1:
        raise ConfigError("a folder has no test split: hold out some of its images with holdout=N (e.g. 500)")
    if cfg.holdout >= len(images):
        raise DataError(f"{where} has {len(images)} usable images, not more than holdout={cfg.holdout}; lower "
                        f"holdout (e.g. --set holdout={max(1, len(images) // 10)}) or add images")
    return Split(images[:-cfg.holdout], images[-cfg.holdout:], None, where)


@dataclass
class Pairs:
    inputs: np.ndarray
    targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    source: str


def load_pairs(cfg: TrainConfig, log: Callable[[str], None] = lambda m: None) -> Pairs:
    """Pix2Pix's (input, target) pairs: A|B files split in half, or inputs made from the images by the pairing."""
    if cfg.pairing == "side_by_side":
        split = load_split("folder", cfg.data, cfg, log, aspect=2)
        halves = [pix2pix.split_side_by_side(x) for x in (split.train, split.test)]
        if cfg.direction == "BtoA":
            halves = [(b, a) for a, b in halves]
        (a, b), (test_a, test_b) = halves
        return Pairs(a, b, test_a, test_b, split.source)
    split = load_split(cfg.dataset, cfg.data, cfg, log)
    inputs, targets = pix2pix.make_pairs(split.train, cfg.pairing, cfg.seed)
    test_inputs, test_targets = pix2pix.make_pairs(split.test, cfg.pairing, cfg.seed + 1)
    return Pairs(inputs, targets, test_inputs, test_targets, split.source)


def load_domains(cfg: TrainConfig, log: Callable[[str], None] = lambda m: None) -> tuple[Split, Split]:
    """CycleGAN's two unpaired image sets, A (dataset/data) and B (dataset_b/data_b), each with held-out images."""
    return load_split(cfg.dataset, cfg.data, cfg, log), load_split(cfg.dataset_b, cfg.data_b, cfg, log)


# --- trainers -------------------------------------------------------------------------------------------------


class _TranslationTrainer(Trainer):
    """What both image-to-image trainers share: checks, held-out examples on disk, no XLA, no latents."""

    def build(self) -> None:
        if self.cfg.strategy != "default":
            raise ConfigError("image-to-image runs train on one device for now: leave strategy at default")
        super().build()

    def save_examples(self, **arrays: np.ndarray) -> dict[str, np.ndarray]:
        """The first EXAMPLES held-out images, saved once as uint8 and read back on every resume (like fixed_z), so
        every epoch's grid shows the same pictures even if the data changes on disk."""
        if self.run.examples_path.is_file():
            with np.load(self.run.examples_path, allow_pickle=False) as saved:
                stored = {k: saved[k] for k in saved.files}
        else:
            stored = {k: pictures.to_uint8(v[:EXAMPLES], "tanh") for k, v in arrays.items()}
            buf = io.BytesIO()
            np.savez_compressed(buf, **stored)
            atomic_write_bytes(self.run.examples_path, buf.getvalue())
        return {k: v.astype(np.float32) / 127.5 - 1.0 for k, v in stored.items()}

    def check_finite(self, images: np.ndarray, epoch: int) -> None:
        if not np.all(np.isfinite(images)):
            raise GanError(f"the generator produced NaN/Inf images at epoch {epoch}; lower the learning rates "
                           "(--set g_lr=...) and resume from the last checkpoint")

    def save_picture(self, epoch: int, picture: np.ndarray) -> None:
        import tensorflow as tf

        pictures.save_png(self.run.sample_path(epoch), picture)
        with self.tb.as_default():
            tf.summary.image("samples", picture[None].astype(np.float32) / 255.0, step=self.step)

    def measure_quality(self, epoch: int) -> dict[str, Any]:
        return self.quality(self.cfg.eval_n or QUICK_EVAL_N)


class Pix2PixTrainer(_TranslationTrainer):
    """Pix2Pix: U-Net G(input) against a PatchGAN D(input, candidate), GAN + L1 loss, on aligned pairs."""

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
        self.log(f"speed: precision {self.cfg.precision}, no XLA for image-to-image, "
                 f"steps_per_call {self.cfg.steps_per_call}")
        step = pix2pix.make_train_step(self.G, self.D, self.g_opt, self.d_opt, self.cfg.l1_weight, compile=False)
        return self.compile_steps(lambda batch, _step: step(*batch), pix2pix.METRICS)

    def snapshot(self, epoch: int) -> None:
        n = self.cfg.grid * PER_ROW
        inputs, targets = self.examples["inputs"][:n], self.examples["targets"][:n]
        outputs = pix2pix.translate(self.G, inputs)
        self.check_finite(outputs, epoch)
        unit = lambda x: (x + 1.0) / 2.0  # noqa: E731
        self.save_picture(epoch, pictures.triplet_grid([unit(inputs), outputs, unit(targets)],
                                                       min(self.cfg.grid, len(inputs))))

    def quality(self, n: int) -> dict[str, Any]:
        return pix2pix_quality(self.G, self.pairs.test_inputs, self.pairs.test_targets, n)


class CycleGANTrainer(_TranslationTrainer):
    """CycleGAN: G: A -> B and F: B -> A with discriminators D_B and D_A, on two unpaired image sets."""

    def build_models(self, arch) -> dict[str, Any]:
        cfg = self.cfg
        self.G, self.F = arch.build_generator(cfg), arch.build_generator(cfg)
        self.D_A, self.D_B = arch.build_discriminator(cfg), arch.build_discriminator(cfg)
        self.D = self.D_B  # what the base class calls D
        self.g_opt = self.make_optimizer(cfg.g_lr, self.G.trainable_variables + self.F.trainable_variables)
        self.d_opt = self.make_optimizer(cfg.d_lr, self.D_A.trainable_variables + self.D_B.trainable_variables)
        shape = (cfg.image_size, cfg.image_size, cfg.channels)
        self.pool_a = cyclegan.ImagePool(cfg.pool_size, shape, "pool_a")
        self.pool_b = cyclegan.ImagePool(cfg.pool_size, shape, "pool_b")
        import tensorflow as tf

        pools = tf.train.Checkpoint(a_images=self.pool_a.images, a_count=self.pool_a.count,
                                    b_images=self.pool_b.images, b_count=self.pool_b.count)
        return dict(generator=self.G, generator_ba=self.F, discriminator_a=self.D_A, discriminator=self.D_B,
                    g_opt=self.g_opt, d_opt=self.d_opt, pools=pools)

    def load_data(self):
        import tensorflow as tf

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
        import tensorflow as tf

        cfg = self.cfg
        self.log(f"speed: precision {cfg.precision}, no XLA for image-to-image, steps_per_call {cfg.steps_per_call}")
        step = cyclegan.make_train_step(self.G, self.F, self.D_A, self.D_B, self.g_opt, self.d_opt, self.pool_a,
                                        self.pool_b, cfg.cycle_weight, cfg.identity_weight, compile=False)

        def one_step(batch, global_step):
            # the pools' draws are keyed by (seed, step), like the latent GANs' noise: reproducible and resumable
            return step(batch[0], batch[1], tf.stack([tf.constant(cfg.seed, tf.int64), global_step]))

        return self.compile_steps(one_step, cyclegan.METRICS)

    def snapshot(self, epoch: int) -> None:
        rows = self.cfg.grid
        a, b = self.examples["a"][:rows], self.examples["b"][:rows]
        fake_b, fake_a = cyclegan.translate(self.G, a), cyclegan.translate(self.F, b)
        back_a, back_b = cyclegan.translate(self.F, fake_b * 2 - 1), cyclegan.translate(self.G, fake_a * 2 - 1)
        self.check_finite(np.concatenate([fake_a, fake_b]), epoch)
        unit = lambda x: (x + 1.0) / 2.0  # noqa: E731
        self.save_picture(epoch, pictures.triplet_grid([unit(a), fake_b, back_a, unit(b), fake_a, back_b], len(a)))

    def save_generator(self, epoch: int) -> None:
        import os

        from .runs import epoch_file

        super().save_generator(epoch)
        tmp = self.run.generators_dir / f".tmp-{os.getpid()}-{epoch_file(epoch, 'ba.keras')}"
        self.F.save(tmp)
        os.replace(tmp, self.run.generator_path(epoch, "BtoA"))

    def quality(self, n: int) -> dict[str, Any]:
        return cyclegan_quality(self.G, self.F, self.domain_a, self.domain_b, self.cfg, n)


TRAINERS = {"pix2pix": Pix2PixTrainer, "cyclegan": CycleGANTrainer}


# --- quality --------------------------------------------------------------------------------------------------


def _rec(metric: str, value: float, better: str, n: int, dataset: str, floor: float | None = None,
         floor_label: str = "perfect", **extra: Any) -> dict[str, Any]:
    """A quality.jsonl record, as gan_core.metrics writes them; ``floor`` is the best reachable value, which for
    these figures is a perfect translation's unless it is measured on real data (floor_label says which)."""
    return {"metric": metric, "value": float(value), "floor": None if floor is None else float(floor), "n": int(n),
            "better": better, "dataset": dataset, "floor_label": floor_label, **extra}


def pix2pix_quality(generator, test_inputs: np.ndarray, test_targets: np.ndarray, n: int) -> dict[str, Any]:
    """L1 and SSIM of G's translations of n held-out inputs against their targets (and, for colour targets, the
    chroma error), beside what no learning gives: the input itself (identity) and the input blurred. The floor is a
    perfect translation's (L1 0, SSIM 1)."""
    n = min(int(n), len(test_inputs))
    if n < 1:
        raise DataError("no held-out pairs to evaluate on")
    x, y = test_inputs[:n], test_targets[:n]
    out, truth = pix2pix.translate(generator, x), (y + 1.0) / 2.0
    base = {kind: pix2pix.baseline(x, y, kind) for kind in pix2pix.BASELINES}
    figures = {"l1": pix2pix.l1_error, "ssim": pix2pix.ssim}
    if truth.shape[-1] == 3:  # colour targets: also how close the colours are, brightness aside
        figures["chroma_l1"] = pix2pix.chroma_error
    metrics = {}
    for name, fn in figures.items():
        baselines = {kind: round(fn(b, truth), 5) for kind, b in base.items()}
        better = "higher" if name == "ssim" else "lower"
        best = min(baselines.values()) if better == "lower" else max(baselines.values())
        metrics[name] = _rec(name, fn(out, truth), better, n, "held-out pairs", 1.0 if name == "ssim" else 0.0,
                             baseline=best, baselines=baselines)
    return {"kind": "pix2pix", "n": n, "metrics": metrics}


def cyclegan_quality(G, F, domain_a: Split, domain_b: Split, cfg: TrainConfig, n: int) -> dict[str, Any]:
    """CycleGAN's figures on n held-out images of each domain.

    * ``cycle_l1``: mean |x - F(G(x))| over both round trips, in [0, 1] pixels (lower is better; 0 is perfect).
    * ``fid_ab`` / ``fid_ba`` (digit-like domains): classifier-FID of the translations against the real target
      domain, with the target's evaluator; floor = real vs real, baseline = the untranslated images (how far apart
      the domains are to begin with). For image folders the same with SWD (``swd_ab`` / ``swd_ba``).
    * ``cycle_agreement`` (digit-like A): share of A images whose round trip A -> B -> A the A evaluator reads as the
      same class as the original, i.e. the translation kept what the picture was (higher is better; floor 1).
    """
    from . import metrics as m

    n = min(int(n), len(domain_a.test), len(domain_b.test))
    if n < 2:
        raise DataError("need at least 2 held-out images of each domain to evaluate")
    a, b = domain_a.test[:n], domain_b.test[:n]
    fake_b, fake_a = cyclegan.translate(G, a), cyclegan.translate(F, b)
    back_a, back_b = cyclegan.translate(F, fake_b * 2 - 1), cyclegan.translate(G, fake_a * 2 - 1)
    unit_a, unit_b = (a + 1.0) / 2.0, (b + 1.0) / 2.0
    cycle = {"a": pix2pix.l1_error(back_a, unit_a), "b": pix2pix.l1_error(back_b, unit_b)}
    out = {"cycle_l1": _rec("cycle_l1", np.mean(list(cycle.values())), "lower", n, "held-out", 0.0,
                            per_domain={k: round(v, 5) for k, v in cycle.items()})}
    for tag, fakes, source, target, target_path in (("ab", fake_b, unit_a, cfg.dataset_b, cfg.data_b),
                                                    ("ba", fake_a, unit_b, cfg.dataset, cfg.data)):
        name = "classifier_fid" if target != "folder" else "swd"
        got = m.compute(name, None, n=n, dataset=target, data_path=target_path, images=fakes)
        untranslated = m.compute(name, None, n=n, dataset=target, data_path=target_path, images=source)
        out[f"{'fid' if name == 'classifier_fid' else 'swd'}_{tag}"] = _rec(
            f"{'fid' if name == 'classifier_fid' else 'swd'}_{tag}", got["value"], "lower", got["n"], target,
            got["floor"], "real-data floor", baseline=round(untranslated["value"], 5), measure=name)
    if cfg.dataset != "folder":
        from .evaluators import load_evaluator

        evaluator = load_evaluator(cfg.dataset)
        _, p_before = evaluator.predict(unit_a)
        _, p_after = evaluator.predict(back_a)
        same = p_before.argmax(1) == p_after.argmax(1)
        extra = {}
        if domain_a.test_labels is not None:
            extra["evaluator_accuracy"] = round(float(np.mean(p_before.argmax(1) == domain_a.test_labels[:n])), 5)
        out["cycle_agreement"] = _rec("cycle_agreement", same.mean(), "higher", n, cfg.dataset, 1.0, **extra)
    return {"kind": "cyclegan", "n": n, "metrics": out}


def evaluate_run(run, epoch: int | None = None, n: int | None = None, log: Callable[[str], None] = lambda m: None,
                 data_path: str | None = None, data_b: str | None = None) -> dict[str, Any]:
    """Score a saved image-to-image model on its run's held-out data (`python -m gan_core evaluate`); ``data_path``
    and ``data_b`` stand in for the config's (a pretrained model ships without its local paths)."""
    from .translator import load_translators

    cfg = run.config()
    cfg.data = data_path if data_path is not None else cfg.data
    cfg.data_b = data_b if data_b is not None else cfg.data_b
    if epoch is None:
        epoch = run.generator_epochs()[-1] if run.generator_epochs() else None
    if epoch is None:
        raise GanError(f"run {run.name} has no saved model yet; wait for its first epoch to finish")
    start = time.perf_counter()
    models = {d: t.model for d, t in load_translators(run, epoch).items()}
    n = check_n(n) or DEFAULT_EVAL_N
    if cfg.task == "pix2pix":
        pairs = load_pairs(cfg, log)
        result = pix2pix_quality(models["AtoB"], pairs.test_inputs, pairs.test_targets, n)
    else:
        a, b = load_domains(cfg, log)
        result = cyclegan_quality(models["AtoB"], models["BtoA"], a, b, cfg, n)
    return {**result, "dataset": cfg.dataset, "epoch": epoch, "source": str(run.generator_path(epoch)),
            "seconds": round(time.perf_counter() - start, 2)}
