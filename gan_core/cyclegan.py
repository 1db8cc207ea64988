"""Unpaired image-to-image translation (CycleGAN: Zhu et al. 2017).

Two generators, G: A -> B and F: B -> A, and two discriminators, D_A (is this a real A?) and D_B. No pairs are
needed: G's output must fool D_B (the GAN term, least-squares as in the paper), and the round trips F(G(a)) and
G(F(b)) must come back to where they started (cycle consistency, lambda = 10), which is what ties each output to its
input. An identity term (G(b) ~ b, F(a) ~ a, 0.5 lambda) keeps colours and layout from drifting where nothing needs
translating. D learns from a pool of the last 50 fakes rather than only the newest, which damps oscillation.

Read top to bottom: networks -> losses -> image pool -> the train step. Pixels are in [-1, 1]. TensorFlow and Keras
are imported inside the functions that need them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .errors import ConfigError
from .pix2pix import _check_channels, _init, check_image_size, patchgan_geometry

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

CYCLE_WEIGHT = 10.0  # the paper's lambda
IDENTITY_SHARE = 0.5  # identity loss weight = 0.5 * lambda, as in the paper
POOL_SIZE = 50
LEARNING_RATE, BETA_1 = 2e-4, 0.5


# --- networks -------------------------------------------------------------------------------------------------


def _instance_norm(filters: int):
    """Instance normalisation (per image, per channel): GroupNormalization with one group per channel.

    The paper normalises per instance, not per batch, so a picture's translation never depends on the others in
    its batch; a built-in layer keeps the saved file loadable in Keras's safe mode.
    """
    from keras import layers

    return layers.GroupNormalization(groups=filters, epsilon=1e-5)


def _conv_block(x, filters: int, kernel: int, strides: int = 1, transpose: bool = False, relu: bool = True):
    from keras import layers

    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel, strides=strides, padding="same", kernel_initializer=_init(), use_bias=False)(x)
    x = _instance_norm(filters)(x)
    return layers.ReLU()(x) if relu else x


def downsamplings(image_size: int) -> int:
    """The paper's two stride-2 convolutions, one fewer where the side is under 32 (the bottleneck stays >= 8x8)."""
    check_image_size(image_size)
    return 2 if image_size >= 32 else 1


def build_resnet_generator(image_size: int = 64, channels: int = 3, filters: int = 64,
                           res_blocks: int = 6) -> "keras.Model":
    """The paper's ResNet generator (after Johnson et al.): c7s1-f, d2f, d4f, res_blocks x R4f, u2f, uf, c7s1-channels.

    Every convolution is followed by instance norm and ReLU, except the last (tanh). A residual block adds two 3x3
    convolutions to its input, so G starts near "change little", what translation wants. The paper pads by
    reflection; Keras has no built-in reflection layer (a custom one would not load in safe mode), so the padding
    is zeros ('same').
    """
    import keras
    from keras import layers

    _check_channels(channels=channels, filters=filters)
    if isinstance(res_blocks, bool) or not isinstance(res_blocks, (int, np.integer)) or res_blocks < 0:
        raise ConfigError(f"res_blocks must be 0 or a positive whole number; got {res_blocks!r}")
    n_down = downsamplings(image_size)
    inputs = keras.Input(shape=(image_size, image_size, channels), name="input")
    x = _conv_block(inputs, filters, 7)
    for i in range(n_down):
        x = _conv_block(x, filters * 2 ** (i + 1), 3, strides=2)
    width = filters * 2 ** n_down
    for _ in range(res_blocks):
        y = _conv_block(x, width, 3)
        y = _conv_block(y, width, 3, relu=False)
        x = layers.Add()([x, y])
    for i in reversed(range(n_down)):
        x = _conv_block(x, filters * 2 ** i, 3, strides=2, transpose=True)
    outputs = layers.Conv2D(channels, 7, padding="same", kernel_initializer=_init(), activation="tanh")(x)
    return keras.Model(inputs, outputs, name="generator")


def build_patch_discriminator(image_size: int = 64, channels: int = 3, filters: int = 64) -> "keras.Model":
    """The paper's PatchGAN on one image (no input beside it: nothing is paired), with instance norm.

    Same geometry as Pix2Pix's (:func:`gan_core.pix2pix.patchgan_geometry`): 70x70 patches where the image is big
    enough, a grid of raw scores (least squares: no sigmoid).
    """
    import keras
    from keras import layers

    n, _grid, _rf = patchgan_geometry(image_size)
    _check_channels(channels=channels, filters=filters)
    inputs = keras.Input(shape=(image_size, image_size, channels), name="image")
    x = inputs
    for i in range(n):
        width = filters * min(2 ** i, 8)
        x = layers.Conv2D(width, 4, strides=2, padding="same", kernel_initializer=_init(), use_bias=i == 0)(x)
        if i > 0:
            x = _instance_norm(width)(x)
        x = layers.LeakyReLU(0.2)(x)
    width = filters * min(2 ** n, 8)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(width, 4, kernel_initializer=_init(), use_bias=False)(x)
    x = _instance_norm(width)(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.ZeroPadding2D()(x)
    scores = layers.Conv2D(1, 4, kernel_initializer=_init())(x)
    return keras.Model(inputs, scores, name="discriminator")


# --- losses ---------------------------------------------------------------------------------------------------


def _mse(target: float, scores: "tf.Tensor") -> "tf.Tensor":
    import tensorflow as tf

    return tf.reduce_mean(tf.square(tf.cast(scores, tf.float32) - target))


def _l1(a: "tf.Tensor", b: "tf.Tensor") -> "tf.Tensor":
    import tensorflow as tf

    return tf.reduce_mean(tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))


def generator_adversarial_loss(fake_scores: "tf.Tensor") -> "tf.Tensor":
    """Least squares: push D's score of the fake towards 'real' (1)."""
    return _mse(1.0, fake_scores)


def discriminator_loss(real_scores: "tf.Tensor", fake_scores: "tf.Tensor") -> "tf.Tensor":
    """Least squares, halved as in the paper (so D learns at half G's pace): real -> 1, fake -> 0."""
    return 0.5 * (_mse(1.0, real_scores) + _mse(0.0, fake_scores))


def cycle_loss(real: "tf.Tensor", cycled: "tf.Tensor", weight: float = CYCLE_WEIGHT) -> "tf.Tensor":
    """weight * mean |x - F(G(x))|: the round trip must come back."""
    return weight * _l1(real, cycled)


def identity_loss(real: "tf.Tensor", same: "tf.Tensor", weight: float = CYCLE_WEIGHT * IDENTITY_SHARE) -> "tf.Tensor":
    """weight * mean |b - G(b)|: an image already in G's target domain should pass through unchanged."""
    return weight * _l1(real, same)


# --- image pool -----------------------------------------------------------------------------------------------


class ImagePool:
    """The paper's history of generated images (Shrivastava et al. 2017), as TensorFlow variables so it lives inside
    the compiled step and in the checkpoint.

    Until the pool is full, each fake goes in and is returned as is. Then each fake, with probability 1/2, is swapped
    for a random stored one (which is returned, the new one kept in its place), else returned as is. ``size`` 0
    returns the fakes unchanged.
    """

    def __init__(self, size: int, image_shape: tuple[int, int, int], name: str = "pool"):
        import tensorflow as tf

        if size < 0:
            raise ConfigError(f"pool_size must be 0 or more; got {size}")
        self.size = int(size)
        self.images = tf.Variable(tf.zeros([max(1, self.size), *image_shape]), trainable=False, name=f"{name}_images")
        self.count = tf.Variable(0, dtype=tf.int32, trainable=False, name=f"{name}_count")

    def query(self, fakes: "tf.Tensor", seed: "tf.Tensor") -> "tf.Tensor":
        """The images D should see as fakes this step; ``seed`` (a stateless key, shape [2]) draws the swaps."""
        import tensorflow as tf

        fakes = tf.stop_gradient(tf.cast(fakes, tf.float32))
        if self.size == 0:
            return fakes
        n = tf.shape(fakes)[0]
        out = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            image = fakes[i]
            key = tf.random.experimental.stateless_fold_in(seed, i)
            coin = tf.random.stateless_uniform([], seed=key)
            slot = tf.random.stateless_uniform([], seed=tf.random.experimental.stateless_fold_in(key, 1),
                                               minval=0, maxval=self.size, dtype=tf.int32)
            if self.count < self.size:
                self.images[self.count].assign(image)
                self.count.assign_add(1)
                out = out.write(i, image)
            elif coin < 0.5:
                old = tf.identity(self.images[slot])
                self.images[slot].assign(image)
                out = out.write(i, old)
            else:
                out = out.write(i, image)
        return out.stack()


# --- training -------------------------------------------------------------------------------------------------

METRICS = ("g_loss", "d_loss", "g_gan", "cycle", "identity", "d_real", "d_fake")


def make_train_step(G: "keras.Model", F: "keras.Model", D_A: "keras.Model", D_B: "keras.Model", g_opt: Any,
                    d_opt: Any, pool_a: ImagePool, pool_b: ImagePool, cycle_weight: float = CYCLE_WEIGHT,
                    identity_weight: float = IDENTITY_SHARE,
                    compile: bool = True) -> Callable[..., dict[str, "tf.Tensor"]]:
    """`step(real_a, real_b, seed) -> {g_loss, d_loss, g_gan, cycle, identity, d_real, d_fake}`: one update of
    both generators (one optimizer over G and F, as the paper's code) and of both discriminators.

    ``identity_weight`` is a share of ``cycle_weight`` (the paper's 0.5); it needs A and B of one shape.
    d_real and d_fake are the discriminators' mean raw scores (least squares aims them at 1 and 0).
    ``compile=False`` returns the plain function, for a caller that compiles several steps into one call.
    """
    import tensorflow as tf

    g_vars = G.trainable_variables + F.trainable_variables
    d_vars = D_A.trainable_variables + D_B.trainable_variables
    for opt, variables in ((g_opt, g_vars), (d_opt, d_vars)):
        if not getattr(opt, "built", True):  # Keras 3 makes its slots lazily: make them outside the trace
            opt.build(variables)
    same_shape = tuple(G.inputs[0].shape[1:]) == tuple(F.inputs[0].shape[1:])
    if identity_weight and not same_shape:
        raise ConfigError("the identity loss compares an image with its translation, so A and B must have the same "
                          "size and channels; set identity_weight=0 or load both domains alike")
    id_weight = cycle_weight * identity_weight

    def step(real_a, real_b, seed):
        real_a, real_b = tf.cast(real_a, tf.float32), tf.cast(real_b, tf.float32)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_b = G(real_a, training=True)
            fake_a = F(real_b, training=True)
            cycled_a = F(fake_b, training=True)
            cycled_b = G(fake_a, training=True)
            g_gan = (generator_adversarial_loss(D_B(fake_b, training=True))
                     + generator_adversarial_loss(D_A(fake_a, training=True)))
            cycle = cycle_loss(real_a, cycled_a, cycle_weight) + cycle_loss(real_b, cycled_b, cycle_weight)
            if id_weight:
                identity = (identity_loss(real_b, G(real_b, training=True), id_weight)
                            + identity_loss(real_a, F(real_a, training=True), id_weight))
            else:
                identity = tf.constant(0.0)
            g_loss = g_gan + cycle + identity

            pooled_a = pool_a.query(fake_a, tf.random.experimental.stateless_fold_in(seed, 0))
            pooled_b = pool_b.query(fake_b, tf.random.experimental.stateless_fold_in(seed, 1))
            real_scores = [D_A(real_a, training=True), D_B(real_b, training=True)]
            fake_scores = [D_A(pooled_a, training=True), D_B(pooled_b, training=True)]
            d_loss = sum(discriminator_loss(r, f) for r, f in zip(real_scores, fake_scores))
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        mean = lambda scores: tf.reduce_mean([tf.reduce_mean(tf.cast(s, tf.float32)) for s in scores])  # noqa: E731
        return {"g_loss": g_loss, "d_loss": d_loss, "g_gan": g_gan, "cycle": cycle, "identity": identity,
                "d_real": mean(real_scores), "d_fake": mean(fake_scores)}

    return tf.function(step) if compile else step


def translate(generator: "keras.Model", images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """G's images of ``images`` in [-1, 1], as float32 in [0, 1] (instance norm: no batch effects)."""
    from .pix2pix import translate as _translate

    return _translate(generator, images, batch_size)
