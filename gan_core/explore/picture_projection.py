"""Project a real image into a generator's latent space: find the z whose image is closest to it.

A GAN has no encoder, so the z of a given image is searched for: gradient descent (Adam) on z, from a few
starting points at once (``restarts``, one batch through the generator), keeping the best. The objective is

* the pixel mean squared error in the generator's own pixel range ([-1, 1] for tanh, [0, 1] for sigmoid),
* plus, for digit-like generators (MNIST, Fashion-MNIST) with a shipped evaluator classifier, a *feature* loss: the
  squared distance of the evaluator's penultimate features of the two images, relative to the target's feature
  energy. Pixels alone settle for a blurry compromise where the generator cannot draw the target exactly; the
  features keep it the same digit (MNIST test digits shifted by 3-4 pixels: 19 of 24 reconstructions classified
  as the target's digit with pixels alone, 24 of 24 with features at weight 0.1),
* plus, for normal noise, a small penalty that keeps |z| near sqrt(noise_dim), where the generator was trained
  (pixels alone may push z far out, where images look fine to the loss but the sliders have nothing to edit);
  uniform noise is clipped to its support [0, 1] instead.

Starting points are the best of many random z's, so a restart does not waste its steps crossing the space; the
learning rate is cosine-decayed so the last steps settle. Every step of all restarts runs in one compiled
``tf.function`` (a chunk of steps per call, so ``progress`` can report between chunks).

Targets go through :func:`prepare_target`, which decodes files with the training-data loader's rules
(:mod:`gan_core.data`: EXIF rotation, 16-bit and alpha handled, centre square crop, Lanczos resize), so an
uploaded picture is seen the way a training image would have been.
"""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import data as data_lib
from .. import latent_space
from ..errors import DataError, GanError
from ..evaluation import classifier
from ..files import pictures
from ..inference import sidecar_config

DEFAULT_STEPS = 200
DEFAULT_STEPS_LARGE = 100  # 64x64 and up
DEFAULT_RESTARTS = 4
DEFAULT_LR = 0.1
DEFAULT_FEATURE_WEIGHT = 0.1
DEFAULT_PRIOR_WEIGHT = 0.01
CANDIDATES_PER_RESTART = 16  # random z's scored per restart to pick the starting points
CHUNK = 25  # steps per compiled call, between progress reports
MAX_STEPS = 5000
MAX_RESTARTS = 64
ERROR_SCALE = 1.0  # the error map is |difference| as it is: black = exact, white = off by the whole range

Progress = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass
class Projection:
    """What a projection found: ``z`` and its image beside the target, with how close they are."""
    z: np.ndarray  # (noise_dim,) float32: the best restart's z
    image: np.ndarray  # (H, W, C) uint8: the generator's image of z
    target: np.ndarray  # (H, W, C) uint8: the image that was projected
    pixel_mse: float  # mean squared error of image vs target, pixels in [0, 1]
    losses: np.ndarray  # (restarts,) final objective of each restart
    history: np.ndarray  # (steps, restarts) objective before each step
    best: int  # index of the restart that won
    seconds: float
    steps: int
    feature_weight: float = 0.0  # 0 where no evaluator was used
    evaluator: str | None = None  # the evaluator's dataset, where one was used
    label: int | None = None  # a conditional generator's class of the reconstruction
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def restarts(self) -> int:
        return len(self.losses)

    @property
    def pixel_rmse(self) -> float:
        return float(np.sqrt(self.pixel_mse))

    @property
    def error(self) -> np.ndarray:
        """(H, W, C) uint8 |image - target| per channel."""
        return np.abs(self.image.astype(np.int16) - self.target.astype(np.int16)).astype(np.uint8)

    def error_map(self) -> np.ndarray:
        """(H, W, 3) uint8 heat map of the error (channel mean): black exact, red, yellow, white = all wrong."""
        return heat(self.error.mean(axis=-1) / 255.0 / ERROR_SCALE)

    def panel(self, scale: int = 1, pad: int = 2) -> np.ndarray:
        """target | reconstruction | error map, side by side as one RGB uint8 image."""
        tiles = np.stack([_rgb(self.target), _rgb(self.image), self.error_map()])
        return pictures.grid(tiles, 1, 3, pad=pad, scale=scale)


def heat(values: np.ndarray) -> np.ndarray:
    """(H, W) values in [0, 1] -> (H, W, 3) uint8, a black-red-yellow-white ramp (no matplotlib needed)."""
    v = np.clip(np.asarray(values, np.float32), 0.0, 1.0)
    rgb = np.stack([np.clip(3 * v, 0, 1), np.clip(3 * v - 1, 0, 1), np.clip(3 * v - 2, 0, 1)], axis=-1)
    return np.round(rgb * 255).astype(np.uint8)


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, np.uint8)
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


# --- targets ------------------------------------------------------------------------------------------------

def prepare_target(source: str | Path | bytes | np.ndarray, generator, *, invert: bool = False,
                   name: str | None = None) -> np.ndarray:
    """Any image -> (H, W, C) uint8 at the generator's size and channel count, as the training data was made.

    ``source`` is a file path, the bytes of an image file (an upload), or an array: (H, W), (H, W, 1|3|4), uint8
    or float in [0, 1]. Files are decoded by the data loader's single-file decoder (EXIF rotation, 16-bit scaled,
    transparency on white, centre square crop, Lanczos resize); a 28x28 array for a 32x32 generator is
    zero-padded as the MNIST-32 data is; other arrays are cropped and resized like files. ``invert`` turns dark
    strokes on light paper (a photo of a digit) into MNIST's light on dark. ``name`` (an upload's file name)
    names the image in error messages.
    """
    height, width, channels = generator.image_shape
    if height != width:
        raise DataError(f"projection needs a square generator; this one makes {height}x{width} images")
    if channels not in (1, 3):
        raise DataError(f"projection needs a gray or RGB generator; this one makes {channels}-channel images")
    return data_lib.fit_image(source, height, channels, invert=invert, name=name)


# --- the search ---------------------------------------------------------------------------------------------

def generator_config(generator) -> dict[str, Any]:
    """The run config the generator was loaded with, else the one beside its file ({} for a bare .keras file)."""
    config = getattr(generator, "config", None)
    if config:
        return config
    source = getattr(generator, "source", "")
    return sidecar_config(Path(source)) if source else {}


def generator_dataset(generator) -> str | None:
    """The dataset a generator imitates, from the config.json beside its file (None when unknown)."""
    return generator_config(generator).get("dataset")


def test_split_source(generator) -> tuple[str, Path] | None:
    """(dataset, where its labelled test split is) for an MNIST-like generator whose data is on this machine, else
    None: the run's own data path first, then where the data loader looks ($GAN_EXPLORER_DATA, ...)."""
    config = generator_config(generator)
    dataset = config.get("dataset")
    if dataset not in data_lib.DIGIT_DATASETS:
        return None
    for path in dict.fromkeys((config.get("data"), None)):
        try:
            return dataset, data_lib.locate(dataset, path)
        except (GanError, OSError):
            continue
    return None


def default_steps(generator) -> int:
    """Steps that finish in seconds on a CPU: fewer for big images, whose every step costs more."""
    side = generator.image_shape[0]
    return DEFAULT_STEPS if side <= 32 else DEFAULT_STEPS_LARGE


def resolve_evaluator(generator, evaluator: Any = "auto"):
    """The evaluator whose features join the loss: ``"auto"`` picks the shipped one of the generator's dataset
    (MNIST, Fashion-MNIST; none for faces), a dataset name picks that one, None turns the feature loss off."""
    if evaluator is None or evaluator is False:
        return None
    if not isinstance(evaluator, str):
        return evaluator
    if evaluator == "auto":
        dataset = generator_dataset(generator)
        if dataset not in data_lib.DIGIT_DATASETS or not classifier.evaluator_path(dataset).is_file():
            return None
        return classifier.load_evaluator(dataset)
    if evaluator not in data_lib.DIGIT_DATASETS:
        raise GanError(f"no evaluator for {evaluator!r}; use 'auto', None or one of "
                       f"{', '.join(data_lib.DIGIT_DATASETS)}")
    return classifier.load_evaluator(evaluator)


def project(generator, target: np.ndarray, *, steps: int | None = None, restarts: int = DEFAULT_RESTARTS,
            lr: float = DEFAULT_LR, feature_weight: float = DEFAULT_FEATURE_WEIGHT,
            prior_weight: float = DEFAULT_PRIOR_WEIGHT, evaluator: Any = "auto", seed: int = 0,
            label: int | None = None, progress: Progress | None = None) -> Projection:
    """The z whose generated image is closest to ``target`` (see the module's docstring for the objective).

    ``target`` is an image at the generator's size (run it through :func:`prepare_target` first): (H, W, C)
    uint8, or float in [0, 1]. ``steps`` defaults to :func:`default_steps`. ``evaluator`` is "auto", a dataset
    name, an :class:`~gan_core.evaluation.Evaluator` or None; ``feature_weight`` scales its loss (0 turns it off).
    For a class-conditional generator, ``label`` fixes the class; None searches the classes too (the starting
    points are the best (z, class) pairs, and each restart keeps its class). The same inputs give the same z.
    """
    import tensorflow as tf

    start = time.perf_counter()
    steps, restarts = int(default_steps(generator) if steps is None else steps), int(restarts)
    _check_options(steps, restarts, lr, feature_weight, prior_weight, seed)
    target_u8 = _as_target(target, generator.image_shape)
    ev = resolve_evaluator(generator, evaluator) if feature_weight > 0 else None
    uniform = generator.noise == "uniform"
    runner = _runner(generator, ev, uniform)

    # the target in the generator's pixel range, and its evaluator features
    pixels = target_u8.astype(np.float32) / 255.0
    if generator.pixel_range == "tanh":
        pixels = pixels * 2.0 - 1.0
    target_t = tf.constant(pixels[None])
    target_feats = runner.features(tf.constant(target_u8[None].astype(np.float32) / 255.0))
    weights = tf.constant([feature_weight if ev is not None else 0.0, 0.0 if uniform else prior_weight], tf.float32)

    z, y = _starting_points(generator, runner, restarts, seed, label, target_t, target_feats, weights)

    m, v = tf.zeros_like(z), tf.zeros_like(z)
    history = []
    done = 0
    while done < steps:
        n = min(CHUNK, steps - done)
        z, m, v, losses = runner.descend(z, m, v, y, target_t, target_feats, weights, tf.constant(done, tf.int32),
                                         tf.constant(n, tf.int32), tf.constant(steps, tf.float32),
                                         tf.constant(float(lr), tf.float32))
        history.append(np.asarray(losses))
        done += n
        if progress is not None:
            progress(done, steps)
    final = np.asarray(runner.objective(z, y, target_t, target_feats, weights), np.float64)
    if not np.all(np.isfinite(final)):
        raise GanError("the projection diverged (NaN loss); try a smaller learning rate (--lr) or fewer steps")
    best = int(np.argmin(final))
    best_z = np.asarray(z[best], np.float32)
    best_label = int(np.argmax(np.asarray(y[best]))) if generator_classes(generator) else None
    image = (generator.images_uint8(best_z) if best_label is None else generator.images_uint8(best_z, best_label))[0]
    mse = float(np.mean((image.astype(np.float64) - target_u8.astype(np.float64)) ** 2) / 255.0**2)
    return Projection(z=best_z, image=image, target=target_u8, pixel_mse=mse, losses=final,
                      history=np.concatenate(history).astype(np.float64), best=best,
                      seconds=time.perf_counter() - start, steps=steps,
                      feature_weight=float(feature_weight) if ev is not None else 0.0,
                      evaluator=ev.dataset if ev is not None else None, label=best_label)


def _check_options(steps: int, restarts: int, lr: float, feature_weight: float, prior_weight: float,
                   seed: int) -> None:
    if not 1 <= steps <= MAX_STEPS:
        raise GanError(f"steps must be 1..{MAX_STEPS}; got {steps}")
    if not 1 <= restarts <= MAX_RESTARTS:
        raise GanError(f"restarts must be 1..{MAX_RESTARTS}; got {restarts}")
    if not (lr > 0 and np.isfinite(lr)):
        raise GanError(f"the learning rate must be a positive number; got {lr}")
    for weight in (feature_weight, prior_weight):
        if not (np.isfinite(weight) and weight >= 0):
            raise GanError(f"the feature and prior weights must be finite numbers of 0 or more; got {weight}")
    if not 0 <= seed <= latent_space.MAX_SEED:
        raise GanError(f"seed must be 0..{latent_space.MAX_SEED}; got {seed}")


def _starting_points(generator, runner, restarts: int, seed: int, label: int | None, target_t, target_feats,
                     weights):
    """(z, one-hot y) of the `restarts` best of many random (class, z) pairs: where the descent starts."""
    import tensorflow as tf

    count = max(restarts, restarts * CANDIDATES_PER_RESTART)
    candidates = latent_space.sample_z(seed, (count, generator.noise_dim), generator.noise)
    classes = _candidate_classes(generator, label)
    scores = np.asarray(runner.objective(tf.constant(np.tile(candidates, (len(classes), 1))),
                                         tf.constant(np.repeat(classes, count, axis=0)), target_t, target_feats,
                                         weights)).reshape(len(classes), count)
    order = np.argsort(scores.reshape(-1), kind="stable")[:restarts]  # the best (class, z) pairs
    return tf.constant(candidates[order % count]), tf.constant(classes[order // count])


def generator_classes(generator) -> int:
    return int(getattr(generator, "num_classes", 0) or 0)


def _candidate_classes(generator, label: int | None) -> np.ndarray:
    """The one-hot classes to try, (classes, C); one empty (1, 0) row for an unconditional generator."""
    num_classes = generator_classes(generator)
    if not num_classes:
        if label is not None:
            raise GanError("this generator is not class-conditional; project without a label")
        return np.zeros((1, 0), np.float32)
    if label is None:
        return np.eye(num_classes, dtype=np.float32)
    if not 0 <= int(label) < num_classes:
        raise GanError(f"the class must be 0..{num_classes - 1}; got {label}")
    return np.eye(num_classes, dtype=np.float32)[[int(label)]]


def summary(found: Projection) -> str:
    """One line for a terminal or a caption: how close, and how it was found."""
    loss = "pixels" + (f" + {found.evaluator} evaluator features x {found.feature_weight:g}" if found.evaluator else "")
    as_class = f"as class {found.label}; " if found.label is not None else ""
    return (f"pixel error: MSE {found.pixel_mse:.4f} (RMSE {found.pixel_rmse:.3f}, pixels in [0, 1]); {as_class}"
            f"best of {found.restarts} restarts x {found.steps} steps in {found.seconds:.1f} s; loss: {loss}")


def _as_target(target: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    x = np.asarray(target)
    if x.ndim == 2:
        x = x[..., None]
    if x.shape != tuple(shape):
        raise DataError(f"the target is {x.shape} but this generator makes {tuple(shape)} images; "
                        "pass it through prepare_target() first")
    return data_lib.unit_to_uint8(x)


@dataclass
class _Runner:
    features: Callable
    objective: Callable
    descend: Callable


# One set of traced functions per (generator model, evaluator model, noise): tracing takes longer than a
# projection's steps, and the app projects again and again with the same generator.
_RUNNERS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _runner(generator, evaluator, uniform: bool) -> _Runner:
    per_model = _RUNNERS.setdefault(generator.model, {})
    key = (id(evaluator.model) if evaluator is not None else None, uniform, generator.pixel_range)
    if key not in per_model:
        per_model[key] = _build_runner(generator.model, evaluator, uniform, generator.pixel_range,
                                       generator.noise_dim, conditional=generator_classes(generator) > 0)
    return per_model[key]


def _build_runner(model, evaluator, uniform: bool, pixel_range: str, noise_dim: int,
                  conditional: bool = False) -> _Runner:
    import keras
    import tensorflow as tf


    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-8
    if evaluator is not None:
        feature_model = keras.Model(evaluator.model.inputs, evaluator.model.get_layer(classifier.FEATURE_LAYER).output)
    else:
        feature_model = None

    def features(unit_images):
        """Evaluator features of (N, H, W, C) images in [0, 1], as evaluation.to_evaluator_input feeds
        them (gray, 32 cropped to 28, other sizes resized); zeros without an evaluator."""
        if feature_model is None:
            return tf.zeros([tf.shape(unit_images)[0], 1])
        x = unit_images
        if x.shape[-1] == 3:
            x = tf.reduce_mean(x, axis=-1, keepdims=True)
        side = x.shape[1]
        if side == 32:
            x = x[:, 2:30, 2:30]
        elif side != classifier.INPUT_SIZE:
            x = tf.image.resize(x, (classifier.INPUT_SIZE, classifier.INPUT_SIZE), antialias=True)
        return feature_model(tf.clip_by_value(x, 0.0, 1.0), training=False)

    def objective(z, y, target, target_feats, weights):
        # y: each row's one-hot class for a conditional generator; (n, 0) and unused otherwise
        raw = model([z, y] if conditional else z, training=False)
        pixel = tf.reduce_mean(tf.square(raw - target), axis=[1, 2, 3])
        unit = (raw + 1.0) / 2.0 if pixel_range == "tanh" else raw
        loss = pixel
        if feature_model is not None:
            f = features(unit)
            energy = tf.reduce_mean(tf.square(target_feats)) + 1e-6
            loss = loss + weights[0] * tf.reduce_mean(tf.square(f - target_feats), axis=1) / energy
        if not uniform:
            radius = tf.norm(z, axis=1) / np.sqrt(noise_dim)
            loss = loss + weights[1] * tf.square(radius - 1.0)
        return loss

    @tf.function(reduce_retracing=True)
    def run_objective(z, y, target, target_feats, weights):
        return objective(z, y, target, target_feats, weights)

    @tf.function(reduce_retracing=True)
    def descend(z, m, v, y, target, target_feats, weights, done, n, total, lr):
        history = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            with tf.GradientTape() as tape:
                tape.watch(z)
                losses = objective(z, y, target, target_feats, weights)
                total_loss = tf.reduce_sum(losses)  # inside the tape, or it has no gradient
            grad = tape.gradient(total_loss, z)
            t = tf.cast(done + i + 1, tf.float32)
            m = beta_1 * m + (1.0 - beta_1) * grad
            v = beta_2 * v + (1.0 - beta_2) * tf.square(grad)
            step_lr = lr * (0.05 + 0.95 * 0.5 * (1.0 + tf.cos(np.pi * (t - 1.0) / total)))  # cosine decay
            update = (m / (1.0 - beta_1 ** t)) / (tf.sqrt(v / (1.0 - beta_2 ** t)) + epsilon)
            z = z - step_lr * update
            if uniform:
                z = tf.clip_by_value(z, 0.0, 1.0)
            history = history.write(i, losses)
        return z, m, v, history.stack()

    return _Runner(features=tf.function(features, autograph=False, reduce_retracing=True), objective=run_objective,
                   descend=descend)
