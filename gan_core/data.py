"""Training images for the GAN trainer: MNIST-style arrays and folders of image files.

Everything here returns plain NumPy arrays so the trainer, the tests and the UI share one
loader; TensorFlow is imported only by :func:`make_dataset`, so importing this module is fast.
Every problem a user can fix is raised as :class:`DataError` with a message that says what
to provide and where.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import DataError
from .fsutil import atomic_write

if TYPE_CHECKING:
    import tensorflow as tf

SOURCES = ("mnist", "fashion_mnist", "folder")
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".bmp", ".webp"}
PIXEL_RANGES = ("tanh", "sigmoid")

DATA_ENV = "GAN_EXPLORER_DATA"
CACHE_ENV = "GAN_EXPLORER_CACHE"
# Debian's dataset-fashion-mnist package installs the official IDX files under
# /usr/share/datasets/fashion-mnist/; it is searched like any other data root.
DEBIAN_DATASETS_DIR = Path("/usr/share/datasets")

CACHE_LIMIT_ENV = "GAN_EXPLORER_CACHE_LIMIT_GB"
DEFAULT_CACHE_LIMIT_GB = 10.0  # decoded folders kept, least recently used first out; CelebA at 64x64 is 2.4 GB
STALE_TEMP_SECONDS = 600.0  # a cache write untouched this long was abandoned (a writer's file keeps a fresh mtime)

MIN_IMAGE_SIDE = 8
# Bump when decoding changes, so that old cache files are not reused.
_CACHE_VERSION = 1
_MAX_SKIP_EXAMPLES = 5
_UNREADABLE = "cannot be read (broken link or no permission)"


@dataclass(frozen=True)
class _MnistLike:
    title: str
    npz_name: str  # Keras's file name for the whole dataset
    subdir: str  # folder name Keras and Debian use for the IDX files


_MNIST_LIKE = {
    "mnist": _MnistLike("MNIST", "mnist.npz", "mnist"),
    "fashion_mnist": _MnistLike("Fashion-MNIST", "fashion-mnist.npz", "fashion-mnist"),
}
_IDX_NAMES = ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte", "train-images.idx3-ubyte")


@dataclass
class LoadReport:
    """What a load did, so the run's log can say where the images came from and what was dropped."""

    source: str
    path: str | None
    n_images: int
    n_skipped: int
    skipped_examples: list[str] = field(default_factory=list)
    cache_hit: bool = False
    seconds: float = 0.0


def load_images(
    source: str,
    *,
    path: str | None = None,
    image_size: int = 28,
    channels: int = 1,
    pixel_range: str = "tanh",
    limit: int | None = None,
    cache_dir: str | None = None,
    log: Callable[[str], None] | None = None,
    aspect: int = 1,
) -> tuple[np.ndarray, LoadReport]:
    """Load training images as float32 ``(N, image_size, image_size * aspect, channels)``.

    Values are in [-1, 1] for ``pixel_range="tanh"`` and [0, 1] for ``"sigmoid"``, matching the
    generator's output activation. ``limit`` keeps the first N images (files, for a folder:
    by sorted path, before decoding), so a quick run on a huge folder stays quick.

    Sources:
      * ``mnist`` / ``fashion_mnist``: the 60,000 training images. ``path`` may be a Keras-style
        ``.npz`` (key ``x_train``), an IDX file ``train-images-idx3-ubyte[.gz]`` or a folder holding
        either. Without ``path`` the loader looks in ``$GAN_EXPLORER_DATA``, Debian's
        ``/usr/share/datasets`` and Keras's cache (``~/.keras/datasets``), then asks Keras to
        download. 28x28 digits asked for at 32x32 are zero-padded by 2 pixels per side (the usual
        meaning of "MNIST-32"); other sizes are resized bilinearly.
      * ``folder``: every image file under ``path`` (recursively), centre-cropped to a square and
        resized; unreadable files are skipped and counted. Decoded images are cached as uint8
        ``.npy`` under ``cache_dir`` (default ``$GAN_EXPLORER_CACHE`` or ``~/.cache/gan_explorer``).
        ``aspect=2`` keeps a centre crop twice as wide as tall instead of a square: Pix2Pix's A|B
        side-by-side pairs.
    """
    start = time.perf_counter()
    log = log or _ignore
    _check_options(source, image_size, channels, pixel_range, limit)
    if aspect not in (1, 2):
        raise DataError(f"aspect must be 1 (square images) or 2 (A|B side-by-side pairs); got {aspect!r}")
    if aspect != 1 and source != "folder":
        raise DataError(f"side-by-side A|B pairs come from a folder of image files, not from {source}; "
                        "use the 'folder' source")
    if source == "folder":
        images, report = _load_folder(path, image_size, channels, limit, cache_dir, log, aspect)
    else:
        images, report = _load_mnist_like(source, path, image_size, channels, limit, log)
    scaled = _scale(images, pixel_range)
    report.seconds = time.perf_counter() - start
    log(f"{source}: {report.n_images:,} images of {image_size}x{image_size * aspect}x{channels} "
        f"in {report.seconds:.1f}s")
    return scaled, report


def check_source(source: str, path: str | None = None) -> int | None:
    """What :func:`load_images` would fail on first, found without decoding an image: a missing path, a file that
    is not the dataset, a folder without images. Returns the number of training images where that is cheap to know
    (an IDX or .npz header, a folder's image files), None where it is not (Keras would download the data).

    Run before a run folder is made, so that such mistakes never leave a failed run behind."""
    if source not in SOURCES:
        raise DataError(f"Unknown data source {source!r}. Use one of: {', '.join(SOURCES)}.")
    if source == "folder":
        folder = _check_folder(path)
        count = sum(Path(name).suffix.lower() in IMAGE_EXTENSIONS for _, _, names in os.walk(folder) for name in names)
        if not count:
            raise DataError(f"No image files in {folder} (searched recursively for {', '.join(sorted(IMAGE_EXTENSIONS))})."
                            " Put images there or pass --data with another folder.")
        return count
    spec = _MNIST_LIKE[source]
    found = _resolve_mnist_path(spec, Path(path).expanduser()) if path is not None else _find_installed(spec)
    if found is None:
        return None
    return _npz_count(found) if found.suffix == ".npz" else _idx_count(found)


def _npz_count(path: Path) -> int:
    """x_train's length from the .npz's array header, with :func:`_read_npz`'s checks short of reading the data."""
    fix = "Pass a Keras-style .npz with x_train of shape (N, 28, 28), or the IDX file train-images-idx3-ubyte.gz."
    if not zipfile.is_zipfile(path):
        _read_npz(path)  # raises the single-array or not-a-zip message
    try:
        with zipfile.ZipFile(path) as archive:
            if "x_train.npy" not in archive.namelist():
                found = ", ".join(n.removesuffix(".npy") for n in archive.namelist()[:10]) or "nothing"
                raise DataError(f"{path} has no 'x_train' array (it has: {found}). {fix}")
            with archive.open("x_train.npy") as member:
                version = np.lib.format.read_magic(member)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = read_header(member)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} as a NumPy .npz ({type(exc).__name__}: the archive is damaged). "
                        "Download the file again.") from None
    if len(shape) != 3 or dtype != np.uint8:
        raise DataError(f"{path}: x_train is {dtype} of shape {shape}, expected uint8 (N, height, width). {fix}")
    return int(shape[0])


def _idx_count(path: Path) -> int:
    """The image count of an IDX file's header, with :func:`_read_idx_images`'s header checks."""
    fix = "Pass the training images file train-images-idx3-ubyte[.gz] or Keras's .npz."
    try:
        with open_maybe_gzip(path) as handle:
            header = handle.read(16)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} ({getattr(exc, 'strerror', None) or type(exc).__name__}). "
                        "Download the IDX file again.") from None
    if len(header) < 16:
        raise DataError(f"{path} is too short ({len(header)} bytes) to be an IDX image file. {fix}")
    magic, count = struct.unpack(">II", header[:8])
    if magic == 0x00000801:
        raise DataError(f"{path} is an IDX label file, not images. {fix}")
    if magic != 0x00000803:
        raise DataError(f"{path} is not an IDX image file (nor Keras's .npz). {fix}")
    return int(count)


def load_test_images(
    source: str,
    *,
    path: str | None = None,
    image_size: int = 28,
    channels: int = 1,
    pixel_range: str = "tanh",
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's or Fashion-MNIST's test split, shaped and scaled like :func:`load_images`, with its labels.

    Image-to-image runs hold it out for their snapshots and quality figures, as latent GANs' metrics do.
    """
    from .evaluators import load_labelled

    _check_options(source, image_size, channels, pixel_range, limit)
    if source == "folder":
        raise DataError("a folder of images has no test split; hold out part of it instead")
    digits, labels = load_labelled(source, "test", path, limit=limit)
    return _scale(_to_channels(_fit_mnist(digits, image_size), channels), pixel_range), labels


def make_dataset(
    images: np.ndarray, batch_size: int, *, seed: int = 0, drop_remainder: bool = True,
    labels: np.ndarray | None = None,
) -> "tf.data.Dataset":
    """Shuffled, batched, prefetched ``tf.data`` pipeline over ``images`` (with ``labels``: of (image, label)
    pairs, shuffled together).

    The shuffle buffer holds the whole array, so every epoch is a full uniform reshuffle;
    ``seed`` makes the order reproducible between runs.
    """
    if labels is not None and len(labels) != len(images):
        raise DataError(f"{len(images)} images but {len(labels)} labels; give one label per image.")
    if batch_size < 1:
        raise DataError(f"Batch size must be at least 1, got {batch_size}. Pass --batch-size 1 or more.")
    if len(images) < batch_size:
        raise DataError(
            f"Only {len(images)} training images, fewer than the batch size {batch_size}. "
            f"Pass --batch-size {max(1, len(images))} or smaller, or provide more images."
        )
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(images if labels is None else (images, labels))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _ignore(_message: str) -> None:
    """Default ``log``: loading is silent unless the caller wants a log."""


def _check_options(source: str, image_size: int, channels: int, pixel_range: str, limit: int | None) -> None:
    if source not in SOURCES:
        raise DataError(f"Unknown data source {source!r}. Use one of: {', '.join(SOURCES)}.")
    if image_size < MIN_IMAGE_SIDE:
        raise DataError(f"Image size {image_size} is too small. Use an image size of {MIN_IMAGE_SIDE} or more.")
    if channels not in (1, 3):
        raise DataError(f"Channels must be 1 (grayscale) or 3 (RGB), got {channels}.")
    if pixel_range not in PIXEL_RANGES:
        raise DataError(f"Unknown pixel range {pixel_range!r}. Use one of: {', '.join(PIXEL_RANGES)}.")
    if limit is not None and limit < 1:
        raise DataError(f"Limit must be at least 1, got {limit}. Pass a positive --limit or leave it out.")


def _scale(images: np.ndarray, pixel_range: str) -> np.ndarray:
    """uint8 -> float32; 0 and 255 map exactly onto the ends of the range."""
    if pixel_range == "tanh":
        return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    return images.astype(np.float32) / np.float32(255.0)


# --- MNIST and Fashion-MNIST ---------------------------------------------------------------


def _load_mnist_like(
    source: str, path: str | None, image_size: int, channels: int, limit: int | None,
    log: Callable[[str], None],
) -> tuple[np.ndarray, LoadReport]:
    spec = _MNIST_LIKE[source]
    found = _resolve_mnist_path(spec, Path(path).expanduser()) if path is not None else _find_installed(spec)
    if found is None:
        log(f"{source}: not found locally; asking Keras to download it")
        digits = _download_with_keras(source, spec)
    else:
        log(f"{source}: reading {found}")
        digits = _read_mnist_file(found)
    digits = digits[:limit]
    images = _to_channels(_fit_mnist(digits, image_size), channels)
    report = LoadReport(source, str(found) if found else None, len(images), 0)
    return images, report


def _dataset_files(spec: _MnistLike, folder: Path) -> list[Path]:
    """The files that can hold the dataset directly inside ``folder``, best first."""
    return [folder / spec.npz_name, *(folder / name for name in _IDX_NAMES)]


def _mnist_candidates(spec: _MnistLike, root: Path) -> list[Path]:
    """``root/<npz>``, or ``root/<subdir>/`` holding the npz or IDX files (Keras's and Debian's layout).

    Bare IDX files directly in a shared data root are not used: MNIST and Fashion-MNIST share their names.
    """
    return [root / spec.npz_name, *_dataset_files(spec, root / spec.subdir)]


def _data_roots() -> list[Path]:
    """Where MNIST-like data is looked for without --data, in order."""
    roots = [Path(os.environ[DATA_ENV]).expanduser()] if os.environ.get(DATA_ENV) else []
    keras_home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return [*roots, DEBIAN_DATASETS_DIR, keras_home / "datasets"]


def _find_installed(spec: _MnistLike) -> Path | None:
    for root in _data_roots():
        for candidate in _mnist_candidates(spec, root):
            if candidate.is_file():
                return candidate
    return None


def _resolve_mnist_path(spec: _MnistLike, path: Path) -> Path:
    """The file to read for --data: the path itself, or the dataset file inside a folder."""
    if not path.exists():
        raise DataError(
            f"{spec.title} data path {path} does not exist. Pass --data with Keras's {spec.npz_name}, "
            f"a train-images-idx3-ubyte[.gz] file, or a folder holding one of them."
        )
    if path.is_file():
        return path
    for candidate in (*_dataset_files(spec, path), *_dataset_files(spec, path / spec.subdir)):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"Folder {path} has no {spec.npz_name} and no train-images-idx3-ubyte[.gz]. Put Keras's "
        f"{spec.npz_name} or the IDX training images there, or for a folder of image files use the "
        f"'folder' source."
    )


def _read_mnist_file(path: Path) -> np.ndarray:
    """uint8 (N, H, W) training images from a Keras-style .npz or an IDX file."""
    if path.suffix == ".npz":
        return _read_npz(path)
    return _read_idx_images(path)


def _read_npz(path: Path) -> np.ndarray:
    fix = "Pass a Keras-style .npz with x_train of shape (N, 28, 28), or the IDX file train-images-idx3-ubyte.gz."
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
    except OSError as exc:
        raise DataError(f"Cannot read {path} ({exc.strerror}). {fix}") from None
    if head == b"\x93NUMPY":
        raise DataError(f"{path} holds a single array, not a .npz archive with x_train. {fix}")
    if not zipfile.is_zipfile(path):  # whatever it is, its bytes are not repeated in the message
        raise DataError(f"{path} is not a NumPy .npz archive (a .npz is a zip of arrays). {fix}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "x_train" not in archive.files:
                found = ", ".join(archive.files[:10]) or "nothing"
                raise DataError(f"{path} has no 'x_train' array (it has: {found}). {fix}")
            images = archive["x_train"]
    except ValueError as exc:
        if "pickle" in str(exc):  # numpy's advice to allow pickles would run code from the file: never
            raise DataError(f"{path}: x_train holds Python objects, which are never loaded (they could run code). "
                            f"{fix}") from None
        raise DataError(f"Cannot read {path} as a NumPy .npz ({type(exc).__name__}). Download the file again.") from None
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} as a NumPy .npz ({type(exc).__name__}: the archive is damaged). "
                        "Download the file again.") from None
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{path}: x_train is {images.dtype} of shape {images.shape}, expected uint8 (N, height, width). {fix}"
        )
    return images


def _read_idx_images(path: Path) -> np.ndarray:
    """Parse an IDX image file (magic 0x00000803: uint8, 3 dims, big-endian sizes), gzipped or not.

    The 16-byte header is checked before the rest is read, so pointing --data at some big file that is not a
    dataset costs nothing; and the message never repeats the file's bytes (it may be /etc/shadow)."""
    fix = "Pass the training images file train-images-idx3-ubyte[.gz] or Keras's .npz."
    try:
        with open_maybe_gzip(path) as handle:
            header = handle.read(16)
            if len(header) < 16:
                raise DataError(f"{path} is too short ({len(header)} bytes) to be an IDX image file. {fix}")
            (magic,) = struct.unpack(">I", header[:4])
            if magic == 0x00000801:
                raise DataError(f"{path} is an IDX label file, not images. {fix}")
            if magic != 0x00000803:
                raise DataError(f"{path} is not an IDX image file (nor Keras's .npz). {fix}")
            count, rows, cols = struct.unpack(">III", header[4:16])
            raw = header + handle.read(16 + count * rows * cols + 1 - 16)  # one byte more: a longer file is wrong
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"Cannot read {path} ({getattr(exc, 'strerror', None) or type(exc).__name__}). "
                        "Download the IDX file again.") from None
    expected = 16 + count * rows * cols
    if count == 0 or rows == 0 or cols == 0 or len(raw) != expected:
        raise DataError(
            f"{path} says {count} images of {rows}x{cols} ({expected:,} bytes) but holds "
            f"{'more' if len(raw) > expected else f'{len(raw):,} bytes'}; it is truncated or damaged. Download it again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def open_maybe_gzip(path: Path) -> IO[bytes]:
    """A binary stream of `path`, decompressed on the fly if it is gzipped (read lazily, header first)."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _download_with_keras(source: str, spec: _MnistLike) -> np.ndarray:
    """Last resort: Keras's own downloader, which needs internet access."""
    try:
        import keras

        loader = keras.datasets.mnist if source == "mnist" else keras.datasets.fashion_mnist
        (images, _labels), _test = loader.load_data()
    except Exception as exc:  # noqa: BLE001 - any failure here means "not available offline"
        looked = ", ".join(str(root) for root in _data_roots())
        raise DataError(
            f"{spec.title} was not found locally (looked in {looked}) and Keras could not download it "
            f"({type(exc).__name__}: {exc}). Pass --data /path/to/{spec.npz_name} (Keras's {spec.npz_name}) "
            f"or a folder with train-images-idx3-ubyte.gz, or set {DATA_ENV} to a folder holding {spec.npz_name}."
        ) from exc
    return np.asarray(images, dtype=np.uint8)


def _fit_mnist(digits: np.ndarray, image_size: int) -> np.ndarray:
    """(N, H, W) uint8 -> (N, S, S) uint8.

    28x28 digits at 32x32 are zero-padded by 2 pixels per side, as "MNIST-32" usually means:
    the strokes keep their size and the digit gains a black border. Any other size is resized
    bilinearly.
    """
    if digits.shape[1:] == (image_size, image_size):
        return digits
    if digits.shape[1:] == (28, 28) and image_size == 32:
        return np.pad(digits, ((0, 0), (2, 2), (2, 2)))
    size = (image_size, image_size)
    return np.stack([np.asarray(Image.fromarray(d).resize(size, Image.BILINEAR)) for d in digits])


def _to_channels(gray: np.ndarray, channels: int) -> np.ndarray:
    return np.repeat(gray[..., np.newaxis], channels, axis=-1)


# --- Folders of image files -------------------------------------------------------------


@dataclass(frozen=True)
class _ImageFile:
    path: Path
    name: str  # path relative to the folder, with "/" separators
    size: int  # -1 when the file cannot be stat'ed (a broken link)
    mtime_ns: int


class _Skip(Exception):
    """An image file that cannot be used; the message is the skip category."""


def _load_folder(
    path: str | None, image_size: int, channels: int, limit: int | None, cache_dir: str | None,
    log: Callable[[str], None], aspect: int = 1,
) -> tuple[np.ndarray, LoadReport]:
    folder = _check_folder(path)
    files = _list_image_files(folder)
    log(f"folder: {len(files):,} image files under {folder}" + (f", using the first {limit:,}" if limit else ""))
    files = files[:limit]
    cache = _cache_paths(folder, files, image_size, channels, limit, cache_dir, aspect)
    describe = _cache_description(folder, image_size, channels, limit, aspect)
    cached = _read_cache(cache, files, image_size, channels, log, aspect, describe)
    if cached is not None:
        images, skipped_examples = cached
        log(f"folder: loaded from cache {cache[0]}")
        n_skipped = len(files) - len(images)
        if n_skipped:
            examples = "; ".join(skipped_examples)
            log(f"folder: {n_skipped:,} file(s) were skipped when the cache was built, e.g. {examples}")
        return images, LoadReport("folder", str(folder), len(images), n_skipped, skipped_examples, True)

    images, skipped = _decode_all(files, image_size, channels, aspect)
    skipped_examples = [f"{name}: {reason}" for name, reason in skipped[:_MAX_SKIP_EXAMPLES]]
    _log_skips(skipped, log)
    if len(images) == 0:
        raise DataError(
            f"None of the {len(files):,} image files under {folder} could be used "
            f"(e.g. {'; '.join(skipped_examples)}). Check that they are valid images at least "
            f"{MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels, or pass --data with another folder."
        )
    _write_cache(cache, images, skipped_examples, log, describe)
    return images, LoadReport("folder", str(folder), len(images), len(skipped), skipped_examples, False)


def _check_folder(path: str | None) -> Path:
    if path is None:
        raise DataError("The 'folder' source needs a folder of images. Pass --data /path/to/images.")
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DataError(f"Image folder {folder} does not exist. Pass --data with an existing folder of images.")
    if not folder.is_dir():
        raise DataError(
            f"{folder} is a file, not a folder. Pass --data with the folder that holds the images "
            f"(for MNIST .npz or IDX files use the 'mnist' or 'fashion_mnist' source)."
        )
    return folder.resolve()


def _list_image_files(folder: Path) -> list[_ImageFile]:
    """Image files under ``folder``, recursively, sorted by relative path so the order is deterministic."""
    names = sorted(
        (Path(dirpath) / name).relative_to(folder).as_posix()
        for dirpath, _dirs, filenames in os.walk(folder)
        for name in filenames
        if Path(name).suffix.lower() in IMAGE_EXTENSIONS
    )
    if not names:
        raise DataError(
            f"No image files in {folder} (searched recursively for {', '.join(sorted(IMAGE_EXTENSIONS))}). "
            f"Put images there or pass --data with another folder."
        )
    files = []
    for name in names:
        try:
            stat = (folder / name).stat()
        except OSError:
            files.append(_ImageFile(folder / name, name, -1, -1))
        else:
            files.append(_ImageFile(folder / name, name, stat.st_size, stat.st_mtime_ns))
    return files


def _decode_all(
    files: list[_ImageFile], image_size: int, channels: int, aspect: int = 1
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Decode in threads (Pillow releases the GIL while decoding and resizing)."""

    def decode(file: _ImageFile) -> np.ndarray | str:
        try:
            return _decode_image(file, image_size, channels, aspect)
        except _Skip as skip:
            return str(skip)

    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        # A DecompressionBombWarning (image over Pillow's pixel limit) becomes an error, so it is skipped.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        results = list(pool.map(decode, files))
    images = np.empty((len(files), image_size, image_size * aspect, channels), dtype=np.uint8)
    skipped: list[tuple[str, str]] = []
    count = 0
    for file, result in zip(files, results):
        if isinstance(result, str):
            skipped.append((file.name, result))
        else:
            images[count] = result.reshape(image_size, image_size * aspect, channels)
            count += 1
    return images[:count], skipped


def _decode_image(file: _ImageFile, image_size: int, channels: int, aspect: int = 1) -> np.ndarray:
    """One file -> uint8 (S, aspect*S) or (S, aspect*S, 3): EXIF-rotated, centre crop to the aspect, resized.
    Raises _Skip."""
    if file.size < 0:
        raise _Skip(_UNREADABLE)
    if file.size == 0:
        raise _Skip("empty file")
    mode = "L" if channels == 1 else "RGB"
    try:
        with Image.open(file.path) as opened:
            if min(opened.size) < MIN_IMAGE_SIDE:
                raise _Skip(f"smaller than {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels")
            # JPEG only: let the decoder downscale by 2/4/8 while staying >= the target size.
            opened.draft(mode, (image_size * aspect, image_size))
            image = _to_mode(ImageOps.exif_transpose(opened), mode)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _Skip("too many pixels (Pillow's decompression-bomb limit)") from exc
    except UnidentifiedImageError as exc:
        raise _Skip("not a readable image") from exc
    except (FileNotFoundError, PermissionError) as exc:
        raise _Skip(_UNREADABLE) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise _Skip("truncated or corrupt image") from exc
    width, height = image.size
    side = min(width // aspect, height)  # the crop is side high and aspect * side wide
    left, top = (width - aspect * side) // 2, (height - side) // 2
    if aspect == 1:
        box = (left, top, left + side, top + side)
        return np.asarray(image.resize((image_size, image_size), Image.LANCZOS, box=box, reducing_gap=3.0),
                          dtype=np.uint8)
    # A|B pairs: each half cut out first and resized on its own (a resize box still reads pixels beyond its edge),
    # so that resampling never blends the halves at the seam
    halves = [image.crop((left + k * side, top, left + (k + 1) * side, top + side)).resize(
        (image_size, image_size), Image.LANCZOS, reducing_gap=3.0) for k in range(aspect)]
    return np.concatenate([np.asarray(h, dtype=np.uint8) for h in halves], axis=1)


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Any Pillow mode -> "L" or "RGB": 16-bit scaled (not clipped), transparency composited on white."""
    if image.mode.startswith("I"):  # "I;16", "I;16B", "I": 16-bit grayscale
        wide = np.asarray(image).astype(np.float32)
        image = Image.fromarray(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return image.convert(mode)


def _log_skips(skipped: list[tuple[str, str]], log: Callable[[str], None]) -> None:
    by_reason: dict[str, list[str]] = {}
    for name, reason in skipped:
        by_reason.setdefault(reason, []).append(name)
    for reason, names in by_reason.items():
        examples = ", ".join(names[:_MAX_SKIP_EXAMPLES]) + (", ..." if len(names) > _MAX_SKIP_EXAMPLES else "")
        log(f"folder: skipped {len(names):,} file(s), {reason}: {examples}")


# --- Cache of decoded folders --------------------------------------------------------------


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The folder of decoded-image caches: `cache_dir`, else $GAN_EXPLORER_CACHE, else ~/.cache/gan_explorer."""
    return Path(cache_dir or os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gan_explorer").expanduser()


@dataclass(frozen=True)
class CacheEntry:
    """One decoded folder in the cache: its .npy (what marks it complete) and .json notes."""

    array: Path
    notes: Path
    size: int  # bytes of both files
    folder: str | None  # the image folder it decodes; None when an older version wrote it (no note of it)
    describe: dict | None  # folder and decoding settings (image size, channels, limit, aspect)
    last_used: float  # the .npy's mtime: written, or touched by each cache hit


def cache_entries(cache_dir: str | Path | None = None) -> list[CacheEntry]:
    """The cache's entries (also half-written ones: notes without their .npy), least recently used first."""
    root = cache_root(cache_dir)
    try:
        names = os.listdir(root)
    except OSError:
        return []
    entries = []
    for stem in sorted({n[:-5] if n.endswith(".json") else n[:-4] for n in names
                        if n.startswith("folder-") and n.endswith((".npy", ".json"))}):
        array, notes = root / f"{stem}.npy", root / f"{stem}.json"
        size, times = 0, []
        for path in (array, notes):  # last used: the .npy's mtime, else (half written) the notes'
            try:
                info = path.stat()
            except OSError:
                continue
            size += info.st_size
            times.append(info.st_mtime)
        last_used = times[0] if times else 0.0
        describe = None
        try:
            loaded = json.loads(notes.read_text())
            if isinstance(loaded, dict) and isinstance(loaded.get("describe"), dict):
                describe = loaded["describe"]
        except (OSError, ValueError):
            pass
        folder = describe.get("folder") if describe and isinstance(describe.get("folder"), str) else None
        entries.append(CacheEntry(array, notes, size, folder, describe, last_used))
    return sorted(entries, key=lambda e: e.last_used)


def remove_cache_entry(entry: CacheEntry) -> None:
    """Delete an entry's files; a reader that had it open keeps its copy, a later load decodes again."""
    for path in (entry.array, entry.notes):  # the .npy first: without it the entry is no longer used
        path.unlink(missing_ok=True)


def stale_cache_temp_files(cache_dir: str | Path | None = None, now: float | None = None) -> list[Path]:
    """Temporary files of cache writes killed (or out of disk) mid-way: untouched for STALE_TEMP_SECONDS."""
    root, now = cache_root(cache_dir), time.time() if now is None else now
    try:
        names = [n for n in os.listdir(root) if n.startswith(".folder-") and n.endswith(".tmp")]
    except OSError:
        return []
    stale = []
    for name in names:
        try:
            if now - (root / name).stat().st_mtime > STALE_TEMP_SECONDS:
                stale.append(root / name)
        except OSError:
            continue
    return stale


def cache_limit_bytes() -> int:
    """$GAN_EXPLORER_CACHE_LIMIT_GB (default 10) in bytes: what the cache keeps before trimming."""
    raw = os.environ.get(CACHE_LIMIT_ENV)
    try:
        gb = float(raw) if raw else DEFAULT_CACHE_LIMIT_GB
    except ValueError:
        gb = DEFAULT_CACHE_LIMIT_GB
    return int(gb * 1e9) if gb == gb and gb >= 0 else int(DEFAULT_CACHE_LIMIT_GB * 1e9)


def trim_cache(cache_dir: str | Path | None = None, *, keep: Path | None = None, limit_bytes: int | None = None,
               log: Callable[[str], None] | None = None) -> list[Path]:
    """Keep the cache from growing without bound, after an entry (`keep`, its .npy) was written: remove entries of
    the same folder and settings that it supersedes (the folder's files changed, so they can never be read again),
    abandoned temporary files, then the least recently used entries until the cache fits `limit_bytes`
    (default :func:`cache_limit_bytes`). `keep` stays even when it alone is larger. Returns what was removed."""
    log = log or _ignore
    limit = cache_limit_bytes() if limit_bytes is None else limit_bytes
    entries = cache_entries(cache_dir)
    kept = next((e for e in entries if keep is not None and e.array == keep), None)
    removed: list[Path] = []

    def drop(entry: CacheEntry, why: str) -> None:
        remove_cache_entry(entry)
        removed.append(entry.array)
        log(f"folder: removed cache {entry.array.name} ({why})")

    rest = []
    for entry in entries:
        if entry is kept:
            continue
        if kept is not None and kept.describe is not None and entry.describe == kept.describe:
            drop(entry, "superseded: the folder's files changed")
        else:
            rest.append(entry)
    for path in stale_cache_temp_files(cache_dir):
        path.unlink(missing_ok=True)
        removed.append(path)
    total = sum(e.size for e in rest) + (kept.size if kept else 0)
    for entry in rest:  # least recently used first
        if total <= limit:
            break
        drop(entry, f"least recently used; the cache keeps {limit / 1e9:g} GB (${CACHE_LIMIT_ENV})")
        total -= entry.size
    return removed


def _cache_description(folder: Path, image_size: int, channels: int, limit: int | None, aspect: int) -> dict:
    """What an entry decodes, kept in its notes: which folder (for storage views) and with which settings."""
    return {"folder": str(folder), "image_size": image_size, "channels": channels, "limit": limit, "aspect": aspect}


def _cache_paths(
    folder: Path, files: list[_ImageFile], image_size: int, channels: int, limit: int | None,
    cache_dir: str | None, aspect: int = 1,
) -> tuple[Path, Path]:
    """(.npy images, .json skip notes); the name hashes everything that changes the decoded array."""
    root = cache_root(cache_dir)
    key = json.dumps(
        {
            "version": _CACHE_VERSION,
            "folder": str(folder),
            "files": [(f.name, f.size, f.mtime_ns) for f in files],
            "image_size": image_size,
            "channels": channels,
            "limit": limit,
            **({"aspect": aspect} if aspect != 1 else {}),  # square crops keep their old cache names
        }
    )
    stem = "folder-" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return root / f"{stem}.npy", root / f"{stem}.json"


def _read_cache(
    cache: tuple[Path, Path], files: list[_ImageFile], image_size: int, channels: int,
    log: Callable[[str], None], aspect: int = 1, describe: dict | None = None,
) -> tuple[np.ndarray, list[str]] | None:
    """The cached array and skip examples, or None when absent or unusable (then it is rebuilt).

    A hit marks the entry as used (its mtime, for trimming least recently used first) and adds the description
    to notes an older version wrote without it, so storage views can tell which folder it decodes."""
    array_path, notes_path = cache
    if not array_path.exists():
        return None
    try:
        images = np.load(array_path, allow_pickle=False)
        notes = json.loads(notes_path.read_text())
        skipped_examples = [str(example) for example in notes["skipped_examples"]]
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        log(f"folder: ignoring unreadable cache {array_path} ({exc}); decoding again")
        return None
    expected = (image_size, image_size * aspect, channels)
    if images.dtype != np.uint8 or images.shape[1:] != expected or not 0 < len(images) <= len(files):
        log(f"folder: ignoring cache {array_path} with unexpected {images.dtype} {images.shape}; decoding again")
        return None
    try:  # bookkeeping only: a read-only cache still serves the hit
        os.utime(array_path)
        if describe is not None and notes.get("describe") != describe:
            payload = json.dumps({**notes, "describe": describe}).encode()
            atomic_write(notes_path, lambda handle: handle.write(payload))
    except OSError:
        pass
    return images, skipped_examples


def _write_cache(
    cache: tuple[Path, Path], images: np.ndarray, skipped_examples: list[str], log: Callable[[str], None],
    describe: dict | None = None,
) -> None:
    """Write atomically (temp file + os.replace); the .npy goes last, so it marks a complete entry. Then trim the
    cache (:func:`trim_cache`), so it does not grow without bound.

    The cache only saves time, so a failure to write or trim it is logged, not raised.
    """
    array_path, notes_path = cache
    try:
        array_path.parent.mkdir(parents=True, exist_ok=True)
        notes = json.dumps({"skipped_examples": skipped_examples, "describe": describe}).encode()
        atomic_write(notes_path, lambda handle: handle.write(notes))
        atomic_write(array_path, lambda handle: np.save(handle, images))
    except OSError as exc:
        log(f"folder: could not write cache {array_path} ({exc}); the next load will decode again")
        return
    log(f"folder: cached decoded images in {array_path}")
    try:
        trim_cache(array_path.parent, keep=array_path, log=log)
    except OSError as exc:
        log(f"folder: could not trim the cache in {array_path.parent} ({exc})")
