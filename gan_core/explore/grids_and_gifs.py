"""Pictures out of a GAN: sample grids, PNG bytes and animated GIFs, shared by the app, CLI and trainer."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import latent_space
from ..errors import ConfigError, RunError
from ..files.pictures import check_picture_size, gif_bytes, grid, read_png, upscale
from ..latent_space import class_blend, interpolate

MAX_GRID_CELLS = 4096  # 64 x 64 samples in one grid


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

    psi < 1 truncates every z towards the noise's centre (latent_space.truncate): cleaner, more alike samples.
    A class-conditional generator draws class `label` in every cell, or with None the classes in turn (a grid
    as wide as the number of classes has one class per column)."""
    if rows < 1 or cols < 1:
        raise ConfigError(f"a grid needs at least 1 row and 1 column; got {rows}x{cols}")
    if rows * cols > MAX_GRID_CELLS:
        raise ConfigError(f"a {rows}x{cols} grid has {rows * cols} cells; the most is {MAX_GRID_CELLS} (64x64): use "
                          "fewer rows or columns")
    h, w = generator.image_shape[:2]
    check_picture_size(rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad, scale)
    z = latent_space.z_from_seeds(latent_space.grid_seeds(seed, rows * cols), generator.noise_dim, generator.noise)
    if psi != 1.0:
        z = latent_space.truncate(z, psi, generator.noise)
    return grid(_images(generator, z, label), rows, cols, pad=pad, scale=scale)


def interpolation_frames(generator, a: np.ndarray, b: np.ndarray, steps: int, mode: str = "slerp",
                         scale: int = 1, label: int | None = None) -> list[np.ndarray]:
    """One image per interpolation step from z=a to z=b (of class `label`, for a conditional generator)."""
    images = _images(generator, interpolate(a, b, steps, mode, generator.noise), label)
    return [upscale(image, scale) for image in images]


def class_interpolation_frames(generator, z: np.ndarray, a: int, b: int, steps: int,
                               scale: int = 1) -> list[np.ndarray]:
    """One image per step from class a to class b with the same z: the same style, another digit."""
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
    """The run's epoch grids as one animation (the TF DCGAN tutorial's dcgan.gif, from the run directory)."""
    epochs = list(epochs) if epochs is not None else run.sample_epochs()
    if not epochs:
        raise RunError(f"run {run.name} has no snapshot grids yet")
    return gif_bytes([read_png(run.sample_path(e)) for e in epochs], fps=fps, loop=loop)
