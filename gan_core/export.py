"""Pictures out of a GAN: sample grids, PNG bytes and animated GIFs, shared by the app, CLI and trainer."""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from . import latent
from .errors import ConfigError, RunError, resource_errors
from .runs import atomic_write_bytes

MAX_SIDE_PX = 8192  # a picture's longest side: 8192^2 RGB is 200 MB in memory, far past what anyone views
MAX_GRID_CELLS = 4096  # 64 x 64 samples in one grid
MIN_FPS, MAX_FPS = 0.01, 50.0  # a GIF stores a frame's delay in hundredths of a second, at most 65535 (655 s); viewers
# slow a delay under 2 to 10 fps
MAX_LOOP = 65535  # a GIF's loop count is 16 bits


def to_uint8(images: np.ndarray, pixel_range: str = "unit") -> np.ndarray:
    """float images in [-1, 1] ('tanh'), or [0, 1] ('sigmoid' / 'unit'), to uint8."""
    x = np.asarray(images, np.float32)
    if pixel_range == "tanh":
        x = (x + 1.0) / 2.0
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def check_picture_size(height: int, width: int, scale: int = 1) -> None:
    """ConfigError, before any memory is used, for a scale below 1 or a picture over MAX_SIDE_PX a side."""
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ConfigError(f"the pixel scale must be a whole number of at least 1; got {scale}")
    h, w = int(height) * int(scale), int(width) * int(scale)
    if max(h, w) > MAX_SIDE_PX:
        raise ConfigError(f"that picture would be {w}x{h} pixels; the most is {MAX_SIDE_PX} a side: use a smaller "
                          "--scale or fewer rows and columns")


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
    import imageio.v3 as iio

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


def save_gif(path: str | Path, frames: Sequence[np.ndarray], fps: float = 4.0, loop: int = 0, bounce: bool = False) -> Path:
    path = check_output_file(path, "animation.gif")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, gif_bytes(frames, fps=fps, loop=loop, bounce=bounce))
    return path


def read_png(path: str | Path) -> np.ndarray:
    """(H, W, C) uint8, C = 1 for grayscale: the same layout `grid` makes."""
    with Image.open(path) as im:
        array = np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im)
    return array[..., None] if array.ndim == 2 else array


def _images(generator, z: np.ndarray, label) -> np.ndarray:
    """uint8 images of z; `label` (a class, or one per z) only for a class-conditional generator."""
    if label is None:
        return generator.images_uint8(z)
    if not getattr(generator, "num_classes", 0):
        raise ConfigError("this generator is not class-conditional: it draws no chosen class")
    return generator.images_uint8(z, label)


def sample_grid(generator, rows: int, cols: int, seed: int = 0, *, scale: int = 1, pad: int = 2,
                psi: float = 1.0, label: int | None = None) -> np.ndarray:
    """rows x cols samples of seeds seed, seed+1, ...: the same picture for the same generator and seed.

    psi < 1 truncates every z towards the noise's centre (latent.truncate): cleaner, more alike samples.
    A class-conditional generator draws class `label` in every cell, or with None the classes in turn (a grid
    as wide as the number of classes has one class per column)."""
    if rows < 1 or cols < 1:
        raise ConfigError(f"a grid needs at least 1 row and 1 column; got {rows}x{cols}")
    if rows * cols > MAX_GRID_CELLS:
        raise ConfigError(f"a {rows}x{cols} grid has {rows * cols} cells; the most is {MAX_GRID_CELLS} (64x64): use "
                          "fewer rows or columns")
    h, w = generator.image_shape[:2]
    check_picture_size(rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad, scale)
    z = latent.z_from_seeds(latent.grid_seeds(seed, rows * cols), generator.noise_dim, generator.noise)
    if psi != 1.0:
        z = latent.truncate(z, psi, generator.noise)
    return grid(_images(generator, z, label), rows, cols, pad=pad, scale=scale)


def interpolation_frames(generator, a: np.ndarray, b: np.ndarray, steps: int, mode: str = "slerp",
                         scale: int = 1, label: int | None = None) -> list[np.ndarray]:
    """One image per interpolation step from z=a to z=b (of class `label`, for a conditional generator)."""
    from .latent import interpolate

    images = _images(generator, interpolate(a, b, steps, mode, generator.noise), label)
    return [upscale(image, scale) for image in images]


def class_interpolation_frames(generator, z: np.ndarray, a: int, b: int, steps: int,
                               scale: int = 1) -> list[np.ndarray]:
    """One image per step from class a to class b with the same z: the same style, another digit."""
    from .latent import class_blend

    num_classes = int(getattr(generator, "num_classes", 0) or 0)
    if not num_classes:
        raise ConfigError("this generator is not class-conditional: there are no classes to walk between")
    for name, c in (("from", a), ("to", b)):
        if not 0 <= int(c) < num_classes:
            raise ConfigError(f"the class to walk {name} must be 0..{num_classes - 1}; got {c}")
    zs = np.repeat(np.asarray(z, np.float32).reshape(1, -1), steps, axis=0)
    images = generator.images_uint8(zs, class_blend(int(a), int(b), steps, num_classes))
    return [upscale(image, scale) for image in images]


def snapshots_gif(run, fps: float = 4.0, loop: int = 0, epochs: Sequence[int] | None = None) -> bytes:
    """The run's epoch grids as one animation (the seed's dcgan.gif, from the run directory)."""
    epochs = list(epochs) if epochs is not None else run.sample_epochs()
    if not epochs:
        raise RunError(f"run {run.name} has no snapshot grids yet")
    return gif_bytes([read_png(run.sample_path(e)) for e in epochs], fps=fps, loop=loop)
