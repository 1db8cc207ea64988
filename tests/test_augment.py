"""DiffAugment: keeps shape (and, for translation and cutout, the pixel range), is differentiable, is keyed."""
import numpy as np
import pytest

from gan_core import config
from gan_core.algorithm import augment
from gan_core.errors import ConfigError


def batch(n=6, size=16, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, size, size, channels)).astype(np.float32)


def key(a=1, b=2):
    import tensorflow as tf

    return tf.constant([a, b], tf.int64)


@pytest.mark.parametrize("policy", ["translation", "cutout", "color", "translation,cutout,color",
                                    "color,translation,cutout"])
def test_keeps_the_shape_and_is_reproducible_from_its_key(policy):
    x = batch()
    a = augment.diff_augment(x, key(), policy).numpy()
    assert a.shape == x.shape and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, augment.diff_augment(x, key(), policy).numpy())
    assert not np.array_equal(a, augment.diff_augment(x, key(1, 3), policy).numpy())
    assert not np.array_equal(a, x)


@pytest.mark.parametrize("policy", ["translation", "cutout", "translation,cutout"])
def test_translation_and_cutout_keep_the_pixel_range_and_fill_with_mid_gray(policy):
    x = batch(n=32)
    a = augment.diff_augment(x, key(), policy).numpy()
    assert a.min() >= -1 and a.max() <= 1
    changed = a != x
    assert np.any(a[changed] == 0)  # filled pixels are 0: mid-gray in [-1, 1]
    s = augment.diff_augment((x + 1) / 2, key(), policy, pixel_range="sigmoid").numpy()
    assert s.min() >= 0 and s.max() <= 1
    np.testing.assert_allclose(s, (a + 1) / 2, atol=1e-6)  # same geometry; 0.5 is mid-gray in [0, 1]


def test_translation_moves_content_by_at_most_an_eighth():
    x = np.zeros((64, 16, 16, 1), np.float32)
    x[:, 8, 8, 0] = 1.0  # one bright pixel
    a = augment.diff_augment(x, key(), "translation").numpy()[..., 0]
    for image in a:
        (i,), (j,) = np.nonzero(image == 1.0)
        assert abs(i - 8) <= 2 and abs(j - 8) <= 2  # 16 / 8 = 2 pixels
    moves = {tuple(np.argwhere(image == 1.0)[0]) for image in a}
    assert len(moves) > 10  # and the shifts differ image by image


def test_cutout_zeroes_one_square_of_half_the_side_clipped_at_the_border():
    x = np.ones((64, 16, 16, 1), np.float32)
    a = augment.diff_augment(x, key(), "cutout").numpy()[..., 0]
    for image in a:
        rows, cols = np.nonzero(image == 0)
        assert rows.max() - rows.min() + 1 <= 8 and cols.max() - cols.min() + 1 <= 8
        assert (image == 0).sum() == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)  # a rectangle
    assert max((image == 0).sum() for image in a) == 64  # some squares lie fully inside


def test_color_is_the_papers_brightness_saturation_contrast():
    x = batch(n=64)
    a = augment.diff_augment(x, key(), "color").numpy()
    # contrast scales around the image mean after brightness: every image's mean moves by its brightness only
    shift = a.mean(axis=(1, 2, 3)) - x.mean(axis=(1, 2, 3))
    assert np.all(np.abs(shift) <= 0.5 + 1e-5) and shift.std() > 0.1
    gray = batch(n=8, channels=1)
    g = augment.diff_augment(gray, key(), "color").numpy()
    centred = lambda v: v - v.mean(axis=(1, 2, 3), keepdims=True)  # noqa: E731
    ratio = centred(g).std(axis=(1, 2, 3)) / centred(gray).std(axis=(1, 2, 3))
    assert np.all((ratio >= 0.5 - 1e-4) & (ratio <= 1.5 + 1e-4))  # gray: saturation does nothing, contrast x [0.5, 1.5]


@pytest.mark.parametrize("policy", ["translation", "cutout", "color", "translation,cutout,color"])
def test_is_differentiable(policy):
    import tensorflow as tf

    x = tf.Variable(batch())
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.square(augment.diff_augment(x, key(), policy)))
    grad = tape.gradient(y, x)
    assert grad is not None and np.all(np.isfinite(grad.numpy())) and np.any(grad.numpy() != 0)


def test_compiles_under_xla_and_stays_keyed():
    """(XLA draws other numbers than TensorFlow's kernels from the same stateless key on this CPU, for
    tf.random.stateless_uniform itself, so compiled and eager agree in distribution, not pixel for pixel.)"""
    import tensorflow as tf

    def augmented(x, k):
        return augment.diff_augment(x, k, "translation,cutout,color")

    f = tf.function(augmented, jit_compile=True)
    a = f(batch(), key()).numpy()
    assert a.shape == batch().shape and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, f(batch(), key()).numpy())


def test_empty_policy_is_the_identity():
    x = batch()
    assert augment.diff_augment(x, key(), "") is x
    assert augment.make_augment("", "tanh")(x, key()) is x


@pytest.mark.parametrize("text,needle", [("flip", "augment takes a comma-separated subset"),
                                         ("cutout,cutout", "names a policy twice")])
def test_bad_policies_are_refused(text, needle):
    with pytest.raises(ConfigError, match=needle):
        config.from_preset("mnist_dcgan", {"augment": text})


def test_policy_round_trips_through_config():
    cfg = config.from_preset("mnist_dcgan", {"augment": "translation,color"})
    assert config.TrainConfig.from_dict(cfg.to_dict()).validate().augment == "translation,color"
