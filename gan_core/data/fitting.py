"""Any picture a user gives (a path, an upload's bytes, an array) fitted to a model's size and channels exactly as
the training data was made: the targets of projection and the inputs of translators."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import DataError
from ..files import pictures
from .folders import MIN_IMAGE_SIDE, fit_decoded, to_mode


def fit_image(source: str | Path | bytes | np.ndarray, size: int, channels: int, *, invert: bool = False,
              name: str | None = None) -> np.ndarray:
    """Any image (see :func:`prepare_target`) -> (size, size, channels) uint8, as the training data was made."""
    height = width = size
    if isinstance(source, np.ndarray):
        image = _fit_array(source, height, channels)
    else:
        image = _decode(source, height, channels, name)
    image = image.reshape(height, width, channels)
    return (255 - image) if invert else image


def _decode(source: str | Path | bytes, size: int, channels: int, name: str | None = None) -> np.ndarray:
    """A user's picture file through the one guarded decoder (pictures.open_picture: its header's size checked
    before decoding), then the data loader's rules: EXIF rotation, mode, centre crop, Lanczos resize."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "the uploaded image"
    else:
        name = name or str(Path(source).expanduser())
    mode = "L" if channels == 1 else "RGB"
    with pictures.open_picture(source, name, draft=(mode, (size, size))) as opened:
        if min(opened.size) < MIN_IMAGE_SIDE:
            raise DataError(f"{name} is smaller than {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels: upload a PNG or JPEG "
                            f"image at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels")
        try:
            image = to_mode(ImageOps.exif_transpose(opened), mode)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:  # e.g. a broken EXIF block
            raise DataError(f"{name} is a truncated or corrupt image ({type(exc).__name__}): upload a PNG or JPEG "
                            "image") from None
    return fit_decoded(image, size)


def _fit_array(array: np.ndarray, size: int, channels: int) -> np.ndarray:
    x = np.asarray(array)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[-1] not in (3, 4)) or min(x.shape[:2]) < 1:
        raise DataError(f"a target image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got shape {x.shape}")
    x = unit_to_uint8(x)
    if x.ndim == 2 and x.shape == (28, 28) and size == 32:  # the MNIST-32 rule of the data loader
        x = np.pad(x, 2)
    if x.shape[:2] == (size, size) and (x.ndim == 2) == (channels == 1) and (x.ndim == 2 or x.shape[-1] == 3):
        return x
    if x.shape[:2] == (size, size) and x.ndim == 2:
        return np.repeat(x[..., None], 3, axis=-1)
    # Anything else goes through the file decoder, so crop, resize and mode conversion follow the same rules.
    buffer = io.BytesIO()
    Image.fromarray(x).save(buffer, format="PNG")
    return _decode(buffer.getvalue(), size, channels, "the target image")


def unit_to_uint8(x: np.ndarray) -> np.ndarray:
    """A uint8 image as it is; a float one, checked to hold finite values in [0, 1], scaled to 0..255."""
    if x.dtype == np.uint8:
        return x
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise DataError("the target image has NaN or infinite pixels")
    if x.min() < 0.0 or x.max() > 1.0:
        raise DataError(f"a float target image must be in [0, 1]; got values {x.min():.3g} to {x.max():.3g}")
    return np.round(x * 255.0).astype(np.uint8)
