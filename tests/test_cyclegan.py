"""CycleGAN's pieces on small synthetic inputs: network shapes, instance norm, the losses, the image pool, the step."""
import numpy as np
import pytest

from gan_core.errors import ConfigError
from gan_core.models import cyclegan as cyclegan_nets
from gan_core.models import pix2pix as pix2pix_nets
from gan_core.train import cyclegan_step as cyclegan_training


def blobs(n: int, size: int = 32, channels: int = 1, seed: int = 0) -> np.ndarray:
    """n images in [-1, 1]: a bright disc on a dark ground at a random place."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.full((n, size, size, channels), -1.0, np.float32)
    for i in range(n):
        cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
        out[i][(yy - cy) ** 2 + (xx - cx) ** 2 < (size // 6) ** 2] = 1.0
    return out


@pytest.mark.parametrize("size,channels,downs", [(16, 1, 1), (32, 1, 2), (64, 3, 2)])
def test_generator_keeps_the_shape_and_discriminator_scores_patches(size, channels, downs):
    G = cyclegan_nets.build_resnet_generator(size, channels, filters=8, res_blocks=2)
    D = cyclegan_nets.build_patch_discriminator(size, channels, filters=8)
    assert G.output_shape == (None, size, size, channels)
    assert cyclegan_nets.downsamplings(size) == downs
    grid = pix2pix_nets.patchgan_geometry(size).grid
    assert D.output_shape == (None, grid, grid, 1)
    x = blobs(2, size, channels)
    out = np.asarray(G(x, training=False))
    assert out.min() >= -1 and out.max() <= 1  # tanh


def test_residual_blocks_are_there():
    def adds(model):
        return sum(layer.__class__.__name__ == "Add" for layer in model.layers)

    assert adds(cyclegan_nets.build_resnet_generator(32, 1, 8, res_blocks=0)) == 0
    assert adds(cyclegan_nets.build_resnet_generator(32, 1, 8, res_blocks=6)) == 6


def test_instance_norm_makes_a_translation_independent_of_its_batch():
    """Unlike batch norm in training mode, a picture's output must not depend on the others beside it."""
    G = cyclegan_nets.build_resnet_generator(32, 1, filters=8, res_blocks=1)
    x = blobs(4)
    together = np.asarray(G(x, training=True))
    alone = np.asarray(G(x[:1], training=True))
    np.testing.assert_allclose(alone, together[:1], atol=1e-5)
    norm = cyclegan_nets._instance_norm(8)
    y = np.asarray(norm(np.random.default_rng(0).normal(3, 5, (2, 6, 6, 8)).astype(np.float32)))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-4)  # per image, per channel
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1, atol=1e-2)


def test_bad_sizes_and_widths_say_what_works():
    with pytest.raises(ConfigError, match="power of two"):
        cyclegan_nets.build_resnet_generator(28, 1)
    with pytest.raises(ConfigError, match="res_blocks"):
        cyclegan_nets.build_resnet_generator(32, 1, 8, res_blocks=-1)
    with pytest.raises(ConfigError, match="filters"):
        cyclegan_nets.build_patch_discriminator(32, 1, filters=0)


def test_least_squares_losses_on_known_scores():
    ones, zeros = np.ones((2, 4, 4, 1), np.float32), np.zeros((2, 4, 4, 1), np.float32)
    assert float(cyclegan_training.discriminator_loss(ones, zeros)) == 0.0  # a perfect D
    assert float(cyclegan_training.discriminator_loss(zeros, ones)) == pytest.approx(1.0)  # 0.5 * (1 + 1)
    assert float(cyclegan_training.generator_adversarial_loss(ones)) == 0.0
    assert float(cyclegan_training.generator_adversarial_loss(zeros + 0.5)) == pytest.approx(0.25)


def test_cycle_and_identity_losses_are_weighted_l1():
    a = np.zeros((1, 4, 4, 1), np.float32)
    b = a + 0.5
    assert float(cyclegan_training.cycle_loss(a, a)) == 0.0
    assert float(cyclegan_training.cycle_loss(a, b)) == pytest.approx(10 * 0.5)  # lambda = 10
    assert float(cyclegan_training.cycle_loss(a, b, weight=2)) == pytest.approx(1.0)
    assert float(cyclegan_training.identity_loss(a, b)) == pytest.approx(5 * 0.5)  # 0.5 * lambda


def test_image_pool_fills_then_swaps_half_for_older_fakes():
    import tensorflow as tf

    pool = cyclegan_training.ImagePool(4, (2, 2, 1))
    batches = [np.full((2, 2, 2, 1), v, np.float32) + np.arange(2)[:, None, None, None] for v in (0, 10, 20, 30)]
    seed = lambda i: tf.constant([7, i], tf.int64)  # noqa: E731
    # while filling, fakes come back as they are
    np.testing.assert_array_equal(pool.query(batches[0], seed(0)).numpy(), batches[0])
    np.testing.assert_array_equal(pool.query(batches[1], seed(1)).numpy(), batches[1])
    assert int(pool.count) == 4
    stored = sorted(pool.images.numpy()[:, 0, 0, 0].tolist())
    assert stored == [0, 1, 10, 11]
    # full: each returned image is the new fake or one that was stored; the pool keeps 4 of all seen so far
    seen, swapped = set(stored), 0
    for i, batch in enumerate(batches[2:], start=2):
        out = pool.query(batch, seed(i)).numpy()[:, 0, 0, 0]
        assert set(out) <= seen | set(batch[:, 0, 0, 0])
        swapped += sum(v not in batch[:, 0, 0, 0] for v in out)
        seen |= set(batch[:, 0, 0, 0])
        assert int(pool.count) == 4
    assert set(pool.images.numpy()[:, 0, 0, 0]) <= seen
    # the same seed gives the same draws
    again = cyclegan_training.ImagePool(4, (2, 2, 1))
    for i, batch in enumerate(batches):
        again.query(batch, seed(i))
    np.testing.assert_array_equal(again.images.numpy(), pool.images.numpy())
    assert swapped > 0, "a full pool should hand back some older fakes"


def test_a_pool_of_zero_passes_fakes_through():
    import tensorflow as tf

    pool = cyclegan_training.ImagePool(0, (2, 2, 1))
    x = np.random.default_rng(0).normal(size=(3, 2, 2, 1)).astype(np.float32)
    np.testing.assert_array_equal(pool.query(x, tf.constant([0, 0], tf.int64)).numpy(), x)


def test_train_steps_lower_the_cycle_loss_and_update_all_four_networks():
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    G, F = (cyclegan_nets.build_resnet_generator(16, 1, 8, 1) for _ in range(2))
    D_A, D_B = (cyclegan_nets.build_patch_discriminator(16, 1, 8) for _ in range(2))
    g_opt = keras.optimizers.Adam(2e-3, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-3, beta_1=0.5)
    pools = cyclegan_training.ImagePool(4, (16, 16, 1), "a"), cyclegan_training.ImagePool(4, (16, 16, 1), "b")
    step = cyclegan_training.make_train_step(G, F, D_A, D_B, g_opt, d_opt, *pools)
    before = [[w.numpy().copy() for w in m.trainable_weights] for m in (G, F, D_A, D_B)]
    a, b = blobs(8, 16), -blobs(8, 16, seed=1)  # B: dark discs on a bright ground
    history = [{k: float(v) for k, v in step(a, b, tf.constant([0, i], tf.int64)).items()} for i in range(25)]
    assert set(history[0]) == set(cyclegan_training.METRICS)
    assert all(np.isfinite(list(h.values())).all() for h in history)
    for h in history:
        assert h["g_loss"] == pytest.approx(h["g_gan"] + h["cycle"] + h["identity"], rel=1e-4)
    assert np.mean([h["cycle"] for h in history[-3:]]) < 0.7 * np.mean([h["cycle"] for h in history[:3]])
    for model, old in zip((G, F, D_A, D_B), before):
        assert any(not np.array_equal(o, w.numpy()) for o, w in zip(old, model.trainable_weights)), model.name


def test_identity_loss_needs_domains_of_one_shape():
    import keras

    G = cyclegan_nets.build_resnet_generator(16, 1, 4, 0)
    F = cyclegan_nets.build_resnet_generator(16, 3, 4, 0)
    D = cyclegan_nets.build_patch_discriminator(16, 1, 4)
    pools = cyclegan_training.ImagePool(0, (16, 16, 1)), cyclegan_training.ImagePool(0, (16, 16, 3))
    with pytest.raises(ConfigError, match="identity_weight=0"):
        cyclegan_training.make_train_step(G, F, D, D, keras.optimizers.Adam(), keras.optimizers.Adam(), *pools)
