"""Loading a generator for exploration: a mixed-precision file comes back computing in float32."""
import keras
import numpy as np
import pytest

from gan_core import latent_space, models
from gan_core.config import from_preset
from gan_core.errors import ModelError
from gan_core.inference import Generator, average_weights


def test_a_generator_trained_in_mixed_bfloat16_explores_in_float32(tmp_path):
    cfg = from_preset("mnist_dcgan")
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        trained = models.get(cfg.architecture).build_generator(cfg)
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
    assert any(layer.compute_dtype == "bfloat16" for layer in trained.layers)
    trained.save(tmp_path / "g.keras")

    g = Generator.load(tmp_path / "g.keras")
    assert all(layer.dtype_policy.compute_dtype == "float32" for layer in g.model.layers)
    z = latent_space.z_from_seeds(range(4), g.noise_dim, g.noise)
    in_bf16 = (np.asarray(trained(z, training=False), np.float32) + 1) / 2
    assert np.abs(g(z) - in_bf16).max() < 0.05  # the same network; only the rounding differs
    for a, b in zip(g.model.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_float32_generator_is_used_as_it_is(tmp_path):
    cfg = from_preset("mnist_dcgan")
    models.get(cfg.architecture).build_generator(cfg).save(tmp_path / "g.keras")
    g = Generator.load(tmp_path / "g.keras")
    assert all(layer.dtype_policy.compute_dtype == "float32" for layer in g.model.layers)


def test_average_weights_is_the_mean_of_the_epochs(tmp_path):
    cfg = from_preset("mnist_dcgan")
    paths = []
    for i in range(3):
        keras.utils.set_random_seed(i)
        models.get(cfg.architecture).build_generator(cfg).save(tmp_path / f"g{i}.keras")
        paths.append(tmp_path / f"g{i}.keras")
    each = [Generator.load(p).model.get_weights() for p in paths]
    mean = average_weights(paths).get_weights()
    for i, w in enumerate(mean):
        np.testing.assert_allclose(w, np.mean([e[i] for e in each], axis=0), rtol=1e-6)


def test_average_weights_refuses_different_architectures(tmp_path):
    models.get("mnist_dcgan").build_generator(from_preset("mnist_dcgan")).save(tmp_path / "a.keras")
    models.get("mnist_dense").build_generator(from_preset("mnist_dense")).save(tmp_path / "b.keras")
    with pytest.raises(ModelError, match="different architectures"):
        average_weights([tmp_path / "a.keras", tmp_path / "b.keras"])
