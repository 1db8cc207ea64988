"""Pix2Pix: the U-Net and PatchGAN's shapes, skips and receptive field, the losses on known logits, the paired-data
transforms, a few real train steps on tiny pairs, and the quality figures."""
import numpy as np
import pytest

from gan_core import data
from gan_core.errors import ConfigError, DataError
from gan_core.evaluation import translation_quality
from gan_core.models import pix2pix
from gan_core.train import pix2pix_step as pix2pix_training


def synthetic_digits(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """MNIST-like stand-ins in [-1, 1]: bright strokes (bars and a box outline) on black, (n, size, size, 1)."""
    rng = np.random.default_rng(seed)
    x = -np.ones((n, size, size, 1), np.float32)
    for img in x:
        for _ in range(2):
            top, left = rng.integers(4, size // 2, 2)
            h, w = rng.integers(size // 4, size // 2, 2)
            img[top:top + h, left:left + 3] = 1.0  # vertical bar
            img[top:top + 3, left:left + w] = 1.0  # horizontal bar
    return x


def rgb_images(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)).astype(np.float32)


# --- networks -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size,cin,cout", [(32, 1, 3), (32, 1, 1), (64, 1, 3), (64, 1, 1)])
def test_generator_and_discriminator_shapes(size, cin, cout):
    G = pix2pix.build_unet_generator(size, cin, cout)
    D = pix2pix.build_patchgan_discriminator(size, cin, cout)
    assert G.name == "generator" and G.inputs[0].name == "input"
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, cin)).astype(np.float32)
    y = np.asarray(G(x, training=False))
    assert y.shape == (2, size, size, cout)
    assert np.all(np.abs(y) <= 1.0)  # tanh
    logits = np.asarray(D([x, y], training=False))
    grid = pix2pix.patchgan_geometry(size).grid
    assert logits.shape == (2, grid, grid, 1)
    assert grid >= 4


def test_patchgan_grid_and_receptive_field():
    """About side/8 patches per side, never under 4x4; the paper's 70x70 from 64 up."""
    assert [tuple(pix2pix.patchgan_geometry(s)) for s in (16, 32, 64, 128, 256)] == [
        (1, 6, 16), (2, 6, 34), (3, 6, 70), (3, 14, 70), (3, 30, 70)]


def test_patchgan_logit_sees_exactly_its_receptive_field():
    """The gradient of one interior logit touches a 70x70 square of the 128x128 input and nothing outside it."""
    import tensorflow as tf

    D = pix2pix.build_patchgan_discriminator(128, 1, 1, base_filters=8)
    x = tf.Variable(np.random.default_rng(0).normal(size=(1, 128, 128, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        logit = D([x, x], training=False)[0, 7, 7, 0]
    touched = np.argwhere(np.abs(tape.gradient(logit, x).numpy()[0, ..., 0]) > 0)
    side = touched.max(axis=0) - touched.min(axis=0) + 1
    assert tuple(side) == (70, 70)


def test_networks_match_the_tutorials_parameter_counts_at_256():
    """TensorFlow's pix2pix tutorial: G 54,425,859 and D 2,770,433 for 256x256 RGB -> RGB. Ours leaves out the
    bottleneck's BatchNorm (512 channels: gamma, beta and two moving statistics)."""
    assert pix2pix.build_unet_generator(256, 3, 3).count_params() == 54_425_859 - 4 * 512
    assert pix2pix.build_patchgan_discriminator(256, 3, 3).count_params() == 2_770_433


@pytest.mark.parametrize("size", [32, 64])
def test_unet_has_a_skip_connection_at_every_level(size):
    """depth - 1 concatenations, each joining an upsampled map to the encoder map of the same side: 2, 4, ... size/2."""
    import keras

    G = pix2pix.build_unet_generator(size, 1, 1, base_filters=8)
    producer = {id(layer.output): layer for layer in G.layers}
    concats = [layer for layer in G.layers if isinstance(layer, keras.layers.Concatenate)]
    assert len(concats) == pix2pix.unet_depth(size) - 1
    sides = []
    for layer in concats:
        up, skip = layer.input
        assert up.shape[1:3] == skip.shape[1:3]
        assert isinstance(producer[id(up)], keras.layers.ReLU)  # the decoder's block
        assert isinstance(producer[id(skip)], keras.layers.LeakyReLU)  # the encoder's block of the same side
        sides.append(up.shape[1])
    assert sides == [2 ** k for k in range(1, pix2pix.unet_depth(size))]


def test_output_reaches_the_input_past_the_bottleneck():
    """With the 1x1 bottleneck forced to zeros the output still follows the input: only the skips can carry it
    (without them the decoder would get the same zeros whatever the input, and make one constant picture)."""
    G = pix2pix.build_unet_generator(32, 1, 1, base_filters=8)
    bottleneck = [layer for layer in G.layers if tuple(layer.output.shape[1:3]) == (1, 1)][-1]
    x = synthetic_digits(2)
    a, b = (_run_with_zeroed(G, bottleneck, inputs) for inputs in (x, -x))
    assert np.abs(a - b).max() > 1e-3
    whole = _run_with_zeroed(G, None, x)
    np.testing.assert_allclose(whole, np.asarray(G(x, training=False)), atol=1e-5)  # the replay is G itself
    assert not np.array_equal(whole, a)  # and the zeroing did cut the bottleneck's share


def _run_with_zeroed(G, zeroed_layer, inputs):
    """G's layers one by one in graph order (training=False), with `zeroed_layer`'s output replaced by zeros."""
    values = {id(G.inputs[0]): np.asarray(inputs, np.float32)}
    for layer in G.layers[1:]:
        many = isinstance(layer.input, (list, tuple))
        feed = [values[id(t)] for t in layer.input] if many else values[id(layer.input)]
        out = np.asarray(layer(feed, training=False))
        values[id(layer.output)] = np.zeros_like(out) if layer is zeroed_layer else out
    return values[id(G.outputs[0])]


@pytest.mark.parametrize("size", [0, 8, 24, 48, 100, 33.0])
def test_bad_image_sizes_say_what_works(size):
    for build in (lambda: pix2pix.build_unet_generator(size, 1, 1),
                  lambda: pix2pix.build_patchgan_discriminator(size, 1, 1)):
        with pytest.raises(ConfigError, match=r"power of two of at least 16 \(16, 32, 64"):
            build()


def test_bad_channels_are_a_config_error():
    with pytest.raises(ConfigError, match="in_channels must be a positive"):
        pix2pix.build_unet_generator(32, 0, 3)


# --- losses ---------------------------------------------------------------------------------------------------


def test_discriminator_loss_on_confident_logits():
    big = np.full((2, 6, 6, 1), 20.0, np.float32)
    assert float(pix2pix_training.discriminator_loss(big, -big)) < 1e-6  # real called real, fake called fake
    # both reversed: 20 + 20
    assert float(pix2pix_training.discriminator_loss(-big, big)) == pytest.approx(40.0, rel=1e-4)
    zero = np.zeros_like(big)
    assert float(pix2pix_training.discriminator_loss(zero, zero)) == pytest.approx(2 * np.log(2), rel=1e-6)  # undecided


def test_generator_loss_terms():
    rng = np.random.default_rng(0)
    fake, target = rng.uniform(-1, 1, (2, 2, 8, 8, 3)).astype(np.float32)
    logits = rng.normal(size=(2, 6, 6, 1)).astype(np.float32)
    total, gan, l1 = (float(v) for v in pix2pix_training.generator_loss(logits, fake, target))
    assert l1 == pytest.approx(100.0 * np.mean(np.abs(fake - target)), rel=1e-5)
    assert gan == pytest.approx(np.mean(np.log1p(np.exp(-logits))), rel=1e-5)  # BCE(1, logits)
    assert total == pytest.approx(gan + l1, rel=1e-6)
    weighted = pix2pix_training.generator_loss(logits, fake, target, l1_weight=10.0)[2]
    assert float(weighted) == pytest.approx(l1 / 10, rel=1e-5)


# --- paired data ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,channels,in_channels", [
    ("edges", 1, 1), ("edges", 3, 1), ("grayscale", 3, 1), ("masked", 1, 1), ("masked", 3, 3)])
def test_pairings_shapes_channels_and_range(name, channels, in_channels):
    images = rgb_images(3, 16)[..., :channels]
    inputs, targets = data.make_pairs(images, name, seed=1)
    assert inputs.dtype == np.float32 and inputs.shape == (3, 16, 16, in_channels)
    assert inputs.min() >= -1.0 and inputs.max() <= 1.0
    np.testing.assert_array_equal(targets, images)
    assert data.PAIRINGS[name].channels(channels) == (in_channels, channels)


def test_edges_of_flat_and_step_images():
    flat = np.full((2, 16, 16, 3), 0.3, np.float32)
    np.testing.assert_allclose(data.edges(flat), -1.0, atol=1e-6)  # -1 is "no edge", frame included
    step = -np.ones((1, 16, 16, 1), np.float32)
    step[:, :, 8:] = 1.0  # black | white, the step between columns 7 and 8
    e = data.edges(step)[0, ..., 0]
    np.testing.assert_allclose(e[:, 7:9], 1.0)  # both sides of the step: the full-step response
    np.testing.assert_allclose(e[:, :6], -1.0)
    np.testing.assert_allclose(e[:, 10:], -1.0)


def test_grayscale_of_gray_is_itself_and_uses_luminance():
    gray = np.repeat(np.linspace(-1, 1, 16 * 16, dtype=np.float32).reshape(1, 16, 16, 1), 3, axis=-1)
    np.testing.assert_allclose(data.grayscale(gray), gray[..., :1], atol=1e-6)
    pure = np.zeros((1, 2, 2, 3), np.float32)
    pure[..., 1] = 1.0  # green on mid-grey
    np.testing.assert_allclose(data.grayscale(pure), 0.587, atol=1e-6)


def test_masked_blanks_one_rectangle_and_is_deterministic():
    images = rgb_images(4, 32)
    out = data.masked(images, seed=3)
    mask = data.hole_mask(4, 32, 32, seed=3)
    np.testing.assert_array_equal(out[~mask], images[~mask])
    assert np.all(out[mask] == 0.0)
    for m in mask:
        rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
        assert m.sum() == len(rows) * len(cols)  # one filled rectangle
        assert 8 <= len(rows) <= 16 and 8 <= len(cols) <= 16  # a quarter to a half of the side
    np.testing.assert_array_equal(data.masked(images, seed=3), out)
    assert not np.array_equal(data.masked(images, seed=4), out)
    np.testing.assert_array_equal(data.make_pairs(images, "masked", seed=3)[0], out)


def test_pairing_errors_name_the_fix():
    with pytest.raises(ConfigError, match="unknown pairing 'sketch'; choose one of: edges, grayscale, masked"):
        data.make_pairs(rgb_images(1, 16), "sketch")
    with pytest.raises(ConfigError, match="needs RGB images"):
        data.make_pairs(synthetic_digits(1, 16), "grayscale")
    with pytest.raises(DataError, match=r"x / 127.5 - 1"):
        data.make_pairs(np.full((1, 16, 16, 1), 255.0), "edges")
    with pytest.raises(DataError, match="a batch"):
        data.edges(np.zeros((16, 16), np.float32))


def test_split_side_by_side_round_trip_and_error():
    pairs = rgb_images(2, 16)[:, :8]  # (2, 8, 16, 3): A | B
    a, b = data.split_side_by_side(pairs)
    assert a.shape == b.shape == (2, 8, 8, 3)
    np.testing.assert_array_equal(np.concatenate([a, b], axis=2), pairs)
    np.testing.assert_array_equal(a, pairs[:, :, :8])
    with pytest.raises(DataError, match="twice as wide as tall; these are 16 high and 16 wide"):
        data.split_side_by_side(rgb_images(1, 16))


# --- training -------------------------------------------------------------------------------------------------


def test_train_steps_lower_the_l1_on_the_training_pairs():
    """30 steps of the tutorial's recipe on 8 tiny edges -> digit pairs take G's L1 down by over a tenth (about
    95 -> 76 here; a step that does not update G leaves it flat, one that ascends raises it)."""
    import keras

    keras.utils.set_random_seed(0)
    inputs, targets = data.make_pairs(synthetic_digits(8), "edges")
    G = pix2pix.build_unet_generator(32, 1, 1, base_filters=16)
    D = pix2pix.build_patchgan_discriminator(32, 1, 1, base_filters=16)
    g_before = [w.numpy().copy() for w in G.trainable_weights]
    step = pix2pix_training.make_train_step(G, D, *pix2pix_training.make_optimizers())
    history = [{k: float(v) for k, v in step(inputs, targets).items()} for _ in range(30)]
    assert set(history[0]) == {"g_loss", "g_gan", "g_l1", "d_loss", "d_real", "d_fake"}
    assert all(abs(h["g_loss"] - h["g_gan"] - h["g_l1"]) < 1e-3 for h in history)
    assert all(np.isfinite(list(h.values())).all() for h in history)
    l1 = [h["g_l1"] for h in history]
    assert np.mean(l1[-3:]) < 0.9 * np.mean(l1[:3]), l1
    assert all(not np.array_equal(a, w.numpy()) for a, w in zip(g_before, G.trainable_weights))


def test_train_step_refuses_models_that_do_not_fit():
    G = pix2pix.build_unet_generator(32, 1, 3, base_filters=4)
    D = pix2pix.build_patchgan_discriminator(32, 1, 1, base_filters=4)
    with pytest.raises(ConfigError, match="Build both with the same image_size, in_channels and out_channels"):
        pix2pix_training.make_train_step(G, D, *pix2pix_training.make_optimizers())


def test_translate_is_in_unit_range_and_independent_of_the_batch():
    """training=False: no dropout and no batch statistics, so an input's picture is the same alone or in a batch."""
    G = pix2pix.build_unet_generator(32, 1, 3, base_filters=8)
    x = data.edges(synthetic_digits(3))
    out = pix2pix_training.translate(G, x)
    assert out.shape == (3, 32, 32, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(pix2pix_training.translate(G, x[:1]), out[:1], atol=1e-5)
    np.testing.assert_allclose(pix2pix_training.translate(G, x, batch_size=2), out, atol=1e-5)


# --- quality figures ------------------------------------------------------------------------------------------


def test_l1_error_and_ssim():
    a = (rgb_images(3, 16) + 1) / 2
    assert translation_quality.l1_error(a, a) == 0.0
    assert translation_quality.ssim(a, a) == pytest.approx(1.0, abs=1e-6)
    assert translation_quality.l1_error(np.zeros_like(a), np.ones_like(a)) == 1.0
    assert translation_quality.l1_error(a, 1 - a) == pytest.approx(np.mean(np.abs(2 * a - 1)), rel=1e-6)
    assert translation_quality.ssim(a, np.clip(a + np.random.default_rng(1).normal(0, 0.2, a.shape), 0, 1)) < 0.9
    with pytest.raises(DataError, match="one shape"):
        translation_quality.l1_error(a, a[:2])


def test_baselines():
    targets = rgb_images(2, 16)
    gray = data.grayscale(targets)
    ident = translation_quality.baseline(gray, targets, "identity")
    assert ident.shape == targets.shape and ident.min() >= 0 and ident.max() <= 1
    np.testing.assert_allclose(ident, np.repeat((gray + 1) / 2, 3, axis=-1), atol=1e-6)
    blurred = translation_quality.baseline(gray, targets, "blurred")
    assert blurred.shape == targets.shape
    assert blurred.std() < ident.std()  # smoothing noise lowers its spread
    holes = data.masked(targets)
    np.testing.assert_allclose(translation_quality.baseline(holes, targets, "identity"), (holes + 1) / 2, atol=1e-6)
    with pytest.raises(ConfigError, match="unknown baseline 'mean'; choose one of: identity, blurred"):
        translation_quality.baseline(gray, targets, "mean")


def test_chroma_error_sees_colour_not_brightness():
    rng = np.random.default_rng(0)
    colour = rng.uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    gray = np.repeat((colour @ np.float32([0.299, 0.587, 0.114]))[..., None], 3, axis=-1)
    assert translation_quality.chroma_error(colour, colour) == 0.0
    # grays differ only in brightness
    assert translation_quality.chroma_error(gray, gray * 0.5) == pytest.approx(0.0, abs=1e-6)
    assert translation_quality.chroma_error(gray, colour) > 0.1
    with pytest.raises(DataError, match="RGB"):
        translation_quality.chroma_error(gray[..., :1], gray[..., :1])


def test_keep_luminance_outputs_the_inputs_brightness_whatever_the_weights():
    """Colourisation with keep_luminance: luma(output) is the input, so structure cannot be lost; only colour is
    learned. Checked on an untrained U-Net (random colours) and after its weights are shaken."""
    rng = np.random.default_rng(0)
    gray = rng.uniform(-0.6, 0.6, (3, 32, 32, 1)).astype(np.float32)
    G = pix2pix.build_unet_generator(32, 1, 3, base_filters=8, keep_luminance=True)
    for _ in range(2):
        out = np.asarray(G(gray, training=False))
        assert out.shape == (3, 32, 32, 3) and out.min() >= -1 and out.max() <= 1
        luma = out @ np.float32([0.299, 0.587, 0.114])
        inside = np.all(np.abs(out) < 0.999, axis=-1)  # where nothing was clipped
        np.testing.assert_allclose(luma[inside], gray[..., 0][inside], atol=1e-4)
        G.set_weights([w + rng.normal(0, 0.05, w.shape).astype(np.float32) if w.ndim == 4 and w.shape[:2] != (1, 1)
                       else w for w in G.get_weights()])
    assert len(G.trainable_weights) < len(G.weights)  # the two fixed 1x1 convolutions do not train
    with pytest.raises(ConfigError, match="1 input and 3 output channels"):
        pix2pix.build_unet_generator(32, 3, 3, base_filters=8, keep_luminance=True)
