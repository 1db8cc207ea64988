"""Tests for gan_core.data on the real datasets (conftest's shared_data) and on hostile files made here.

Nothing is written into the shared data: caches and hand-made inputs live in tmp_path.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core import data
from gan_core.data import IMAGE_EXTENSIONS, SOURCES, load_images, make_dataset
from gan_core.errors import DataError, GanError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
TANH_STEP = 1 / 127.5  # one uint8 level in the tanh range


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's data settings or writes to the user's cache."""
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "default-cache"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)


def _raw_train_images(npz: Path, count: int) -> np.ndarray:
    with np.load(npz) as archive:
        return archive["x_train"][:count]


def _idx_bytes(images: np.ndarray, magic: int = 0x00000803) -> bytes:
    count, rows, cols = images.shape
    header = b"".join(value.to_bytes(4, "big") for value in (magic, count, rows, cols))
    return header + images.astype(np.uint8).tobytes()


# --- MNIST-like sources ------------------------------------------------------------------


def test_import_does_not_load_tensorflow() -> None:
    code = "import sys, gan_core.data; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_mnist_npz_tanh(mnist_npz: Path) -> None:
    images, report = load_images("mnist", path=str(mnist_npz), limit=500)
    assert images.shape == (500, 28, 28, 1)
    assert images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert report.n_images == 500 and report.n_skipped == 0 and report.path == str(mnist_npz)
    expected = _raw_train_images(mnist_npz, 500) / 127.5 - 1
    np.testing.assert_allclose(images[..., 0], expected, atol=1e-6)


def test_mnist_sigmoid_range(mnist_npz: Path) -> None:
    images, _ = load_images("mnist", path=str(mnist_npz), limit=200, pixel_range="sigmoid")
    assert images.min() == 0.0 and images.max() == 1.0


def test_mnist_32_is_zero_padded(mnist_npz: Path) -> None:
    small, _ = load_images("mnist", path=str(mnist_npz), limit=100)
    padded, _ = load_images("mnist", path=str(mnist_npz), limit=100, image_size=32)
    assert padded.shape == (100, 32, 32, 1)
    border = np.ones((32, 32), dtype=bool)
    border[2:30, 2:30] = False
    assert np.all(padded[:, border] == -1.0)
    np.testing.assert_array_equal(padded[:, 2:30, 2:30], small)


def test_mnist_resized_and_rgb(mnist_npz: Path) -> None:
    images, _ = load_images("mnist", path=str(mnist_npz), limit=50, image_size=64, channels=3)
    assert images.shape == (50, 64, 64, 3)
    assert images.min() >= -1.0 and images.max() <= 1.0 and images.std() > 0.1
    np.testing.assert_array_equal(images[..., 0], images[..., 2])


def test_mnist_folder_and_env_var(mnist_npz: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_folder, report = load_images("mnist", path=str(mnist_npz.parent), limit=10)
    assert report.path == str(mnist_npz)
    monkeypatch.setenv(data.DATA_ENV, str(mnist_npz.parent))
    from_env, report = load_images("mnist", limit=10)
    assert report.path == str(mnist_npz)
    np.testing.assert_array_equal(from_folder, from_env)


def test_mnist_from_keras_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setattr(data.mnist, "DEBIAN_DATASETS_DIR", tmp_path / "no-debian")
    cached = tmp_path / ".keras" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    digits = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    np.savez(cached, x_train=digits, y_train=np.zeros(7, np.uint8))
    images, report = load_images("mnist", pixel_range="sigmoid")
    assert report.path == str(cached)
    np.testing.assert_allclose(images[..., 0], digits / 255, atol=1e-6)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_idx_file_matches_npz(mnist_npz: Path, tmp_path: Path, compress: bool) -> None:
    payload = _idx_bytes(_raw_train_images(mnist_npz, 300))
    name = "train-images-idx3-ubyte" + (".gz" if compress else "")
    (tmp_path / name).write_bytes(gzip.compress(payload) if compress else payload)
    from_idx, report = load_images("mnist", path=str(tmp_path / name), limit=300)
    from_npz, _ = load_images("mnist", path=str(mnist_npz), limit=300)
    np.testing.assert_array_equal(from_idx, from_npz)
    from_folder, report = load_images("mnist", path=str(tmp_path), limit=300)
    assert report.path == str(tmp_path / name)
    np.testing.assert_array_equal(from_folder, from_npz)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_idx_bytes(np.zeros((2, 28, 28)), magic=0x00000804), "not an IDX image file"),
        (_idx_bytes(np.zeros((2, 28, 28)), magic=0x00000801), "label file"),
        (_idx_bytes(np.zeros((2, 28, 28)))[:-10], "truncated"),
        (b"\x00\x00", "too short"),
        (gzip.compress(_idx_bytes(np.zeros((2, 28, 28))))[:30], "Cannot read"),
    ],
    ids=["bad-magic", "labels", "truncated", "short", "broken-gzip"],
)
def test_bad_idx_file(tmp_path: Path, payload: bytes, message: str) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(payload)
    with pytest.raises(DataError, match=message) as caught:
        load_images("mnist", path=str(path))
    assert str(path) in str(caught.value)


def test_bad_npz(tmp_path: Path) -> None:
    no_key = tmp_path / "other.npz"
    np.savez(no_key, images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="x_train"):
        load_images("mnist", path=str(no_key))
    single_array = tmp_path / "single.npz"
    with open(single_array, "wb") as handle:
        np.save(handle, np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="single array"):
        load_images("mnist", path=str(single_array))
    not_zip = tmp_path / "broken.npz"
    not_zip.write_text("not a zip")
    with pytest.raises(DataError, match="broken.npz"):
        load_images("mnist", path=str(not_zip))


def test_mnist_path_problems(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist") as caught:
        load_images("mnist", path=str(tmp_path / "missing.npz"))
    assert "--data" in str(caught.value)
    with pytest.raises(DataError, match="mnist.npz") as caught:
        load_images("mnist", path=str(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_fashion_mnist_from_debian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fashion_mnist: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    images, report = load_images("fashion_mnist", pixel_range="sigmoid")
    assert report.path == str(DEBIAN_FASHION)
    assert images.shape == (60000, 28, 28, 1)
    assert images.min() == 0.0 and images.max() == 1.0
    few, _ = load_images("fashion_mnist", limit=100, pixel_range="sigmoid")
    np.testing.assert_array_equal(few, images[:100])


@pytest.mark.parametrize("source", ["mnist", "fashion_mnist"])
def test_offline_without_data(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keras = pytest.importorskip("keras")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setattr(data.mnist, "DEBIAN_DATASETS_DIR", tmp_path / "no-debian")

    def offline() -> None:
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(getattr(keras.datasets, source), "load_data", offline)
    with pytest.raises(DataError) as caught:
        load_images(source)
    message = str(caught.value)
    assert "--data" in message and "mnist.npz" in message and data.DATA_ENV in message
    assert "no network" in message


# --- Folders of images --------------------------------------------------------------------


def _save(path: Path, image: Image.Image, **options: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)


def _noise(height: int, width: int, seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def _jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def hostile_folder(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """A folder of good images in awkward formats plus broken files: (folder, good names, bad names)."""
    root = tmp_path / "hostile"
    _save(root / "a_rgb_40x30.png", _noise(30, 40, 1))
    _save(root / "b_photo_50x70.jpg", _noise(70, 50, 2))
    _save(root / "c_gray16.png", Image.fromarray(np.full((24, 24), 20000, np.uint16)))
    _save(root / "d_cmyk.jpg", Image.new("CMYK", (32, 32), (0, 255, 255, 0)))
    palette = Image.new("P", (30, 30), 0)
    palette.putpalette([0, 0, 255] + [0, 0, 0] * 255)
    _save(root / "e_palette.png", palette)
    _save(root / "f_transparent.png", Image.new("RGBA", (20, 20), (0, 0, 0, 0)))
    _save(root / "nested" / "deeper" / "g_nested.bmp", Image.new("L", (20, 20), 128))
    _save(root / "UPPER.JPEG", _noise(16, 16, 3))
    _save(root / "h_gray16.pgm", Image.fromarray(np.full((20, 20), 20000, np.uint16)))
    _save(root / "i_green.webp", Image.new("RGB", (20, 20), (0, 255, 0)), lossless=True)
    (root / "broken_link.png").symlink_to(root / "no-such-file.png")
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.jpg").write_text("this is not an image\n")
    full = _jpeg_bytes(_noise(64, 64, 4))
    (root / "truncated.jpg").write_bytes(full[: len(full) // 2])
    _save(root / "tiny.png", Image.new("RGB", (4, 4), (255, 0, 0)))
    (root / "readme.txt").write_text("ignored: not an image extension\n")
    good = sorted(["a_rgb_40x30.png", "b_photo_50x70.jpg", "c_gray16.png", "d_cmyk.jpg", "e_palette.png",
                   "f_transparent.png", "nested/deeper/g_nested.bmp", "UPPER.JPEG", "h_gray16.pgm",
                   "i_green.webp"])
    bad = ["broken_link.png", "empty.jpg", "notes.jpg", "truncated.jpg", "tiny.png"]
    return root, good, bad


def test_hostile_folder(hostile_folder: tuple[Path, list[str], list[str]], tmp_path: Path) -> None:
    folder, good, bad = hostile_folder
    lines: list[str] = []
    images, report = load_images("folder", path=str(folder), image_size=16, channels=3,
                                 cache_dir=str(tmp_path / "cache"), log=lines.append)
    assert images.shape == (len(good), 16, 16, 3)
    assert report.n_images == len(good) and report.n_skipped == len(bad)
    assert sorted(example.split(":")[0] for example in report.skipped_examples) == sorted(bad)
    reasons = ("empty file", "not a readable image", "truncated or corrupt", "smaller than 8x8", "broken link")
    for reason in reasons:
        assert any(reason in line for line in lines), reason
    assert images.min() >= -1.0 and images.max() <= 1.0

    def pixels(name: str) -> np.ndarray:
        return images[good.index(name)]

    # 16-bit gray 20000 is scaled to round(20000 / 257) = 78, not clipped to 255.
    np.testing.assert_allclose(pixels("c_gray16.png"), 78 / 127.5 - 1, atol=TANH_STEP)
    np.testing.assert_allclose(pixels("h_gray16.pgm"), 78 / 127.5 - 1, atol=TANH_STEP)
    np.testing.assert_allclose(pixels("i_green.webp").mean(axis=(0, 1)), [-1, 1, -1], atol=TANH_STEP)
    red, green, blue = pixels("d_cmyk.jpg").mean(axis=(0, 1))
    assert red > 0.8 and green < -0.8 and blue < -0.8
    np.testing.assert_allclose(pixels("e_palette.png").mean(axis=(0, 1)), [-1, -1, 1], atol=TANH_STEP)
    assert np.all(pixels("f_transparent.png") == 1.0)  # transparent → white, not black
    np.testing.assert_allclose(pixels("nested/deeper/g_nested.bmp"), 128 / 127.5 - 1, atol=TANH_STEP)


def test_16_bit_gray_as_one_channel(tmp_path: Path) -> None:
    gradient = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (32, 1))
    _save(tmp_path / "images" / "wide.png", Image.fromarray(gradient))
    images, report = load_images("folder", path=str(tmp_path / "images"), image_size=32, pixel_range="sigmoid")
    assert report.n_skipped == 0
    np.testing.assert_allclose(images[0, 0, :, 0], np.rint(gradient[0] / 257) / 255, atol=1 / 255)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    pixels = np.zeros((40, 40), np.uint8)
    pixels[:20] = 255  # white top half, stored sideways
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # display rotated 90° clockwise: the white half ends up on the right
    _save(tmp_path / "images" / "rotated.jpg", image, exif=exif.tobytes(), quality=95)
    images, _ = load_images("folder", path=str(tmp_path / "images"), image_size=16, pixel_range="sigmoid")
    assert images[0, :, 12:].mean() > 0.9 and images[0, :, :4].mean() < 0.1


def test_decompression_bomb_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50 * 50)
    folder = tmp_path / "images"
    _save(folder / "fine.png", Image.new("L", (40, 40)))
    _save(folder / "over_limit.png", Image.new("L", (60, 60)))  # Pillow warns
    _save(folder / "far_over_limit.png", Image.new("L", (80, 80)))  # Pillow raises
    images, report = load_images("folder", path=str(folder), image_size=8)
    assert len(images) == 1 and report.n_skipped == 2
    assert all("decompression-bomb" in example for example in report.skipped_examples)


def test_limit_counts_files_before_decoding(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    _save(folder / "a.png", Image.new("L", (10, 10), 0))
    (folder / "b.jpg").write_bytes(b"")
    _save(folder / "c.png", Image.new("L", (10, 10), 255))
    images, report = load_images("folder", path=str(folder), image_size=8, limit=2)
    assert (report.n_images, report.n_skipped) == (1, 1)
    assert np.all(images == -1.0)


def test_folder_cache(hostile_folder: tuple[Path, list[str], list[str]], tmp_path: Path) -> None:
    folder, _good, bad = hostile_folder
    cache = tmp_path / "cache"
    first, report = load_images("folder", path=str(folder), image_size=16, channels=3, cache_dir=str(cache))
    assert not report.cache_hit
    entries = list(cache.glob("*.npy"))
    assert len(entries) == 1
    second, report = load_images("folder", path=str(folder), image_size=16, channels=3, cache_dir=str(cache))
    assert report.cache_hit and report.n_skipped == len(bad) and len(report.skipped_examples) == len(bad)
    np.testing.assert_array_equal(first, second)

    entries[0].write_bytes(b"garbage, not a .npy file")
    lines: list[str] = []
    rebuilt, report = load_images("folder", path=str(folder), image_size=16, channels=3, cache_dir=str(cache),
                                  log=lines.append)
    assert not report.cache_hit and any("ignoring unreadable cache" in line for line in lines)
    np.testing.assert_array_equal(first, rebuilt)
    assert load_images("folder", path=str(folder), image_size=16, channels=3, cache_dir=str(cache))[1].cache_hit

    _save(folder / "a_rgb_40x30.png", _noise(30, 40, 99))  # new content invalidates the entry
    changed, report = load_images("folder", path=str(folder), image_size=16, channels=3, cache_dir=str(cache))
    assert not report.cache_hit and not np.array_equal(changed, first)
    _, report = load_images("folder", path=str(folder), image_size=16, channels=1, cache_dir=str(cache))
    assert not report.cache_hit
    assert not list(cache.glob("*.tmp"))


def test_cache_default_dir_and_unwritable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "images"
    _save(folder / "a.png", Image.new("L", (10, 10)))
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "env-cache"))
    load_images("folder", path=str(folder), image_size=8)
    assert len(list((tmp_path / "env-cache").glob("*.npy"))) == 1

    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder should be")
    lines: list[str] = []
    images, report = load_images("folder", path=str(folder), image_size=8, cache_dir=str(blocker / "cache"),
                                 log=lines.append)
    assert len(images) == 1 and not report.cache_hit
    assert any("could not write cache" in line for line in lines)


@pytest.mark.parametrize("channels", [1, 3])
def test_celeba_folder(celeba: Path, tmp_path: Path, channels: int) -> None:
    cache = tmp_path / "cache"
    images, report = load_images("folder", path=str(celeba), image_size=64, channels=channels, limit=200,
                                 cache_dir=str(cache))
    assert images.shape == (200, 64, 64, channels) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.std(axis=(1, 2, 3)).min() > 0.05  # every face has contrast
    assert report.n_skipped == 0 and not report.cache_hit and Path(report.path) == celeba.resolve()  # links resolved
    if channels == 3:
        assert np.abs(images[..., 0] - images[..., 2]).mean() > 0.01  # colour, not gray repeated
    again, report = load_images("folder", path=str(celeba), image_size=64, channels=channels, limit=200,
                                cache_dir=str(cache))
    assert report.cache_hit
    np.testing.assert_array_equal(images, again)


def test_folder_problems(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(DataError, match="does not exist") as caught:
        load_images("folder", path=str(missing))
    assert str(missing) in str(caught.value)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="No image files") as caught:
        load_images("folder", path=str(empty))
    assert str(empty) in str(caught.value) and ".png" in str(caught.value)

    text_only = tmp_path / "text"
    text_only.mkdir()
    (text_only / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="No image files") as caught:
        load_images("folder", path=str(text_only))
    assert str(text_only) in str(caught.value)

    with pytest.raises(DataError, match="is a file"):
        load_images("folder", path=str(text_only / "notes.txt"))
    with pytest.raises(DataError, match="--data"):
        load_images("folder")

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.jpg").write_bytes(b"")
    (broken / "b.png").write_text("text")
    with pytest.raises(DataError, match="None of the 2 image files") as caught:
        load_images("folder", path=str(broken))
    assert str(broken) in str(caught.value) and "a.jpg: empty file" in str(caught.value)


def test_bad_options() -> None:
    with pytest.raises(DataError) as caught:
        load_images("cifar10")
    assert all(source in str(caught.value) for source in SOURCES)
    assert isinstance(caught.value, GanError)
    with pytest.raises(DataError, match="pixel range"):
        load_images("mnist", pixel_range="relu")
    with pytest.raises(DataError, match="Channels"):
        load_images("mnist", channels=2)
    with pytest.raises(DataError, match="limit"):
        load_images("mnist", limit=0)
    with pytest.raises(DataError, match="too small"):
        load_images("mnist", image_size=4)


def test_image_extensions_are_lowercase() -> None:
    assert all(ext == ext.lower() and ext.startswith(".") for ext in IMAGE_EXTENSIONS)


# --- tf.data pipeline ---------------------------------------------------------------------


def _numbered_images(count: int) -> np.ndarray:
    """Image i is filled with the value i, so batches show which images they hold."""
    return np.broadcast_to(np.arange(count, dtype=np.float32)[:, None, None, None], (count, 4, 4, 1)).copy()


def test_make_dataset_batches() -> None:
    pytest.importorskip("tensorflow")
    images = _numbered_images(10)
    batches = [batch.numpy() for batch in make_dataset(images, 4, seed=1)]
    assert [batch.shape for batch in batches] == [(4, 4, 4, 1), (4, 4, 4, 1)]
    kept = make_dataset(images, 4, seed=1, drop_remainder=False)
    epoch = np.concatenate([batch.numpy()[:, 0, 0, 0] for batch in kept])
    assert sorted(epoch) == list(range(10))
    assert [len(batch) for batch in kept] == [4, 4, 2]
    again = np.concatenate([batch.numpy()[:, 0, 0, 0] for batch in make_dataset(images, 4, seed=1,
                                                                                  drop_remainder=False)])
    np.testing.assert_array_equal(epoch, again)  # same seed, same order


def test_make_dataset_too_few_images() -> None:
    with pytest.raises(DataError) as caught:
        make_dataset(_numbered_images(3), 64)
    message = str(caught.value)
    assert "3" in message and "64" in message and "--batch-size" in message



# --- image-to-image helpers -----------------------------------------------------------------------------------


def test_side_by_side_pairs_keep_both_halves_apart(tmp_path: Path) -> None:
    """aspect=2: a 2:1 centre crop, each half resized on its own (no blending at the seam), cached apart from the
    square crop of the same files."""
    folder = tmp_path / "ab"
    folder.mkdir()
    pair = np.zeros((30, 70, 3), np.uint8)  # 70 wide: the 2:1 crop is 60x30, from x = 5
    pair[:, 35:] = 255  # left half black, right half white
    for i in range(3):
        Image.fromarray(pair).save(folder / f"{i}.png")
    images, _ = load_images("folder", path=str(folder), image_size=16, channels=3, pixel_range="sigmoid", aspect=2)
    assert images.shape == (3, 16, 32, 3)
    assert images[:, :, :16].max() == 0.0 and images[:, :, 16:].min() == 1.0  # nothing bleeds across the seam
    square, _ = load_images("folder", path=str(folder), image_size=16, channels=3, pixel_range="sigmoid")
    assert square.shape == (3, 16, 16, 3)
    assert len(list((tmp_path / "default-cache").glob("folder-*.npy"))) == 2
    with pytest.raises(DataError, match="side-by-side A|B pairs come from a folder"):
        load_images("mnist", aspect=2)
    with pytest.raises(DataError, match="aspect must be 1"):
        load_images("folder", path=str(folder), aspect=3)


def test_test_split_is_shaped_and_scaled_like_training_images(mnist_npz: Path) -> None:
    images, labels = data.load_test_images("mnist", path=str(mnist_npz), image_size=32, channels=3, limit=50)
    assert images.shape == (50, 32, 32, 3) and images.dtype == np.float32 and labels.shape == (50,)
    assert images.min() == -1.0 and images.max() == 1.0 and images[:, :2].max() == -1.0  # padded with black
    train, _ = load_images("mnist", path=str(mnist_npz), image_size=32, channels=3, limit=50)
    assert not np.array_equal(images, train)  # the other split
    with pytest.raises(DataError, match="no test split"):
        data.load_test_images("folder", path="/tmp")


# --- issue 15: a file that is not a dataset is named, never quoted -----------------------------------------------

SECRET = b"root:$6$s3cr3tHashValue:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"


@pytest.mark.parametrize("name", ["shadow", "shadow.gz", "passwords.npz", "train-images-idx3-ubyte"])
def test_a_file_that_is_not_a_dataset_is_refused_without_showing_its_bytes(tmp_path: Path, name: str) -> None:
    # before: "/etc/shadow is not an IDX image file (magic number 0x726f6f74, ...)": 'root', the first 4 bytes
    path = tmp_path / name
    path.write_bytes(gzip.compress(SECRET) if name.endswith(".gz") else SECRET)
    with pytest.raises(DataError) as caught:
        load_images("mnist", path=str(path))
    message = str(caught.value)
    assert str(path) in message and "not" in message
    for leak in ("root", "726f6f74", "s3cr3t", "daemon", "0x", "allow_pickle", "pickle"):
        assert leak not in message.lower().replace(str(path).lower(), "")


def test_a_label_file_that_is_not_one_is_refused_without_showing_its_bytes(tmp_path: Path) -> None:
    from gan_core.data import read_idx_labels

    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(SECRET)
    with pytest.raises(DataError, match="is not an IDX label file") as caught:
        read_idx_labels(path)
    assert "0x" not in str(caught.value) and "root" not in str(caught.value).replace(str(path), "")


def test_a_huge_file_that_is_not_a_dataset_is_refused_after_reading_its_header_only(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.write(SECRET)
        f.truncate(3 * 1024**3)  # sparse: 3 GiB that used to be read whole before the header was looked at
    reads = []
    real_open = open

    def counting_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if str(file) == str(path):
            original = handle.read
            handle.read = lambda size=-1: reads.append(size) or original(size)
        return handle

    monkeypatch.setattr("builtins.open", counting_open)
    with pytest.raises(DataError, match="is not an IDX image file"):
        load_images("mnist", path=str(path))
    assert reads and all(0 <= size <= 16 for size in reads)


def test_an_npz_holding_pickled_objects_does_not_advise_allow_pickle(tmp_path: Path) -> None:
    path = tmp_path / "objects.npz"
    np.savez(path, x_train=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DataError, match="holds Python objects") as caught:
        load_images("mnist", path=str(path))
    assert "allow_pickle" not in str(caught.value)


def test_check_source_finds_what_loading_would_fail_on_without_decoding(tmp_path: Path, mnist_npz: Path) -> None:
    from gan_core.data import check_source

    assert check_source("mnist", str(mnist_npz)) == 60000
    idx = tmp_path / "train-images-idx3-ubyte.gz"
    idx.write_bytes(gzip.compress(_idx_bytes(np.zeros((3, 28, 28), np.uint8))))
    assert check_source("mnist", str(idx)) == 3
    (tmp_path / "faces").mkdir()
    Image.new("RGB", (16, 16)).save(tmp_path / "faces" / "a.png")
    assert check_source("folder", str(tmp_path / "faces")) == 1
    secret = tmp_path / "shadow"
    secret.write_bytes(SECRET)
    for source, path, needle in (("mnist", secret, "is not an IDX image file"),
                                 ("mnist", tmp_path / "missing.npz", "does not exist"),
                                 ("folder", tmp_path / "missing", "does not exist"),
                                 ("folder", secret, "is a file, not a folder")):
        with pytest.raises(DataError, match=needle):
            check_source(source, str(path))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="No image files"):
        check_source("folder", str(tmp_path / "empty"))
    no_key = tmp_path / "other.npz"
    np.savez(no_key, images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="has no 'x_train' array \\(it has: images\\)"):
        check_source("mnist", str(no_key))
