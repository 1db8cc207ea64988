"""Spectral normalisation of D: the layers' spectral norm is bounded, the gradient goes through sigma, any D."""
import numpy as np
import pytest

from gan_core import config, models


def sigma_max(kernel) -> float:
    k = np.asarray(kernel, np.float64)
    return float(np.linalg.svd(k.reshape(-1, k.shape[-1]), compute_uv=False)[0])


def spectral_d(preset="mnist_dcgan", **values):
    cfg = config.from_preset(preset, {"spectral_norm": True, **values})
    return cfg, models.build_discriminator(cfg)


def test_every_conv_and_dense_of_d_is_normalised_and_names_are_kept():
    from gan_core.models.spectral_norm import (
        SpectralConv2D,
        SpectralDense,
        spectral_normalize,
    )

    cfg = config.from_preset("mnist_dcgan")
    plain = models.get(cfg.architecture).build_discriminator(cfg)
    D = spectral_normalize(plain)
    assert [layer.name for layer in D.layers] == [layer.name for layer in plain.layers]
    kinds = [type(layer).__name__ for layer in D.layers]
    assert kinds.count("SpectralConv2D") == 2 and kinds.count("SpectralDense") == 1
    assert not any(type(layer).__name__ in ("Conv2D", "Dense") for layer in D.layers)
    assert isinstance(D.layers[1], SpectralConv2D) and isinstance(D.layers[-1], SpectralDense)
    # the trainable weights are the plain D's (u is not trained): same parameter count, same shapes
    assert [tuple(v.shape) for v in D.trainable_weights] == [tuple(v.shape) for v in plain.trainable_weights]


def test_after_power_iterations_each_layers_spectral_norm_is_at_most_one():
    cfg, D = spectral_d()
    x = np.random.default_rng(0).normal(size=(1, 28, 28, 1)).astype(np.float32)
    layers = [layer for layer in D.layers if hasattr(layer, "sn_u")]
    for layer in layers:
        layer.kernel.assign(layer.kernel * 5.0)  # far from norm 1, so the bound is not free
    assert all(sigma_max(layer.kernel.numpy()) > 2 for layer in layers)
    for _ in range(200):  # each training call advances u by one power iteration (a random kernel's top two
        D(x, training=True)  # singular values are close, so it takes a while; training's W changes slowly)
    for layer in layers:
        assert sigma_max(layer.normalized_kernel().numpy()) <= 1 + 1e-3, layer.name
        assert sigma_max(layer.normalized_kernel().numpy()) >= 1 - 1e-2, layer.name  # and it is sigma, not less


def test_inference_does_not_advance_u():
    _, D = spectral_d()
    x = np.zeros((2, 28, 28, 1), np.float32)
    layer = D.layers[1]
    before = layer.sn_u.numpy().copy()
    D(x, training=False)
    np.testing.assert_array_equal(layer.sn_u.numpy(), before)
    D(x, training=True)
    assert not np.array_equal(layer.sn_u.numpy(), before)


def test_the_gradient_goes_through_sigma_so_it_is_orthogonal_to_the_kernel():
    """L(W / sigma(W)) does not change when W is scaled, so <dL/dW, W> = 0 (Euler); Keras's own wrapper, which
    assigns W / sigma into the variable, gives a gradient with a component along W."""
    import tensorflow as tf

    _, D = spectral_d()
    x = np.random.default_rng(1).normal(size=(4, 28, 28, 1)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(D(x, training=True)))
    grads = tape.gradient(loss, D.trainable_weights)
    for v, g in zip(D.trainable_weights, grads):
        if v.path.endswith("kernel"):
            cos = float(np.sum(g.numpy() * v.numpy()) / (np.linalg.norm(g.numpy()) * np.linalg.norm(v.numpy())))
            assert abs(cos) < 1e-3, v.path


def test_bfloat16_policy_computes_in_bfloat16_and_stays_bounded():
    import keras

    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        _, D = spectral_d()
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
    x = np.random.default_rng(0).normal(size=(4, 28, 28, 1)).astype(np.float32)
    for _ in range(200):  # as many power iterations as the float32 test: 30 left sigma up to 3% short (CI)
        out = D(x, training=True)
    assert out.dtype == "bfloat16" and np.all(np.isfinite(np.asarray(out, np.float32)))
    layer = D.layers[1]
    assert layer.kernel.dtype == "float32" and layer.sn_u.dtype == "float32"
    in_bf16 = np.asarray(layer.normalized_kernel(), np.float32)
    # the power iteration ran in float32: the bf16 kernel is W / sigma rounded to bf16's 8-bit mantissa, no more
    u = layer.sn_u.numpy().astype(np.float64)
    matrix = layer.kernel.numpy().astype(np.float64).reshape(-1, in_bf16.shape[-1])
    v = u @ matrix.T
    v /= np.linalg.norm(v)
    u_next = v @ matrix
    u_next /= np.linalg.norm(u_next)
    sigma = float(np.sum((v @ matrix) * u_next))
    np.testing.assert_allclose(in_bf16, (matrix / sigma).reshape(in_bf16.shape), rtol=2 ** -8, atol=1e-6)
    assert sigma_max(in_bf16) <= 1 + 2e-2


def test_a_spectral_d_saved_as_keras_loads_in_safe_mode(tmp_path):
    import keras

    _, D = spectral_d()
    x = np.random.default_rng(0).normal(size=(2, 28, 28, 1)).astype(np.float32)
    D(x, training=True)
    path = tmp_path / "d.keras"
    D.save(path)
    loaded = keras.models.load_model(path, compile=False, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(D(x)), rtol=1e-6)
    np.testing.assert_array_equal(loaded.layers[1].sn_u.numpy(), D.layers[1].sn_u.numpy())


@pytest.mark.parametrize("preset", ["mnist_dcgan", "mnist_dense", "mnist_cdcgan", "digits32_upsample"])
def test_any_latent_architectures_d_can_be_normalised(preset):
    cfg = config.from_preset(preset, {"spectral_norm": True})
    D = models.build_discriminator(cfg)
    assert any(type(layer).__name__.startswith("Spectral") for layer in D.layers)


def test_spectral_norm_is_refused_for_image_to_image_presets_and_must_be_a_bool():
    from gan_core.errors import ConfigError

    with pytest.raises(ConfigError, match="spectral_norm is for latent GANs"):
        config.from_preset("pix2pix_edges_digits", {"spectral_norm": True})
    with pytest.raises(ConfigError, match="spectral_norm must be true or false"):
        config.from_preset("mnist_dcgan", {"spectral_norm": "yes"})
