"""One config object per run: a preset's defaults, overridden field by field, saved as JSON in the run."""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import numbers
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable

from .algorithm import augment as augment_lib
from . import data, devices, models
from .algorithm import objectives
from .data import PIXEL_RANGES, SOURCES
from .errors import ConfigError

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")  # "auto" is resolved when a run is created
JIT_COMPILES = ("auto", "on", "off")
STRATEGIES = ("default", "mirrored", "multiworker")  # multiworker: TF_CONFIG says the cluster
NOISES = ("normal", "uniform")
UPDATES = ("simultaneous", "alternating")  # latent GANs: one pass for both, or D first then G (the two faces notes)
DATASETS = SOURCES
PAIRINGS = data.PAIRING_CHOICES  # pix2pix: made from single images, or A|B files
DIRECTIONS = data.DIRECTIONS  # pix2pix: which half of an A|B file is the input
# Upper limits: past them a run exhausts memory, crashes TensorFlow (threads=1000000 segfaulted) or never ends.
# Generous for what the architectures here are (z of 100, 28-64 px, batches of 16-256), so no recipe meets them.
LIMITS = {"epochs": 100_000, "batch_size": 65_536, "noise_dim": 4096, "image_size": 1024, "grid": 32,
          "threads": 1024, "inter_op_threads": 1024, "steps_per_call": 10_000, "filters": 1024, "res_blocks": 64,
          "pool_size": 10_000, "num_classes": 1000, "eval_n": 100_000, "nan_retries": 100, "d_steps": 100}
MAX_SEED = 2**32 - 1  # numpy's and Keras's seeds


@dataclass
class TrainConfig:
    """Everything needed to rebuild a run's models and continue its training."""

    preset: str = "mnist_dcgan"
    architecture: str = "mnist_dcgan"
    name: str = ""
    # data
    dataset: str = "mnist"
    data: str | None = None  # a file or folder; None = the dataset's standard location
    limit: int | None = None  # keep the first N training images
    image_size: int = 28
    channels: int = 1
    pixel_range: str = "tanh"
    # model and objective
    noise_dim: int = 100
    noise: str = "normal"
    num_classes: int = 0  # > 0: class-conditional (G and D also take a one-hot label); needs a labelled dataset
    real_label: float = 1.0  # < 1 is one-sided label smoothing for D
    # image-to-image (the pix2pix and cyclegan architectures; latent GANs leave these at their defaults)
    pairing: str = ""  # pix2pix: edges | grayscale | masked (inputs made from the images) | side_by_side (A|B files)
    direction: str = "AtoB"  # side_by_side: AtoB = the left half is the input
    dataset_b: str = ""  # cyclegan: domain B's source (domain A is dataset/data)
    data_b: str | None = None  # cyclegan: domain B's file or folder
    holdout: int = 500  # folder data: the last N images are held out (snapshots, quality); digits use the test split
    filters: int = 64  # base width of the image-to-image networks and of dcgan64
    res_blocks: int = 6  # cyclegan: residual blocks in G (the paper: 6 at 128px, 9 at 256px)
    l1_weight: float = 100.0  # pix2pix's lambda
    keep_luminance: bool = True  # pix2pix grayscale -> colour: G predicts colour only, the input's brightness is kept
    cycle_weight: float = 10.0  # cyclegan's lambda
    identity_weight: float = 0.5  # cyclegan: the identity loss's weight as a share of cycle_weight (the paper's 0.5)
    pool_size: int = 50  # cyclegan: how many past fakes D draws from (the paper's image pool; 0 = none)
    d_joint_batch: bool = False  # D sees real and fake as one batch (matters when D has BatchNorm)
    # latent GANs' training options (gan_core/algorithm/ema.py): an average of G's weights is what the app loads
    ema_decay: float = 0.0  # 0 = off; e.g. 0.999: generators/ and the grids use the moving average of G's weights
    ema_start_step: int = 0  # the average copies G until this step, then averages (skips the untrained start)
    ema_rampup: float = 0.0  # > 0: the average's half-life is at most this share of the steps so far (StyleGAN2: 0.05)
    loss: str = "bce"  # the GAN objective (gan_core/algorithm/objectives.py): bce | lsgan | hinge | wgan-gp
    gp_weight: float = 10.0  # wgan-gp: the gradient penalty's weight (the paper's lambda)
    r1_gamma: float = 0.0  # > 0: R1 penalty gamma / 2 x ||grad D(real)||^2 on D, with any loss
    r1_every: int = 1  # R1 every k-th step, k times as strong (StyleGAN2's lazy regularisation: 16)
    spectral_norm: bool = False  # every Conv2D and Dense of D spectrally normalised (gan_core/models/spectral_norm.py)
    augment: str = ""  # DiffAugment before D, e.g. "translation,cutout,color" (gan_core/algorithm/augment.py); "" = off
    update: str = "simultaneous"  # latent GANs: simultaneous (TF DCGAN tutorial) | alternating (D, then G via new D)
    d_steps: int = 1  # latent GANs: D updates per G update (WGAN's n_critic); G learns on every d_steps-th batch
    clip_norm: float = 0.0  # > 0: each net's gradients clipped to this global norm (grayscale faces note's tip); 0: off
    # optimisation
    epochs: int = 50
    batch_size: int = 256
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    beta_1: float = 0.9
    beta_2: float = 0.999
    precision: str = "auto"  # resolved to a concrete value in the saved run (speed.resolve_precision)
    strategy: str = "default"
    device: str = "auto"  # auto (TensorFlow's choice: its first GPU, else the CPU) | cpu | gpu:N (one GPU alone)
    # speed (issue #5): none of these changes the training math
    steps_per_call: int = 1  # optimizer steps per compiled call (fewer Python round trips)
    jit_compile: str = "auto"  # XLA: auto = on with a GPU, off on a CPU (measured slower there)
    threads: int = 0  # TensorFlow intra-op threads; 0 = TensorFlow's default
    inter_op_threads: int = 0  # TensorFlow inter-op threads; 0 = TensorFlow's default
    # bookkeeping
    seed: int = 0  # seeds weights, shuffling and noise
    grid: int = 4  # the fixed-latent snapshot grid is grid x grid
    log_every: int = 5  # steps per metrics window
    snapshot_every: int = 1  # epochs
    checkpoint_every: int = 1  # epochs; a stop always checkpoints too
    generator_every: int = 1  # epochs; generators/epoch_NNNN.keras
    eval_every: int = 0  # epochs between quality evaluations into quality.jsonl (0 = off; `evaluate` does it later)
    eval_n: int = 0  # samples per evaluation; 0 = quick defaults (2000 digits, 500 faces)
    nan_retries: int = 2  # roll-backs to the last checkpoint after a NaN/Inf loss before failing
    nan_lr_scale: float = 0.5  # learning rates are multiplied by this at each roll-back

    def validate(self) -> "TrainConfig":
        self._validate_types()
        arch = models.get(self.architecture)
        for name, allowed in (("precision", PRECISIONS), ("strategy", STRATEGIES), ("noise", NOISES),
                              ("pixel_range", PIXEL_RANGES), ("dataset", DATASETS), ("jit_compile", JIT_COMPILES),
                              ("update", UPDATES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        devices.check_train_device(self.device)
        for name in ("epochs", "batch_size", "noise_dim", "grid", "log_every", "snapshot_every",
                     "checkpoint_every", "generator_every", "image_size", "steps_per_call", "d_steps"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive whole number; got {getattr(self, name)}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be at least 1 (or left out for all images); got {self.limit}")
        if self.limit is not None and self.batch_size > self.limit:
            raise ConfigError(f"batch_size {self.batch_size} is more than the {self.limit} images limit keeps: lower "
                              f"batch_size to {self.limit} or less, or raise limit")
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB); got {self.channels}")
        for name in ("g_lr", "d_lr"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name} must be between 0 and 1 (e.g. 2e-4); got {getattr(self, name)}")
        if not (self.clip_norm >= 0 and math.isfinite(self.clip_norm)):
            raise ConfigError(f"clip_norm must be 0 (off) or a positive number, e.g. 1.0; got {self.clip_norm}")
        for name in ("beta_1", "beta_2"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1); got {getattr(self, name)}")
        for name in ("threads", "inter_op_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be 0 (TensorFlow's default) or a positive whole number; got {value!r}")
        for name in ("eval_every", "eval_n"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be 0 (off / default) or a positive whole number; got {value!r}")
        if self.nan_retries < 0:
            raise ConfigError(f"nan_retries must be 0 or more; got {self.nan_retries}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be 0 .. {MAX_SEED}; got {self.seed}")
        for name, most in LIMITS.items():
            if getattr(self, name) > most:
                why = _LIMIT_WHY.get(name, "beyond what a run here can use")
                raise ConfigError(f"{name} must be at most {most} ({why}); got {getattr(self, name)}")
        if not 0 < self.nan_lr_scale <= 1:
            raise ConfigError(f"nan_lr_scale must be in (0, 1]; got {self.nan_lr_scale}")
        if not 0.5 < self.real_label <= 1:
            raise ConfigError(f"real_label must be in (0.5, 1] (0.9 is usual smoothing); got {self.real_label}")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError(f"ema_decay must be in [0, 1) (0 = off, 0.999 is usual); got {self.ema_decay}")
        start = self.ema_start_step
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ConfigError(f"ema_start_step must be 0 or a positive whole number; got {self.ema_start_step!r}")
        if not 0 <= self.ema_rampup <= 1:
            raise ConfigError(f"ema_rampup must be in [0, 1] (0 = off, StyleGAN2 uses 0.05); got {self.ema_rampup}")
        self._validate_objective()
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 0:
            raise ConfigError("num_classes must be 0 (unconditional) or the number of classes; "
                              f"got {self.num_classes!r}")
        if arch.conditional and self.num_classes < 2:
            raise ConfigError(f"{self.architecture} is class-conditional: set num_classes to the dataset's number of "
                              f"classes (10 for mnist and fashion_mnist); got {self.num_classes}")
        if not arch.conditional and self.num_classes:
            raise ConfigError(f"{self.architecture} takes no class label; leave num_classes at 0 or pick a "
                              "conditional architecture (" + ", ".join(models.conditional_names()) + ")")
        if self.num_classes and self.dataset == "folder":
            raise ConfigError("class-conditional training needs labelled data: use dataset mnist or fashion_mnist "
                              "(a folder of images has no labels)")
        arch.check_config(self)  # the fields of its task's section (image-to-image ones, or none for a latent GAN)
        problem = arch.check_size(self.image_size)
        if problem:
            raise ConfigError(f"image_size: {problem}")
        if self.dataset == "folder" and not self.data:
            raise ConfigError(f"preset {self.preset!r} trains on a folder of images: pass --data /path/to/images "
                              "(for example CelebA's img_align_celeba folder)")
        return self

    def _validate_types(self) -> None:
        """Every field holds its declared type and every float is finite: a hand-edited config.json ("epochs": "3",
        "batch_size": null) or a NaN weight is refused here, by name, instead of failing somewhere in training."""
        for f in fields(self):
            value, kind = getattr(self, f.name), _TYPES[f.name]
            problem = _type_problem(kind, value)
            if problem:
                raise ConfigError(f"{f.name} must be {problem}; got {_show(value)}")
            if kind.startswith("float") and value is not None and not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number; got {value}")

    def _validate_objective(self) -> None:
        objective = objectives.get(self.loss)  # unknown names: the message lists the known ones
        if self.real_label != 1 and not objective.smoothing:
            raise ConfigError(f"real_label (label smoothing) means nothing to the {self.loss} loss: set real_label=1, "
                              "or use loss bce or lsgan")
        for name in ("gp_weight", "r1_gamma"):
            if not 0 <= getattr(self, name) < 1e6:
                raise ConfigError(f"{name} must be 0 or more; got {getattr(self, name)}")
        if isinstance(self.r1_every, bool) or not isinstance(self.r1_every, int) or self.r1_every < 1:
            raise ConfigError(f"r1_every must be a positive whole number (1 = every step); got {self.r1_every!r}")
        augment_lib.parse_policy(self.augment)
        if not isinstance(self.spectral_norm, bool):
            raise ConfigError(f"spectral_norm must be true or false; got {self.spectral_norm!r}")

    @property
    def task(self) -> str:
        return models.task_of(self.architecture)

    def to_dict(self) -> dict[str, Any]:
        """The fields, and the task for readers of config.json (derived from the architecture, so not a field)."""
        values = dataclasses.asdict(self)
        try:
            values["task"] = self.task
        except ConfigError:  # an architecture this version does not know: validate() says so
            pass
        return values

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """A config from saved values, each checked against its field's type (ranges are :meth:`validate`'s)."""
        if not isinstance(values, dict):
            raise ConfigError(f"a config is a JSON object of fields; got {_show(values)}")
        values = {k: v for k, v in values.items() if k != "task"}  # recorded for readers; the architecture decides
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s) {', '.join(unknown)}; known fields: {', '.join(sorted(known))}")
        for name, value in values.items():
            problem = _type_problem(_TYPES[name], value)
            if problem:
                raise ConfigError(f"{name} must be {problem}; got {_show(value)}")
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        """A run's config.json; ConfigError naming the file and the field for anything that is not a config."""
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path} is not a JSON object of config fields (it holds {_show(values)}); restore "
                              "the run's config.json or start a new run")
        try:
            return cls.from_dict(values)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}; fix that field or start a new run") from None


def presets() -> dict[str, dict[str, Any]]:
    return {name: dict(models.preset(name).values) for name in models.preset_names()}


def from_preset(preset: str, overrides: dict[str, Any] | None = None, sets: Iterable[str] = ()) -> TrainConfig:
    """The preset's defaults, then explicit overrides (None = keep), then `key=value` strings; validated."""
    recipe = models.preset(preset)
    cfg = TrainConfig(preset=preset, architecture=recipe.architecture, **recipe.values)
    for key, value in (overrides or {}).items():
        if value is not None:
            set_field(cfg, key, value)
    for item in sets:
        key, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(f"--set takes key=value (e.g. --set g_lr=2e-4); got {item!r}")
        set_field(cfg, key.strip(), parse_value(cfg, key.strip(), text.strip()))
    return cfg.validate()


_TYPES = {f.name: f.type for f in fields(TrainConfig)}
_LIMIT_WHY = {"epochs": "a run that would never end", "batch_size": "more than any accelerator holds",
              "noise_dim": "z of 100-512 is usual", "image_size": "the networks here are for 28-256 px",
              "threads": "TensorFlow crashes creating that many", "inter_op_threads": "TensorFlow crashes creating "
              "that many", "grid": "the snapshot grid is grid x grid images"}


def _type_problem(kind: str, value: Any) -> str | None:
    """What `value` should have been for a field annotated `kind` ("int", "str | None", ...), or None if it fits."""
    optional = "None" in kind
    if value is None:
        return None if optional else _WANTED[kind.split(" ")[0]]
    base = kind.split(" ")[0]
    fits = {"int": isinstance(value, numbers.Integral) and not isinstance(value, bool),
            "float": isinstance(value, numbers.Real) and not isinstance(value, bool),
            "bool": isinstance(value, bool), "str": isinstance(value, str)}[base]
    return None if fits else _WANTED[base] + (" or null" if optional else "")


_WANTED = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text"}


def _show(value: Any) -> str:
    """A value as the user wrote it in JSON, with what it is when that is the problem."""
    if isinstance(value, str):
        return f"{value[:60]!r} (text)"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (list, dict)):
        text = json.dumps(value)
        return f"{text[:60]}{'...' if len(text) > 60 else ''} ({'a list' if isinstance(value, list) else 'an object'})"
    return str(value)


def set_field(cfg: TrainConfig, key: str, value: Any) -> None:
    if key not in _TYPES:
        close = difflib.get_close_matches(key, list(_TYPES), n=3)
        hint = f"did you mean {' or '.join(close)}?" if close else f"known fields: {', '.join(sorted(_TYPES))}"
        raise ConfigError(f"unknown config field {key!r}; {hint}")
    if key in ("preset", "architecture"):
        raise ConfigError(f"{key} cannot be overridden; choose it with --preset")
    setattr(cfg, key, value)


def parse_value(cfg: TrainConfig, key: str, text: str) -> Any:
    """Turn a --set string into the field's type, with a message that names the field when it does not fit."""
    if key not in _TYPES:
        set_field(cfg, key, None)  # raises the unknown-field message
    kind = _TYPES[key]
    if "None" in kind and text.lower() in ("none", "null", ""):
        return None
    try:
        if kind.startswith("int"):
            if not re.fullmatch(r"[+-]?\d+", text):
                raise ValueError
            return int(text)
        if kind.startswith("float"):
            return float(text)
        if kind.startswith("bool"):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return text.lower() in ("true", "1", "yes")
        return text
    except ValueError:
        wanted = {"int": "a whole number", "float": "a number", "bool": "true or false"}[kind.split(" ")[0]]
        raise ConfigError(f"{key} takes {wanted}; got {text!r}") from None
