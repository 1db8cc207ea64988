"""Principal directions (GANSpace for DCGANs): orthonormal, ordered by variance, deterministic, meaningful, and
cached beside the generator file; plus the `directions` CLI verb. Uses the shipped pretrained/mnist_dcgan."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gan_core import cli, config, models
from gan_core import latent_space
from gan_core.errors import GanError
from gan_core.explore import directions
from gan_core.inference import Generator

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "pretrained"
MNIST = PRETRAINED / "mnist_dcgan"
MNIST_FILE = sorted((MNIST / "generators").glob("epoch_*[0-9].keras"))[-1]  # the shipped epoch
FASHION_FILE = PRETRAINED / "fashion_dcgan" / "generators" / "epoch_0010.keras"
N = 1024  # enough samples for stable top directions in a test, a quarter of the default


@pytest.fixture(scope="module")
def generator() -> Generator:
    return Generator.load(MNIST_FILE)


@pytest.fixture(scope="module")
def found(generator) -> directions.Directions:
    return directions.principal_directions(generator, k=8, n=N)


@pytest.fixture
def private_copy(tmp_path) -> Path:
    """The pretrained generator copied where a test may write (and break) its cache; pretrained/ stays untouched."""
    target = tmp_path / "model" / "generators" / MNIST_FILE.name
    target.parent.mkdir(parents=True)
    shutil.copy2(MNIST_FILE, target)
    shutil.copy(MNIST / "config.json", tmp_path / "model" / "config.json")
    directions._memory.clear()
    return target


def test_directions_are_orthonormal_and_ordered_by_variance(found):
    v = found.vectors.astype(np.float64)
    assert v.shape == (8, 100) and found.vectors.dtype == np.float32
    np.testing.assert_allclose(v @ v.T, np.eye(8), atol=1e-5)
    assert np.all(np.diff(found.explained) <= 0), found.explained
    assert np.all(found.explained > 0) and np.all(found.explained <= 1) and found.explained.sum() <= 1
    assert found.layer == "dense → batch_normalization → leaky_re_lu"  # the first hidden block, after its bend
    assert found.z_std.tolist() == [1.0] * 8  # slider unit: N(0, I) has std 1 along any unit vector
    assert (found.n, found.seed, found.noise, found.k) == (N, 0, "normal", 8)


def test_randomized_pca_agrees_with_an_exact_one(generator):
    z = latent_space.sample_z(3, (512, 100), "normal")
    x, _ = directions._features(generator, z)
    x = x.astype(np.float64) - x.mean(axis=0)
    exact = np.linalg.eigvalsh(x @ x.T)[::-1][:5] / np.sum(x * x)  # the Gram matrix has the same top eigenvalues
    np.testing.assert_allclose(directions.principal_directions(generator, k=5, n=512, seed=3).explained, exact,
                               rtol=1e-3)


def test_same_seed_same_directions_another_seed_others(generator, found):
    again = directions.principal_directions(generator, k=8, n=N)
    np.testing.assert_array_equal(again.vectors, found.vectors)
    np.testing.assert_array_equal(again.explained, found.explained)
    other = directions.principal_directions(generator, k=8, n=N, seed=1)
    assert not np.array_equal(other.vectors, found.vectors)
    assert abs(float(other.vectors[0] @ found.vectors[0])) > 0.8  # but PC1 is a property of the generator


def test_pc1_moves_the_first_layer_and_the_image_more_than_a_random_direction(generator, found):
    z = latent_space.z_from_seeds(range(64), 100)
    rng = np.random.default_rng(0)
    random_unit = rng.standard_normal(100).astype(np.float32)
    random_unit /= np.linalg.norm(random_unit)

    def layer_change(direction):
        before, _ = directions._features(generator, z)
        after, _ = directions._features(generator, z + 2 * direction)
        return np.linalg.norm(after - before, axis=1).mean()

    assert layer_change(found.vectors[0]) > 1.3 * layer_change(random_unit)
    images = generator(np.stack([z[0], found.move(z[0], 0, 3.0)]))
    assert np.abs(images[0] - images[1]).mean() > 0.02  # a visible change of the digit


def test_coordinates_and_moves_agree(found):
    z = latent_space.z_from_seed(5, 100)
    moved = found.move(z, 2, 1.5)
    delta = found.coordinates(moved) - found.coordinates(z)
    np.testing.assert_allclose(delta, np.eye(found.k)[2] * 1.5, atol=1e-4)  # the others stay where they were
    assert found.top(3).k == 3 and found.top(3).explained.tolist() == found.explained[:3].tolist()


def test_cache_beside_the_generator_is_reused_and_answers_fewer(private_copy):
    g = Generator.load(private_copy)
    first = directions.load_or_compute(g, k=6, n=N)
    path = private_copy.parent / MNIST_FILE.name.replace(".keras", ".directions.npz")
    assert first.source == "computed" and directions.cache_path(private_copy) == path
    assert path.is_file() and path.stat().st_size < 100_000
    assert directions.load_or_compute(g, k=6, n=N).source == "memory"
    directions._memory.clear()  # as a new process would
    from_disk = directions.load_or_compute(g, k=4, n=N)
    assert from_disk.source == "disk" and from_disk.k == 4
    np.testing.assert_array_equal(from_disk.vectors, first.vectors[:4])
    np.testing.assert_array_equal(from_disk.explained, first.explained[:4])
    assert directions.load_or_compute(g, k=8, n=N).source == "computed"  # more than the cache holds
    assert directions.load_or_compute(g, k=4, n=512).source == "computed"  # other samples


def test_a_changed_generator_file_is_recomputed(private_copy):
    before = directions.load_or_compute(Generator.load(private_copy), k=4, n=N)
    shutil.copyfile(FASHION_FILE, private_copy)  # retrained in place: same name, other weights
    after = directions.load_or_compute(Generator.load(private_copy), k=4, n=N)
    assert after.source == "computed"
    assert not np.allclose(after.explained, before.explained)


def test_a_read_only_folder_keeps_them_in_memory(private_copy, monkeypatch):
    from gan_core.files import disk

    def read_only(path, write):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(disk, "atomic_write", read_only)  # under every atomic write
    g = Generator.load(private_copy)
    assert directions.load_or_compute(g, k=3, n=N).source == "computed"
    assert not directions.cache_path(private_copy).exists()
    assert directions.load_or_compute(g, k=3, n=N).source == "memory"


def test_a_corrupt_cache_file_is_recomputed(private_copy):
    directions.cache_path(private_copy).write_bytes(b"not an npz")
    assert directions.load_or_compute(Generator.load(private_copy), k=3, n=N).source == "computed"


@pytest.mark.parametrize("path", [MNIST_FILE, FASHION_FILE], ids=["mnist_dcgan", "fashion_dcgan"])
def test_shipped_directions_belong_to_their_generators(path):
    """pretrained/*/generators/*.directions.npz answer the app's default request without recomputing."""
    g = Generator.load(path)
    meta = directions._meta(directions.file_hash(path), directions.DEFAULT_N, 0, g.noise)
    shipped = directions._read_cache(directions.cache_path(path), meta, directions.DEFAULT_K)
    assert shipped is not None, "stale or missing: run python -m gan_core directions on it"
    assert shipped.k == directions.DEFAULT_K and np.all(np.diff(shipped.explained) <= 0)


@pytest.mark.parametrize("name", [n for n in models.names() if models.get(n).draws_from_noise])  # z -> image GANs
def test_every_architecture_has_a_first_block_to_take_pca_of(name):
    cfg = config.from_preset(name, {"data": "/unused"})
    model = models.get(name).build_generator(cfg)
    kinds = [type(layer).__name__ for layer in directions.feature_layers(model)]
    assert kinds == {"mnist_dcgan": ["Dense", "BatchNormalization", "LeakyReLU"],
                     "mnist_cdcgan": ["Dense", "BatchNormalization", "LeakyReLU"],  # z's block, before the label
                     "celeba_gray64": ["Dense", "BatchNormalization", "LeakyReLU"],
                     "digits32_upsample": ["Dense", "BatchNormalization", "ReLU"],
                     "faces_rgb64": ["Dense"],  # Dense(relu): the bend is inside it
                     "dcgan64": ["Dense", "BatchNormalization", "ReLU"],
                     "mnist_dense": ["Dense", "BatchNormalization"]}[name]
    if name in ("digits32_upsample", "mnist_dense", "mnist_cdcgan"):  # uniform noise, the MLP, a conditional one
        g = Generator(model, cfg.noise_dim, cfg.noise, cfg.pixel_range, num_classes=cfg.num_classes)
        d = directions.principal_directions(g, k=4, n=256)
        np.testing.assert_allclose(d.vectors @ d.vectors.T, np.eye(4), atol=1e-5)
        assert np.all(np.diff(d.explained) <= 0)
        expected_std = 1 / np.sqrt(12) if cfg.noise == "uniform" else 1.0
        np.testing.assert_allclose(d.z_std, expected_std)


@pytest.mark.parametrize("kwargs,needle", [(dict(k=0), "must be 1..100"), (dict(k=101), "must be 1..100"),
                                           (dict(k=10, n=12), "too few"),
                                           # issue 15: numpy's "expected non-negative integer", and a MemoryError
                                           (dict(seed=-1), r"seed must be 0\.\.4294967295; got -1"),
                                           (dict(seed=2**32), r"seed must be 0\.\.4294967295; got 4294967296"),
                                           (dict(n=10**9), r"at most 20000 samples \(default 4096\); got 1000000000")])
def test_bad_k_or_n_say_what_works(generator, kwargs, needle):
    with pytest.raises(GanError, match=needle):
        directions.principal_directions(generator, **kwargs)


def test_cli_directions_prints_the_variance_and_caches(private_copy, capsys):
    assert cli.main(["directions", str(private_copy), "--k", "5", "--n", str(N)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5] and all(r[1].endswith("%") for r in rows)
    assert "computed in" in out and str(directions.cache_path(private_copy)) in out
    directions._memory.clear()
    assert cli.main(["directions", str(private_copy.parents[1]), "--k", "5", "--n", str(N), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["from"] == "disk" and len(report["explained"]) == 5 and np.array(report["vectors"]).shape == (5, 100)
    assert cli.main(["directions", str(private_copy), "--k", "0"]) == 2
    assert "must be 1..100" in capsys.readouterr().err
