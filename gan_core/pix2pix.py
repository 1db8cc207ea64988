"""Image-to-image translation (Pix2Pix: Isola et al. 2017, as in TensorFlow's pix2pix tutorial).

A conditional GAN learns a mapping input -> target from aligned pairs: the generator is a U-Net (an encoder-decoder
whose skip connections carry fine detail past the bottleneck), the discriminator a PatchGAN that judges each patch of
the (input, candidate) pair as real or fake, and the generator's loss adds 100 x L1 to the target, so the GAN term
only has to supply the sharpness that L1 alone blurs away.

Read top to bottom: networks -> losses -> paired data -> the train step -> translation and quality figures.
Pixels are in [-1, 1] (tanh) everywhere except :func:`translate`, :func:`baseline` and the quality figures, which
use [0, 1] so they read like the rest of the app. TensorFlow and Keras are imported inside the functions that need
them, so the NumPy-only pair transforms import fast.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import numpy as np

from .errors import ConfigError, DataError

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

MIN_SIZE = 16
L1_WEIGHT = 100.0  # the paper's lambda
LEARNING_RATE, BETA_1 = 2e-4, 0.5  # the paper's and the tutorial's Adam
_PATCH_STRIDES = 3  # the 70x70 PatchGAN has three stride-2 convolutions


# --- networks -------------------------------------------------------------------------------------------------


def check_image_size(image_size: int) -> None:
    """The U-Net halves the side down to 1x1 and doubles it back, so the side must be a power of two."""
    if not isinstance(image_size, (int, np.integer)) or image_size < MIN_SIZE or image_size & (image_size - 1):
        raise ConfigError(
            f"Pix2Pix needs square images whose side is a power of two of at least {MIN_SIZE} "
            f"(16, 32, 64, 128, 256, ...): the U-Net halves it down to 1x1; got {image_size!r}. "
            f"Resize or crop the images to the nearest such side."
        )


def _check_channels(**channels: int) -> None:
    for name, value in channels.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive whole number (1 for gray, 3 for RGB); got {value!r}")


def _init():
    import keras

    return keras.initializers.RandomNormal(0.0, 0.02)  # the DCGAN/pix2pix initialisation


def _down(x, filters: int, batchnorm: bool = True):
    """Conv 4x4 stride 2 (halves the side) -> BatchNorm -> LeakyReLU; no bias where BatchNorm brings its own."""
    from keras import layers

    x = layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=_init(), use_bias=False)(x)
    if batchnorm:
        x = layers.BatchNormalization()(x)
    return layers.LeakyReLU(0.3)(x)  # Keras's default slope, as in the tutorial


def _up(x, filters: int, dropout: bool = False):
    """Transposed conv 4x4 stride 2 (doubles the side) -> BatchNorm -> [Dropout 0.5] -> ReLU."""
    from keras import layers

    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", kernel_initializer=_init(), use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)  # the paper's only noise source: G takes no z
    return layers.ReLU()(x)


def unet_depth(image_size: int) -> int:
    """Downsamplings from image_size to 1x1: 5 at 32, 6 at 64, 8 at 256 (the tutorial's)."""
    check_image_size(image_size)
    return int(math.log2(image_size))


def build_unet_generator(image_size: int = 64, in_channels: int = 3, out_channels: int = 3,
                         base_filters: int = 64, keep_luminance: bool = False) -> "keras.Model":
    """The tutorial's U-Net, with its depth following the image size.

    Encoder: log2(image_size) blocks of Conv 4x4/2 + BatchNorm + LeakyReLU down to 1x1, filters base, 2*base,
    4*base, then 8*base for the rest. Decoder: the mirror image with transposed convs + BatchNorm + ReLU, Dropout 0.5
    on the first three, each followed by concatenation with the encoder output of the same side (depth - 1 skip
    connections); a last transposed conv to out_channels with tanh makes [-1, 1] images.

    Two BatchNorms are left out: on the first encoder block (as in the paper and the tutorial), and on the 1x1
    bottleneck (as in the authors' own code, unlike the tutorial): normalising a 1x1 map over a batch of one sets it
    to its mean, which would cut everything the bottleneck carries.

    ``keep_luminance`` (gray in, RGB out: colourisation) makes G predict only colour: the U-Net's RGB minus its own
    luminance, plus the input's, clipped to [-1, 1]. The output's brightness is then the input's, as in
    colourisation models that predict the ab of Lab; a plain U-Net must relearn every pixel's brightness and
    leaves texture noise in it. Two fixed 1x1 convolutions, so the file still loads in Keras's safe mode.
    """
    import keras
    from keras import layers

    depth = unet_depth(image_size)
    _check_channels(in_channels=in_channels, out_channels=out_channels, base_filters=base_filters)
    filters = [base_filters * min(2 ** i, 8) for i in range(depth)]

    inputs = keras.Input(shape=(image_size, image_size, in_channels), name="input")
    x, skips = inputs, []
    for i, f in enumerate(filters):
        x = _down(x, f, batchnorm=0 < i < depth - 1)
        skips.append(x)
    for i, (f, skip) in enumerate(zip(reversed(filters[:-1]), reversed(skips[:-1]))):
        x = _up(x, f, dropout=i < 3)
        x = layers.Concatenate()([x, skip])
    outputs = layers.Conv2DTranspose(out_channels, 4, strides=2, padding="same", kernel_initializer=_init(),
                                     activation="tanh")(x)
    if keep_luminance:
        if (in_channels, out_channels) != (1, 3):
            raise ConfigError(f"keep_luminance colourises: it needs 1 input and 3 output channels; got "
                              f"{in_channels} -> {out_channels}")
        # chroma(x) = x - luma(x) per channel: kernel[k, c] = [k == c] - luma_k; gray -> RGB: kernel [1, 1, 1]
        chroma = np.eye(3, dtype=np.float32) - _LUMA[:, None]
        fixed = dict(kernel_size=1, use_bias=False, trainable=False)
        colour = layers.Conv2D(3, kernel_initializer=keras.initializers.Constant(chroma[None, None]), name="chroma",
                               **fixed)(outputs)
        gray = layers.Conv2D(3, kernel_initializer=keras.initializers.Constant(np.ones((1, 1, 1, 3), np.float32)),
                             name="gray_to_rgb", **fixed)(inputs)
        outputs = layers.Activation("hard_tanh", name="clip")(layers.Add(name="keep_luminance")([gray, colour]))
    return keras.Model(inputs, outputs, name="generator")


class PatchGeometry(NamedTuple):
    downsamplings: int  # stride-2 convolutions
    grid: int  # the output is grid x grid patch logits
    receptive_field: int  # side of the input square each logit sees


def patchgan_geometry(image_size: int) -> PatchGeometry:
    """How the PatchGAN fits image_size: the tutorial's three stride-2 convs where the grid stays at least 4x4.

    Layers: n convs 4x4/2, then two 4x4/1 'valid' convs each after a 1-pixel zero pad, so the grid is
    image_size / 2^n - 2 and each logit sees 9 * 2^n - 2 pixels: 70 for n = 3 (the paper's 70x70 PatchGAN, 30x30
    logits at 256; 14x14 at 128, 6x6 at 64), 34 for n = 2 (6x6 at 32), 16 for n = 1 (6x6 at 16). Below 128 a patch
    covers half the image or more, so at these small sides the PatchGAN judges large regions, not texture.
    """
    check_image_size(image_size)
    n = max(1, min(_PATCH_STRIDES, int(math.floor(math.log2(image_size / 6)))))
    return PatchGeometry(n, image_size // 2 ** n - 2, 9 * 2 ** n - 2)


def build_patchgan_discriminator(image_size: int, in_channels: int, out_channels: int,
                                 base_filters: int = 64) -> "keras.Model":
    """The tutorial's PatchGAN: [input, target] -> a grid of patch logits (see :func:`patchgan_geometry`).

    D sees the input beside the candidate, so it judges whether the target fits this input, not only whether it
    looks real. Filters base, 2*base, 4*base on the stride-2 convs (BatchNorm on all but the first), then 2x the
    last (capped at 8*base) + BatchNorm + LeakyReLU, then one logit per patch (no sigmoid: the losses take logits).
    """
    import keras
    from keras import layers

    n, _grid, _rf = patchgan_geometry(image_size)
    _check_channels(in_channels=in_channels, out_channels=out_channels, base_filters=base_filters)
    inp = keras.Input(shape=(image_size, image_size, in_channels), name="input")
    tar = keras.Input(shape=(image_size, image_size, out_channels), name="target")
    x = layers.Concatenate()([inp, tar])
    for i in range(n):
        x = _down(x, base_filters * min(2 ** i, 8), batchnorm=i > 0)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(base_filters * min(2 ** n, 8), 4, strides=1, kernel_initializer=_init(), use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.3)(x)
    x = layers.ZeroPadding2D()(x)
    logits = layers.Conv2D(1, 4, strides=1, kernel_initializer=_init())(x)
    return keras.Model([inp, tar], logits, name="discriminator")


def make_optimizers(learning_rate: float = LEARNING_RATE, beta_1: float = BETA_1) -> tuple[Any, Any]:
    """(G's, D's) Adam with the paper's settings: separate optimizers, since each keeps its own moments."""
    import keras

    return (keras.optimizers.Adam(learning_rate, beta_1=beta_1),
            keras.optimizers.Adam(learning_rate, beta_1=beta_1))


# --- losses ---------------------------------------------------------------------------------------------------


def _bce(label: float, logits: "tf.Tensor") -> "tf.Tensor":
    """Mean binary cross-entropy from logits over every patch and image (Keras's BinaryCrossentropy(from_logits))."""
    import tensorflow as tf

    logits = tf.cast(logits, tf.float32)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(logits), label), logits))


def generator_loss(fake_logits: "tf.Tensor", fake: "tf.Tensor", target: "tf.Tensor",
                   l1_weight: float = L1_WEIGHT) -> tuple["tf.Tensor", "tf.Tensor", "tf.Tensor"]:
    """(total, gan, l1): fool D on every patch, and stay near the target.

    ``l1`` is the weighted term, l1_weight * mean|target - fake| (the tutorial returns it unweighted), so that
    total = gan + l1 and the three curves add up.
    """
    import tensorflow as tf

    gan = _bce(1.0, fake_logits)
    l1 = l1_weight * tf.reduce_mean(tf.abs(tf.cast(target, tf.float32) - tf.cast(fake, tf.float32)))
    return gan + l1, gan, l1


def discriminator_loss(real_logits: "tf.Tensor", fake_logits: "tf.Tensor") -> "tf.Tensor":
    """Real pairs -> 1, generated pairs -> 0, summed (as in the tutorial; the paper halves D's loss instead)."""
    return _bce(1.0, real_logits) + _bce(0.0, fake_logits)


# --- paired data ----------------------------------------------------------------------------------------------

_LUMA = np.float32([0.299, 0.587, 0.114])  # ITU-R BT.601, as Pillow's "L" and tf.image.rgb_to_grayscale


def _check_images(images: np.ndarray, what: str = "images") -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise DataError(f"{what} must be a batch (N, height, width, channels) with 1 or 3 channels; "
                        f"got shape {x.shape}. Add a batch axis with images[None] or a channel axis with [..., None].")
    if x.size and (x.min() < -1.001 or x.max() > 1.001):
        raise DataError(f"{what} must have pixels in [-1, 1]; these span {x.min():.3g}..{x.max():.3g}. Scale uint8 "
                        f"pixels with x / 127.5 - 1, as gan_core.data.load_images(pixel_range='tanh') does.")
    return x


def _luminance(x: np.ndarray) -> np.ndarray:
    """(N, H, W, 1 or 3) -> (N, H, W, 1); the weights sum to 1, so [-1, 1] stays [-1, 1] and gray stays itself."""
    if x.shape[-1] == 1:
        return x.copy()
    return (x @ _LUMA)[..., None].astype(np.float32)


def grayscale(images: np.ndarray) -> np.ndarray:
    """Luminance, 1 channel in [-1, 1]: the input of "grayscale -> colour"."""
    return _luminance(_check_images(images))


def edges(images: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the luminance, 1 channel in [-1, 1]: -1 where flat, +1 on a full black-to-white
    step or steeper (the magnitude is divided by a full step's, 4, and clipped). The input of "edges -> image".

    Border pixels repeat outwards, so a flat image has no edges at its frame either. The map is not thresholded:
    soft gradients stay grey, which tells G more than a binary sketch would.
    """
    lum = (_luminance(_check_images(images))[..., 0] + 1.0) / 2.0  # [0, 1]
    p = np.pad(lum, ((0, 0), (1, 1), (1, 1)), mode="edge")
    rows = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]  # vertical smoothing, then horizontal difference
    cols = p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]
    gx = rows[:, :, 2:] - rows[:, :, :-2]
    gy = cols[:, 2:, :] - cols[:, :-2, :]
    strength = np.clip(np.hypot(gx, gy) / 4.0, 0.0, 1.0)
    return (2.0 * strength - 1.0)[..., None].astype(np.float32)


def hole_mask(n: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """(n, height, width) bool, one random rectangle per image, each side a quarter to a half of the image's:
    where :func:`masked` blanks. The same seed gives the same holes, whatever the pixels."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((n, height, width), bool)
    for i in range(n):
        h = int(rng.integers(max(1, height // 4), max(1, height // 2) + 1))
        w = int(rng.integers(max(1, width // 4), max(1, width // 2) + 1))
        top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        mask[i, top:top + h, left:left + w] = True
    return mask


def masked(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """The images with a random rectangular hole (:func:`hole_mask`) filled with 0 (mid-grey), all channels kept:
    the input of "masked -> full" (inpainting)."""
    x = _check_images(images)
    out = x.copy()
    out[hole_mask(len(x), x.shape[1], x.shape[2], seed)] = 0.0
    return out


@dataclass(frozen=True)
class Pairing:
    name: str
    summary: str
    make_input: Callable[[np.ndarray, int], np.ndarray]  # (targets in [-1, 1], seed) -> inputs in [-1, 1]
    input_channels: int | None  # None: the images' own

    def channels(self, image_channels: int) -> tuple[int, int]:
        """(G's in_channels, out_channels) for images with image_channels."""
        return (self.input_channels or image_channels), image_channels


PAIRINGS: dict[str, Pairing] = {
    "edges": Pairing("edges", "edges -> image: draw the picture from its Sobel edge map",
                     lambda x, seed: edges(x), 1),
    "grayscale": Pairing("grayscale", "grayscale -> colour: colourise the luminance (needs RGB images)",
                         lambda x, seed: grayscale(x), 1),
    "masked": Pairing("masked", "masked -> full: fill in a random rectangular hole",
                      lambda x, seed: masked(x, seed), None),
}


def make_pairs(images: np.ndarray, pairing: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) from unpaired images in [-1, 1]: the targets are the images, the inputs what the pairing
    makes of them. ``seed`` picks the masked pairing's holes (the others ignore it)."""
    try:
        spec = PAIRINGS[pairing]
    except KeyError:
        raise ConfigError(f"unknown pairing {pairing!r}; choose one of: {', '.join(PAIRINGS)}") from None
    targets = _check_images(images)
    if pairing == "grayscale" and targets.shape[-1] != 3:
        raise ConfigError("the grayscale pairing needs RGB images: of 1-channel images the input would equal the "
                          "target. Load the images with 3 channels, or use the 'edges' or 'masked' pairing.")
    return spec.make_input(targets, seed), targets


def split_side_by_side(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) from the usual Pix2Pix dataset layout (facades, maps, edges2shoes): each image is A and B side by
    side, twice as wide as tall; A is the left half. Which half is the input is the dataset's choice (AtoB/BtoA)."""
    x = np.asarray(images)
    if x.ndim != 4:
        raise DataError(f"side-by-side pairs must be a batch (N, height, width, channels); got shape {x.shape}. "
                        f"Add a batch axis with images[None] or a channel axis with [..., None].")
    h, w = x.shape[1:3]
    if w != 2 * h:
        raise DataError(f"side-by-side pairs are one image A|B twice as wide as tall; these are {h} high and {w} wide, "
                        f"so they do not split into two {h}x{h} halves. Crop or resize them to {h}x{2 * h} "
                        f"(height x width), or make pairs from single images with make_pairs.")
    return x[:, :, :h], x[:, :, h:]


# --- training -------------------------------------------------------------------------------------------------


def _fits(generator: "keras.Model", discriminator: "keras.Model") -> None:
    """G's (input, output) must be what D takes, or the step would fail deep inside a traced graph."""
    g_in, g_out = tuple(generator.inputs[0].shape[1:]), tuple(generator.outputs[0].shape[1:])
    d_in = [tuple(t.shape[1:]) for t in discriminator.inputs]
    if d_in != [g_in, g_out]:
        raise ConfigError(f"the discriminator takes [input, target] of shapes {d_in}, but the generator maps "
                          f"{g_in} to {g_out}. Build both with the same image_size, in_channels and out_channels.")


METRICS = ("g_loss", "d_loss", "g_gan", "g_l1", "d_real", "d_fake")


def make_train_step(generator: "keras.Model", discriminator: "keras.Model", g_opt: Any, d_opt: Any,
                    l1_weight: float = L1_WEIGHT, compile: bool = True) -> Callable[[Any, Any], dict[str, "tf.Tensor"]]:
    """`step(inputs, targets) -> {g_loss, d_loss, g_gan, g_l1, d_real, d_fake}`: one update of G and one of D on a
    batch of pairs in [-1, 1], as the tutorial's train_step. g_loss = g_gan + g_l1 (G's total); d_real and d_fake
    are D's mean probability of "real" over the patches of real and generated pairs. ``compile=False`` returns the
    plain function, for a caller that compiles several steps into one call (the trainer)."""
    import tensorflow as tf

    _fits(generator, discriminator)
    for opt, model in ((g_opt, generator), (d_opt, discriminator)):
        if not getattr(opt, "built", True):  # Keras 3 makes its slots lazily: make them outside the trace
            opt.build(model.trainable_variables)

    def train_step(inputs, targets):
        inputs, targets = tf.cast(inputs, tf.float32), tf.cast(targets, tf.float32)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(inputs, training=True)
            real_logits = discriminator([inputs, targets], training=True)
            fake_logits = discriminator([inputs, fake], training=True)
            g_total, g_gan, g_l1 = generator_loss(fake_logits, fake, targets, l1_weight)
            d_loss = discriminator_loss(real_logits, fake_logits)
        g_grads = g_tape.gradient(g_total, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return {"g_loss": g_total, "d_loss": d_loss, "g_gan": g_gan, "g_l1": g_l1,
                "d_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_logits, tf.float32))),
                "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32)))}

    return tf.function(train_step) if compile else train_step


# --- translation and quality ----------------------------------------------------------------------------------


def translate(generator: "keras.Model", inputs: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """G's images of inputs in [-1, 1], as float32 in [0, 1]."""
    x = _check_images(inputs, "inputs")
    if len(x) == 0:
        raise DataError("no inputs to translate; pass at least one image")
    # training=False: BatchNorm uses its moving statistics and dropout is off. The paper and the tutorial keep
    # training=True at test time (batch statistics and dropout as noise), which makes a picture depend on the other
    # pictures in its batch and change from call to call; the app must show one translation per input, so we
    # trade that for determinism. The moving averages need a few hundred steps to settle before this looks right.
    out = np.concatenate([np.asarray(generator(x[i:i + batch_size], training=False), np.float32)
                          for i in range(0, len(x), batch_size)])
    return np.clip((out + 1.0) / 2.0, 0.0, 1.0)


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.shape != b.shape or a.ndim != 4:
        raise DataError(f"compare images of one shape (N, height, width, channels); got {a.shape} and {b.shape}")
    return a, b


def l1_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two batches in [0, 1]: 0 is identical, 1 is black against white everywhere."""
    a, b = _check_pair(a, b)
    return float(np.mean(np.abs(a - b)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two batches in [0, 1] (tf.image.ssim, 11x11 Gaussian window), mean over the batch:
    1 is identical. Unlike L1 it rewards getting edges and texture right, which is what the GAN term is for."""
    import tensorflow as tf

    a, b = _check_pair(a, b)
    if min(a.shape[1:3]) < 11:
        raise DataError(f"SSIM's window is 11x11; these images are {a.shape[1]}x{a.shape[2]}. Use l1_error instead.")
    return float(tf.reduce_mean(tf.image.ssim(a, b, max_val=1.0)))


def chroma_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |colour of a - colour of b| of two RGB batches in [0, 1], where an image's colour is what is left after
    taking out its luminance (x - luma(x), per channel): 0 when the colours match whatever the brightness. It judges
    colourisation, which L1 and SSIM barely see (a gray image already has the right structure and brightness)."""
    a, b = _check_pair(a, b)
    if a.shape[-1] != 3:
        raise DataError(f"chroma_error compares RGB images; these have {a.shape[-1]} channel(s)")
    return float(np.mean(np.abs((a - a @ _LUMA[:, None]) - (b - b @ _LUMA[:, None]))))


BASELINES = ("identity", "blurred")


def _blur(x: np.ndarray, passes: int = 2) -> np.ndarray:
    """Separable 5x5 binomial filter, repeated; mirrored edges."""
    k = np.float32([1, 4, 6, 4, 1]) / 16.0
    h, w = x.shape[1:3]
    for _ in range(passes):
        p = np.pad(x, ((0, 0), (2, 2), (0, 0), (0, 0)), mode="reflect")
        x = sum(k[i] * p[:, i:i + h] for i in range(5))
        p = np.pad(x, ((0, 0), (0, 0), (2, 2), (0, 0)), mode="reflect")
        x = sum(k[i] * p[:, :, i:i + w] for i in range(5))
    return x.astype(np.float32)


def baseline(inputs: np.ndarray, targets: np.ndarray, kind: str = "identity") -> np.ndarray:
    """What no learning gives, in [0, 1] like :func:`translate`, to score a model against with l1_error/ssim.

    ``identity``: the input itself, repeated to the target's channels (gray for colour, the masked image for the
    full one). ``blurred``: the same, smoothed (two 5x5 binomial passes), which fills small holes with their
    surroundings and removes edge maps' detail. A model earns its keep where it beats both.
    """
    x = _check_images(inputs, "inputs")
    y = _check_images(targets, "targets")
    if x.shape[:3] != y.shape[:3]:
        raise DataError(f"inputs {x.shape} and targets {y.shape} must have the same number and size of images")
    if kind not in BASELINES:
        raise ConfigError(f"unknown baseline {kind!r}; choose one of: {', '.join(BASELINES)}")
    if x.shape[-1] != y.shape[-1]:
        x = np.repeat(_luminance(x), y.shape[-1], axis=-1)
    if kind == "blurred":
        x = _blur(x)
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0)
