import numpy as np
import pytest

from gan_core import latent_space


def test_a_seed_is_always_the_same_vector():
    a = latent_space.z_from_seed(42, 100)
    assert a.dtype == np.float32 and a.shape == (100,)
    np.testing.assert_array_equal(a, latent_space.z_from_seed(42, 100))
    assert not np.array_equal(a, latent_space.z_from_seed(43, 100))
    # pinned: "seed 42" must mean the same digit in every session and release
    np.testing.assert_allclose(a[:3], [0.14190717, -1.6685079, -1.3321080], rtol=1e-6)


def test_uniform_noise_is_in_unit_interval():
    z = latent_space.z_from_seeds(range(50), 64, "uniform")
    assert z.shape == (50, 64) and z.min() >= 0 and z.max() < 1


def test_bad_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        latent_space.z_from_seed(-1, 10)


@pytest.mark.parametrize("mode", ["lerp", "slerp"])
def test_interpolation_hits_both_endpoints(mode):
    a, b = latent_space.z_from_seed(1, 100), latent_space.z_from_seed(2, 100)
    path = latent_space.interpolate(a, b, 7, mode)
    assert path.shape == (7, 100)
    np.testing.assert_allclose(path[0], a, atol=1e-5)
    np.testing.assert_allclose(path[-1], b, atol=1e-5)


def test_slerp_keeps_gaussian_norms_where_lerp_shrinks_them():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(512), rng.standard_normal(512)
    mid_slerp = latent_space.slerp(a, b, 0.5)
    mid_lerp = latent_space.lerp(a, b, 0.5)
    typical = np.sqrt(512)
    assert abs(np.linalg.norm(mid_slerp) - typical) / typical < 0.05
    assert np.linalg.norm(mid_lerp) < 0.8 * typical  # the washed-out middle slerp exists to avoid
    # the direction moves at constant angular speed along the great circle
    path = latent_space.interpolate(a, b, 5, "slerp")
    unit = path / np.linalg.norm(path, axis=1, keepdims=True)
    angles = np.arccos(np.clip(np.sum(unit[1:] * unit[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(angles, angles.mean(), rtol=1e-4)


def test_slerp_of_uniform_noise_stays_in_range():
    a, b = latent_space.z_from_seed(1, 100, "uniform"), latent_space.z_from_seed(2, 100, "uniform")
    path = latent_space.interpolate(a, b, 9, "slerp", noise="uniform")
    assert path.min() >= 0 and path.max() <= 1


def test_interpolate_rejects_bad_arguments():
    a = np.zeros(3)
    with pytest.raises(ValueError):
        latent_space.interpolate(a, a, 1)
    with pytest.raises(ValueError):
        latent_space.interpolate(a, a, 3, "cubic")


# --- truncation and arithmetic ----------------------------------------------------------------------------------

@pytest.mark.parametrize("noise,centre", [("normal", 0.0), ("uniform", 0.5)])
def test_truncation_psi_0_is_the_centre_and_psi_1_is_z(noise, centre):
    z = latent_space.z_from_seeds(range(4), 100, noise)
    np.testing.assert_array_equal(latent_space.truncate(z, 1.0, noise), z)
    np.testing.assert_array_equal(latent_space.truncate(z, 0.0, noise), np.full_like(z, centre))
    half = latent_space.truncate(z, 0.5, noise)
    assert half.dtype == np.float32 and half.shape == z.shape
    np.testing.assert_allclose(half - centre, 0.5 * (z - centre), atol=1e-6)
    if noise == "uniform":
        assert half.min() >= 0 and half.max() <= 1  # a shrink stays in the cube the generator was trained on


@pytest.mark.parametrize("psi", [-0.1, 1.01, float("nan"), "lots"])
def test_truncation_refuses_psi_outside_0_1_and_says_so(psi):
    from gan_core.errors import GanError

    with pytest.raises(GanError, match=r"psi must be .*between 0.*and 1"):
        latent_space.truncate(np.zeros(3), psi)


def test_arithmetic_and_mean_of_known_vectors():
    a, b, c = np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([-2.0, 4.0])
    np.testing.assert_allclose(latent_space.arithmetic(a, b, c), [-1.5, 7.0])
    np.testing.assert_allclose(latent_space.mean_z([a, b, c]), [-1.0 / 6.0, 5.0 / 3.0], rtol=1e-6)
    assert latent_space.mean_z(a).tolist() == [1.0, 2.0]  # one z is its own mean
    # A - A + C is C whatever A is; the mean of one seed is that seed's z
    za, zc = latent_space.z_from_seed(1, 100), latent_space.z_from_seed(3, 100)
    np.testing.assert_allclose(latent_space.arithmetic(za, za, zc), zc, atol=1e-6)
    np.testing.assert_array_equal(latent_space.mean_z_of_seeds([1], 100), za)
    np.testing.assert_allclose(latent_space.mean_z_of_seeds([1, 3], 100), (za + zc) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        latent_space.arithmetic(a, b, np.zeros(3))


def test_parse_seeds_reads_lists_and_ranges_and_explains_mistakes():
    from gan_core.errors import GanError

    assert latent_space.parse_seeds("7") == [7]
    assert latent_space.parse_seeds(" 3, 17 42,") == [3, 17, 42]
    assert latent_space.parse_seeds("10-13, 2") == [10, 11, 12, 13, 2]
    for text, needle in (("", "at least one seed"), ("seven", "not a seed"), ("5-2", "backwards"),
                         ("-3", "not a seed"), ("0-100", "at most 64"), (str(2**32), "seeds go from 0")):
        with pytest.raises(GanError, match=needle):
            latent_space.parse_seeds(text)


def test_a_grid_past_the_last_seed_names_the_grid_s_last_seed():
    from gan_core.errors import ConfigError

    # before: "seed must be between 0 and 4294967295; got 4294967296", a seed nobody typed
    with pytest.raises(ConfigError, match=r"a grid of 16 from seed 4294967294 needs seeds up to 4294967309, past the "
                                          r"last seed 4294967295: start at 4294967280 or lower"):
        latent_space.grid_seeds(4294967294, 16)
    assert list(latent_space.grid_seeds(latent_space.MAX_SEED - 15, 16))[-1] == latent_space.MAX_SEED
    with pytest.raises(ConfigError, match="seeds go from 0 to 4294967295; got -1"):
        latent_space.grid_seeds(-1, 4)
