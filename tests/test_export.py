import io

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from gan_core import export


def test_to_uint8_maps_both_ranges():
    np.testing.assert_array_equal(export.to_uint8(np.array([-1.0, 0.0, 1.0, 2.0]), "tanh"), [0, 128, 255, 255])
    np.testing.assert_array_equal(export.to_uint8(np.array([0.0, 0.5, 1.0, -3]), "sigmoid"), [0, 128, 255, 0])


def test_grid_places_images_row_by_row():
    images = np.stack([np.full((4, 5, 1), v, np.uint8) for v in (10, 20, 30)])
    g = export.grid(images, rows=2, cols=2, pad=1, background=0)
    assert g.shape == (2 * 4 + 3, 2 * 5 + 3, 1)
    assert g[1, 1, 0] == 10 and g[1, 7, 0] == 20 and g[6, 1, 0] == 30
    assert g[6, 7, 0] == 0  # the 4th cell is empty
    assert export.grid(images, 1, 3, pad=0, scale=3).shape == (12, 45, 1)


def test_png_round_trip(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (8, 9, 3), dtype=np.uint8)
    path = export.save_png(tmp_path / "sub" / "x.png", rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), rgb)
    gray = rgb[..., :1]
    assert Image.open(io.BytesIO(export.png_bytes(gray))).mode == "L"


def test_gif_has_every_frame_and_loops():
    frames = [np.full((6, 6, 1), v, np.uint8) for v in (0, 80, 160, 240)]
    data = export.gif_bytes(frames, fps=5, loop=0)
    decoded = iio.imread(data, index=None)
    assert decoded.shape[0] == 4
    assert Image.open(io.BytesIO(data)).info.get("duration") == 200
    assert len(iio.imread(export.gif_bytes(frames, bounce=True), index=None)) == 6


def test_gif_rejects_nonsense():
    with pytest.raises(ValueError):
        export.gif_bytes([])
    with pytest.raises(ValueError):
        export.gif_bytes([np.zeros((2, 2), np.uint8)], fps=0)


def test_upscale_keeps_pixels_square():
    image = np.array([[0, 255], [128, 64]], np.uint8)
    big = export.upscale(image, 3)
    assert big.shape == (6, 6) and (big[:3, :3] == 0).all() and (big[3:, 3:] == 64).all()
    np.testing.assert_array_equal(export.upscale(image, 1), image)
