import io

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from gan_core.explore import grids_and_gifs
from gan_core.files import pictures


def test_to_uint8_maps_both_ranges():
    np.testing.assert_array_equal(pictures.to_uint8(np.array([-1.0, 0.0, 1.0, 2.0]), "tanh"), [0, 128, 255, 255])
    np.testing.assert_array_equal(pictures.to_uint8(np.array([0.0, 0.5, 1.0, -3]), "sigmoid"), [0, 128, 255, 0])


def test_grid_places_images_row_by_row():
    images = np.stack([np.full((4, 5, 1), v, np.uint8) for v in (10, 20, 30)])
    g = pictures.grid(images, rows=2, cols=2, pad=1, background=0)
    assert g.shape == (2 * 4 + 3, 2 * 5 + 3, 1)
    assert g[1, 1, 0] == 10 and g[1, 7, 0] == 20 and g[6, 1, 0] == 30
    assert g[6, 7, 0] == 0  # the 4th cell is empty
    assert pictures.grid(images, 1, 3, pad=0, scale=3).shape == (12, 45, 1)


def test_png_round_trip(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (8, 9, 3), dtype=np.uint8)
    path = pictures.save_png(tmp_path / "sub" / "x.png", rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), rgb)
    gray = rgb[..., :1]
    assert Image.open(io.BytesIO(pictures.png_bytes(gray))).mode == "L"


def test_gif_has_every_frame_and_loops():
    frames = [np.full((6, 6, 1), v, np.uint8) for v in (0, 80, 160, 240)]
    data = pictures.gif_bytes(frames, fps=5, loop=0)
    decoded = iio.imread(data, index=None)
    assert decoded.shape[0] == 4
    assert Image.open(io.BytesIO(data)).info.get("duration") == 200
    assert len(iio.imread(pictures.gif_bytes(frames, bounce=True), index=None)) == 6


def test_gif_rejects_nonsense():
    with pytest.raises(ValueError):
        pictures.gif_bytes([])
    with pytest.raises(ValueError):
        pictures.gif_bytes([np.zeros((2, 2), np.uint8)], fps=0)


def test_upscale_keeps_pixels_square():
    image = np.array([[0, 255], [128, 64]], np.uint8)
    big = pictures.upscale(image, 3)
    assert big.shape == (6, 6) and (big[:3, :3] == 0).all() and (big[3:, 3:] == 64).all()
    np.testing.assert_array_equal(pictures.upscale(image, 1), image)


# --- truncation on the sample grid (pretrained/mnist_dcgan) ------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_generator():
    from pathlib import Path

    from gan_core.inference import Generator

    folder = Path(__file__).resolve().parents[1] / "pretrained" / "mnist_dcgan" / "generators"
    return Generator.load(sorted(folder.glob("epoch_*[0-9].keras"))[-1])


def test_sample_grid_psi_0_is_the_mean_image_everywhere(mnist_generator):
    from gan_core import latent_space

    g = mnist_generator
    plain = grids_and_gifs.sample_grid(g, 2, 3, seed=4, pad=0)
    np.testing.assert_array_equal(grids_and_gifs.sample_grid(g, 2, 3, seed=4, pad=0, psi=1.0), plain)
    mean_image = g.images_uint8(np.full(g.noise_dim, latent_space.centre(g.noise), np.float32))[0]
    np.testing.assert_array_equal(grids_and_gifs.sample_grid(g, 2, 3, seed=4, pad=0, psi=0.0),
                                  pictures.grid(np.stack([mean_image] * 6), 2, 3, pad=0))
    half = grids_and_gifs.sample_grid(g, 2, 3, seed=4, pad=0, psi=0.5)
    assert not np.array_equal(half, plain)
    z = latent_space.z_from_seeds(range(4, 10), g.noise_dim) * 0.5
    np.testing.assert_array_equal(half, pictures.grid(g.images_uint8(z), 2, 3, pad=0))


def test_sample_grid_refuses_a_bad_psi(mnist_generator):
    from gan_core.errors import GanError

    with pytest.raises(GanError, match="psi"):
        grids_and_gifs.sample_grid(mnist_generator, 1, 1, psi=1.5)


def test_cli_sample_psi(mnist_generator, tmp_path, capsys):
    from gan_core import cli

    model = str(mnist_generator.source)
    for psi in ("1", "0.6", "0"):
        assert cli.main(["sample", model, "--grid", "2x2", "--scale", "1", "--psi", psi,
                         "--out", str(tmp_path / f"psi{psi}.png")]) == 0
    grids = {psi: pictures.read_png(tmp_path / f"psi{psi}.png") for psi in ("1", "0.6", "0")}
    np.testing.assert_array_equal(grids["1"], grids_and_gifs.sample_grid(mnist_generator, 2, 2))
    np.testing.assert_array_equal(grids["0.6"], grids_and_gifs.sample_grid(mnist_generator, 2, 2, psi=0.6))
    assert not np.array_equal(grids["1"], grids["0.6"])
    cells = [grids["0"][2 + r * 30:30 + r * 30, 2 + c * 30:30 + c * 30] for r in (0, 1) for c in (0, 1)]
    assert all(np.array_equal(cell, cells[0]) for cell in cells)  # psi 0: four copies of the mean image
    capsys.readouterr()
    assert cli.main(["sample", model, "--psi", "2", "--out", str(tmp_path / "x.png")]) == 2
    assert "psi must be between 0" in capsys.readouterr().err


# --- issue 15: sizes, frame rates and paths that cannot work are one clear error, before any memory is used ----

def test_a_picture_too_big_to_make_is_refused_before_allocating():
    from gan_core.errors import ConfigError

    image = np.zeros((122, 122, 1), np.uint8)
    with pytest.raises(ConfigError, match=r"366000x366000 pixels; the most is 8192 a side: ask for a smaller pixel sc"):
        pictures.upscale(image, 3000)  # before: numpy tried to allocate 125 GiB
    with pytest.raises(ConfigError, match="the most is 8192 a side"):
        pictures.grid(np.zeros((1, 28, 28, 1), np.uint8), 1, 1000, scale=1)
    with pytest.raises(ConfigError, match="scale must be a whole number of at least 1; got 0"):
        pictures.upscale(image, 0)


def test_sample_grid_refuses_a_huge_grid_before_drawing_a_single_z(mnist_generator, monkeypatch):
    from gan_core import latent_space
    from gan_core.errors import ConfigError

    monkeypatch.setattr(latent_space, "z_from_seeds", lambda *a, **k: pytest.fail("drew latents for a refused grid"))
    with pytest.raises(ConfigError, match=r"a 100000x100000 grid has 10000000000 cells; the most is 4096"):
        grids_and_gifs.sample_grid(mnist_generator, 100_000, 100_000)
    with pytest.raises(ConfigError, match="the most is 8192 a side"):
        grids_and_gifs.sample_grid(mnist_generator, 64, 64, scale=16)
    with pytest.raises(ConfigError, match="at least 1 row and 1 column"):
        grids_and_gifs.sample_grid(mnist_generator, 0, 4)


@pytest.mark.parametrize("fps,needle", [(float("nan"), "got nan"), (float("inf"), "got inf"), (-1, "got -1"),
                                        (0, "got 0"), (1000, "got 1000"),
                                        (6.265099082527081e-76, "got 6.26")])  # found by test_cli_fuzz
def test_gif_frame_rates_that_a_gif_cannot_store_are_refused(fps, needle):
    with pytest.raises(ValueError, match=f"frames per second must be a number from 0.01 to 50 .*{needle}"):
        pictures.gif_bytes([np.zeros((2, 2), np.uint8)], fps=fps)


@pytest.mark.parametrize("loop", [-1, 65536, 70000])
def test_gif_loop_counts_a_gif_cannot_store_are_refused(loop):
    # before: Pillow's OverflowError from deep inside its GIF writer
    with pytest.raises(ValueError, match=f"loop must be 0 \\(forever\\) to 65535 times; got {loop}"):
        pictures.gif_bytes([np.zeros((2, 2), np.uint8)], loop=loop)


def test_gif_loop_and_fps_at_their_limits_still_work():
    frames = [np.full((4, 4), v, np.uint8) for v in (0, 255)]
    data = pictures.gif_bytes(frames, fps=50, loop=65535)
    assert Image.open(io.BytesIO(data)).info.get("loop") == 65535
    assert Image.open(io.BytesIO(pictures.gif_bytes(frames, fps=0.01))).info.get("duration") == 100_000


def test_saving_onto_an_existing_folder_says_it_is_a_folder(tmp_path):
    from gan_core.errors import ConfigError

    (tmp_path / "out").mkdir()
    with pytest.raises(ConfigError, match=r"out is a folder: give a file name, e.g. .*out/grid\.png"):
        pictures.save_png(tmp_path / "out", np.zeros((2, 2), np.uint8))
    with pytest.raises(ConfigError, match=r"out is a folder: give a file name, e.g. .*out/animation\.gif"):
        pictures.save_gif(tmp_path / "out", [np.zeros((2, 2), np.uint8)])
    assert list((tmp_path / "out").iterdir()) == []
