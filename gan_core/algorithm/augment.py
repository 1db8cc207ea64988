"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

D sees every image, real or generated, through the same random, differentiable augmentations, so it cannot
memorise a small training set (10,000 faces) and G still gets gradients through them. The config's ``augment``
names the policies to apply, in order, comma-separated: ``translation``, ``cutout``, ``color`` (any subset;
``""`` = off). Each is the paper's TensorFlow code, rewritten with stateless randomness:

``color``        brightness + U(-0.5, 0.5), then saturation x U(0, 2) around each pixel's channel mean, then
                 contrast x U(0.5, 1.5) around each image's mean (gray images: saturation does nothing). This
                 moves pixels outside [-1, 1] by design (the paper does not clip; clipping would cut gradients).
``translation``  shift by up to 1/8 of the side in x and y, the uncovered border filled with 0 (mid-gray).
``cutout``       one square of half the side, centred anywhere, set to 0.

All work on pixels in [-1, 1] (``sigmoid`` data in [0, 1] is mapped there and back, so 0 still means mid-gray)
and draw each image's parameters from a stateless ``key``: the trainer folds its step key, so a run is
reproducible however its steps are grouped into calls and after a resume, and real and fake images get
independent draws from the same distribution.
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import ConfigError

POLICIES = ("translation", "cutout", "color")


def parse_policy(text: str) -> tuple[str, ...]:
    """`"translation,cutout"` -> ("translation", "cutout"); refuses unknown or repeated names."""
    names = tuple(p.strip() for p in text.split(",") if p.strip()) if text else ()
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise ConfigError(f"augment takes a comma-separated subset of {', '.join(POLICIES)} (or nothing for off); "
                          f"got {', '.join(map(repr, unknown))}")
    if len(set(names)) != len(names):
        raise ConfigError(f"augment names a policy twice: {text!r}")
    return names


def _uniform(key, index: int, shape, minval=0.0, maxval=1.0, dtype=None):
    import tensorflow as tf

    seed = tf.random.experimental.stateless_fold_in(key, index)
    return tf.random.stateless_uniform(shape, seed=seed, minval=minval, maxval=maxval, dtype=dtype or tf.float32)


def color(x, key):
    import tensorflow as tf

    n = tf.shape(x)[0]
    x = x + tf.cast(_uniform(key, 0, [n, 1, 1, 1]) - 0.5, x.dtype)  # brightness
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * tf.cast(_uniform(key, 1, [n, 1, 1, 1]) * 2.0, x.dtype) + mean  # saturation
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * tf.cast(_uniform(key, 2, [n, 1, 1, 1]) + 0.5, x.dtype) + mean  # contrast


def translation(x, key, ratio: float = 0.125):
    import tensorflow as tf

    n, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
    shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = _uniform(key, 0, [n, 1], -shift_h, shift_h + 1, tf.int32)
    dx = _uniform(key, 1, [n, 1], -shift_w, shift_w + 1, tf.int32)
    # row i of the output is row i + dy of the input, padded with one row of zeros on each side (the paper's gather)
    rows = tf.clip_by_value(tf.range(height)[None, :] + dy + 1, 0, height + 1)
    cols = tf.clip_by_value(tf.range(width)[None, :] + dx + 1, 0, width + 1)
    x = tf.gather(tf.pad(x, [[0, 0], [1, 1], [0, 0], [0, 0]]), rows, axis=1, batch_dims=1)
    return tf.gather(tf.pad(x, [[0, 0], [0, 0], [1, 1], [0, 0]]), cols, axis=2, batch_dims=1)


def cutout(x, key, ratio: float = 0.5):
    import tensorflow as tf

    n, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
    size_h, size_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    top = _uniform(key, 0, [n, 1, 1], 0, height + (1 - size_h % 2), tf.int32) - size_h // 2
    left = _uniform(key, 1, [n, 1, 1], 0, width + (1 - size_w % 2), tf.int32) - size_w // 2
    i, j = tf.range(height)[None, :, None], tf.range(width)[None, None, :]
    inside = (i >= top) & (i < top + size_h) & (j >= left) & (j < left + size_w)
    return x * tf.cast(~inside, x.dtype)[..., None]


_FUNCTIONS: dict[str, Callable] = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x, key, policy: tuple[str, ...] | str, pixel_range: str = "tanh"):
    """`x` (NHWC) through the policies in order, each with its own draws from `key` ([2] int64)."""
    import tensorflow as tf

    names = parse_policy(policy) if isinstance(policy, str) else tuple(policy)
    if not names:
        return x
    if pixel_range == "sigmoid":
        x = x * 2.0 - 1.0
    for index, name in enumerate(names):
        x = _FUNCTIONS[name](x, tf.random.experimental.stateless_fold_in(key, index))
    return (x + 1.0) / 2.0 if pixel_range == "sigmoid" else x


def make_augment(policy: str, pixel_range: str) -> Callable[[Any, Any], Any]:
    """`augment(images, key)` for a config (the identity when the policy is empty)."""
    names = parse_policy(policy)
    return lambda x, key: diff_augment(x, key, names, pixel_range)
