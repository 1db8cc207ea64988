"""Pictures as arrays and files: pixel ranges, grids, PNG and GIF bytes; no model in sight.

Everything that shows an image (the trainer's snapshot grids, exports, the pages) goes through here, so a grid
looks the same wherever it is made.
"""
from __future__ import annotations

import io
import math
import re
import struct
import warnings
from pathlib import Path
from typing import Sequence

import imageio.v3 as iio
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ConfigError, DataError, resource_errors
from .disk import atomic_write_bytes

MAX_SIDE_PX = 8192  # a picture's longest side: 8192^2 RGB is 200 MB in memory, far past what anyone views
MIN_FPS, MAX_FPS = 0.01, 50.0  # a GIF stores a frame's delay in hundredths of a second, at most 65535 (655 s); viewers
# slow a delay under 2 to 10 fps
MAX_LOOP = 65535  # a GIF's loop count is 16 bits
# A picture a user hands in (upload, drawing, CLI file): its header's size is checked before a pixel is decoded.
# 25 megapixels is a 6000x4000 camera photo, ~100 MB as RGBA; a 564 KB PNG of 12000x12000 took the server to 7.9 GB.
MAX_PICTURE_PIXELS = 25_000_000
MAX_PICTURE_BYTES = 64 * 1024 * 1024  # the file (or the data URL's payload) itself
PICTURE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "PPM", "TIFF")


def to_unit(images, pixel_range: str = "tanh"):
    """Images in a network's pixel range ('tanh': [-1, 1]; 'sigmoid' / 'unit': [0, 1]) as [0, 1], unclipped.
    Works on NumPy arrays and on TensorFlow tensors alike (plain arithmetic)."""
    return (images + 1.0) / 2.0 if pixel_range == "tanh" else images


BINOMIAL = np.float32([1, 4, 6, 4, 1]) / 16.0  # the separable 5x5 Gaussian of cv2.pyrDown


def binomial_blur(x: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Separable 5x5 binomial filter on (N, H, W, C), mirrored edges (scipy.ndimage 'mirror' = numpy 'reflect');
    `gain` scales the kernel (a Laplacian pyramid's upsampling uses 2 per axis)."""
    k = BINOMIAL * np.float32(gain)
    h, w = x.shape[1:3]
    p = np.pad(x, ((0, 0), (2, 2), (0, 0), (0, 0)), mode="reflect")
    y = sum(k[i] * p[:, i:i + h] for i in range(5))
    p = np.pad(y, ((0, 0), (0, 0), (2, 2), (0, 0)), mode="reflect")
    return sum(k[i] * p[:, :, i:i + w] for i in range(5)).astype(np.float32)


def to_uint8(images: np.ndarray, pixel_range: str = "unit") -> np.ndarray:
    """float images in [-1, 1] ('tanh'), or [0, 1] ('sigmoid' / 'unit'), to uint8."""
    x = to_unit(np.asarray(images, np.float32), pixel_range)
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def check_picture_size(height: int, width: int, scale: int = 1) -> None:
    """ConfigError, before any memory is used, for a scale below 1 or a picture over MAX_SIDE_PX a side."""
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ConfigError(f"the pixel scale must be a whole number of at least 1; got {scale}")
    h, w = int(height) * int(scale), int(width) * int(scale)
    if max(h, w) > MAX_SIDE_PX:
        raise ConfigError(f"that picture would be {w}x{h} pixels; the most is {MAX_SIDE_PX} a side: ask for a smaller "
                          "pixel scale or fewer rows and columns")


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Whole-pixel (nearest neighbour) enlargement of one (H, W[, C]) image: small GAN outputs stay crisp."""
    image = np.asarray(image, np.uint8)
    check_picture_size(image.shape[0], image.shape[1], scale)
    return image.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else image


def grid(images: np.ndarray, rows: int, cols: int, *, pad: int = 2, scale: int = 1, background: int = 32) -> np.ndarray:
    """Tile (N, H, W, C) uint8 images row by row into one (rows*H, cols*W, C) image; empty cells stay background."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, c = images.shape
    if rows < 1 or cols < 1:
        raise ConfigError(f"a grid needs at least 1 row and 1 column; got {rows}x{cols}")
    check_picture_size(rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad, scale)
    out = np.full((rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad, c), background, np.uint8)
    for i in range(min(n, rows * cols)):
        r, k = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        out[y:y + h, x:x + w] = images[i]
    return upscale(out, scale)


def to_pil(image: np.ndarray) -> Image.Image:
    image = np.asarray(image, np.uint8)
    return Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image)


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    to_pil(image).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def check_output_file(path: str | Path, example: str) -> Path:
    """`path` as a file to write; ConfigError for an existing folder (else the rename at the end fails with
    IsADirectoryError and a temporary name)."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder: give a file name, e.g. {path / example}")
    return path


def save_png(path: str | Path, image: np.ndarray) -> Path:
    path = check_output_file(path, "grid.png")
    with resource_errors(f"writing {path}"):  # a folder that cannot be made or written, a full disk
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, png_bytes(image))
    return path


def gif_bytes(frames: Sequence[np.ndarray], fps: float = 4.0, loop: int = 0, bounce: bool = False) -> bytes:
    """An animated GIF (imageio): `loop`=0 repeats forever; `bounce` plays forward then back."""
    if not len(frames):
        raise ConfigError("a GIF needs at least one frame")
    if not (isinstance(fps, (int, float, np.number)) and math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise ConfigError(f"frames per second must be a number from {MIN_FPS:g} to {MAX_FPS:g} (what a GIF's frame "
                         f"delay can store); got {fps}")
    if isinstance(loop, bool) or not isinstance(loop, (int, np.integer)) or not 0 <= loop <= MAX_LOOP:
        raise ConfigError(f"loop must be 0 (forever) to {MAX_LOOP} times; got {loop}")
    frames = [np.asarray(f, np.uint8) for f in frames]
    frames = [f[..., 0] if f.ndim == 3 and f.shape[-1] == 1 else f for f in frames]
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    return iio.imwrite("<bytes>", np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=loop)


def save_gif(path: str | Path, frames: Sequence[np.ndarray], fps: float = 4.0, loop: int = 0,
             bounce: bool = False) -> Path:
    path = check_output_file(path, "animation.gif")
    gif = gif_bytes(frames, fps=fps, loop=loop, bounce=bounce)
    with resource_errors(f"writing {path}"):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, gif)
    return path


def read_png(path: str | Path) -> np.ndarray:
    """(H, W, C) uint8, C = 1 for grayscale: the same layout `grid` makes."""
    with Image.open(path) as im:
        array = np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im)
    return array[..., None] if array.ndim == 2 else array


def gray_to_rgb(images: np.ndarray, channels: int) -> np.ndarray:
    """(N, H, W, 1) -> (N, H, W, channels) so that gray inputs and colour outputs share one grid."""
    return np.repeat(images, channels, axis=-1) if images.shape[-1] == 1 and channels == 3 else images


def triplet_grid(columns: list[np.ndarray], rows: int) -> np.ndarray:
    """A grid of ``rows`` rows from aligned image sets in [0, 1] (e.g. input, output, target): row r shows
    example r of every set, then example r + rows, ... (``len(columns[0]) // rows`` groups per row)."""
    channels = max(c.shape[-1] for c in columns)
    columns = [gray_to_rgb(np.asarray(c, np.float32), channels) for c in columns]
    groups = len(columns[0]) // rows
    cells = [columns[k][g * rows + r] for r in range(rows) for g in range(groups) for k in range(len(columns))]
    return grid(to_uint8(np.stack(cells), "unit"), rows, groups * len(columns))


def grid_cells(picture: np.ndarray, rows: int, cols: int, *, pad: int = 2) -> list[np.ndarray]:
    """The cells of a picture made by :func:`grid` (scale 1), row by row: the inverse of the tiling."""
    h, w = (picture.shape[0] - (rows + 1) * pad) // rows, (picture.shape[1] - (cols + 1) * pad) // cols
    if h < 1 or w < 1:
        raise ConfigError(f"a {picture.shape[0]}x{picture.shape[1]} picture has no {rows}x{cols} grid of cells")
    return [picture[pad + r * (h + pad):pad + r * (h + pad) + h, pad + k * (w + pad):pad + k * (w + pad) + w]
            for r in range(rows) for k in range(cols)]


def open_picture(source: str | Path | bytes, name: str, *, max_side: int | None = None,
                 draft: tuple[str, tuple[int, int]] | None = None) -> Image.Image:
    """The one door for pictures users hand in (uploads, drawings, the CLI's image files): a decoded Pillow image,
    or a DataError in one line for anything else. The header's size is checked before a pixel is decoded: over
    MAX_PICTURE_PIXELS, or over `max_side` a side (a caller that knows what it needs, e.g. a canvas's size times a
    small factor), is refused, so a small highly compressed file cannot fill memory. `draft` lets a JPEG decode
    at a fraction of its size (Pillow's draft mode). `name` names the picture in the messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > MAX_PICTURE_BYTES:
            raise DataError(f"{name} is {len(source):,} bytes, over the {MAX_PICTURE_BYTES:,} a picture may take "
                            "here: use a smaller file")
        if not len(source):
            raise DataError(f"{name} is empty: give a PNG or JPEG picture")
        handle = io.BytesIO(bytes(source))
    else:
        handle = Path(source).expanduser()
        if not handle.is_file():
            raise DataError(f"no image file at {handle}; give a PNG or JPEG file")
    try:
        with warnings.catch_warnings():  # our limit is stricter than Pillow's warning; its error still comes
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(handle, formats=PICTURE_FORMATS)  # reads the header only
            try:
                _check_picture_header(image, name, max_side)
                if draft:
                    image.draft(*draft)
                image.load()
            except BaseException:
                image.close()
                raise
    except DataError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own limit, twice its warning's, met inside open
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{int(found[1]):,} pixels" if found else "more pixels"
        raise DataError(f"{name} has {pixels}, over the {MAX_PICTURE_PIXELS:,} a picture may have here: use a "
                        "smaller PNG or JPEG picture") from None
    except UnidentifiedImageError:
        raise DataError(f"{name} is not a readable image: give a PNG or JPEG picture (or GIF, BMP, WebP, TIFF)"
                        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise DataError(f"{name} is a truncated or corrupt image ({type(exc).__name__}): save it again as a PNG "
                        "or JPEG picture") from None
    return image


def _check_picture_header(image: Image.Image, name: str, max_side: int | None) -> None:
    width, height = image.size
    if max_side and max(width, height) > max_side:
        raise DataError(f"{name} is {width}x{height} pixels, over the {max_side} a side expected here: use a "
                        "smaller PNG or JPEG picture")
    if width * height > MAX_PICTURE_PIXELS:
        raise DataError(f"{name} is {width}x{height} pixels, over the {MAX_PICTURE_PIXELS:,} a picture may have "
                        "here: use a smaller PNG or JPEG picture")

