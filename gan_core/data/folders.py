"""A folder of image files as training data: listing, decoding in threads, skipping what cannot be read."""
from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError
from .cache import ImageFile, cache_description, cache_paths, read_cache, write_cache
from .load_report import LoadReport

if TYPE_CHECKING:
    pass

MIN_IMAGE_SIDE = 8
_MAX_SKIP_EXAMPLES = 5
_UNREADABLE = "cannot be read (broken link or no permission)"


IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".bmp", ".webp"}


class Unusable(Exception):
    """An image file that cannot be used; the message is the skip category."""


def load_folder(
    path: str | None, image_size: int, channels: int, limit: int | None, cache_dir: str | None,
    log: Callable[[str], None], aspect: int = 1,
) -> tuple[np.ndarray, LoadReport]:
    folder = check_folder(path)
    files = _list_image_files(folder)
    log(f"folder: {len(files):,} image files under {folder}" + (f", using the first {limit:,}" if limit else ""))
    files = files[:limit]
    cache = cache_paths(folder, files, image_size, channels, limit, cache_dir, aspect)
    describe = cache_description(folder, image_size, channels, limit, aspect)
    cached = read_cache(cache, files, image_size, channels, log, aspect, describe)
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
    write_cache(cache, images, skipped_examples, log, describe)
    return images, LoadReport("folder", str(folder), len(images), len(skipped), skipped_examples, False)


def check_folder(path: str | None) -> Path:
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


def _list_image_files(folder: Path) -> list[ImageFile]:
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
            files.append(ImageFile(folder / name, name, -1, -1))
        else:
            files.append(ImageFile(folder / name, name, stat.st_size, stat.st_mtime_ns))
    return files


def _decode_all(
    files: list[ImageFile], image_size: int, channels: int, aspect: int = 1
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Decode in threads (Pillow releases the GIL while decoding and resizing)."""

    def decode(file: ImageFile) -> np.ndarray | str:
        try:
            return decode_image(file, image_size, channels, aspect)
        except Unusable as skip:
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


def decode_image(file: ImageFile, image_size: int, channels: int, aspect: int = 1) -> np.ndarray:
    """One file -> uint8 (S, aspect*S) or (S, aspect*S, 3): EXIF-rotated, centre crop to the aspect, resized.
    Raises Unusable."""
    if file.size < 0:
        raise Unusable(_UNREADABLE)
    if file.size == 0:
        raise Unusable("empty file")
    mode = "L" if channels == 1 else "RGB"
    try:
        with Image.open(file.path) as opened:
            if min(opened.size) < MIN_IMAGE_SIDE:
                raise Unusable(f"smaller than {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels")
            # JPEG only: let the decoder downscale by 2/4/8 while staying >= the target size.
            opened.draft(mode, (image_size * aspect, image_size))
            image = to_mode(ImageOps.exif_transpose(opened), mode)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Unusable("too many pixels (Pillow's decompression-bomb limit)") from exc
    except UnidentifiedImageError as exc:
        raise Unusable("not a readable image") from exc
    except (FileNotFoundError, PermissionError) as exc:
        raise Unusable(_UNREADABLE) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise Unusable("truncated or corrupt image") from exc
    return fit_decoded(image, image_size, aspect)


def fit_decoded(image: Image.Image, image_size: int, aspect: int = 1) -> np.ndarray:
    """A decoded picture (already "L" or "RGB") -> uint8 (S, aspect*S[, 3]): centre crop to the aspect, resized."""
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


def to_mode(image: Image.Image, mode: str) -> Image.Image:
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


