"""Issue 31, finding 3: pixel bombs. Every picture a user hands in (a canvas drawing's data URL, an upload on
Translate or in Latent's projection, the CLI's translate/project file) goes through one guarded decoder
(gan_core.files.pictures.open_picture) that reads the header's size before decoding: a small, highly compressed PNG of
12000x12000 RGBA (it took the server to 7.9 GB), a 20000x20000 one, a malformed data URL and garbage are each one
line, and memory stays where it was."""
import base64
import os
import resource
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from explorer_ui import canvas
from gan_core import runs
from gan_core.data import fit_image
from gan_core.errors import DataError
from gan_core.files import pictures
from cli_helpers import peak_run

GROWTH_KIB = 200_000  # a decoded 12000x12000 RGBA picture alone is 576 MB


def png_bomb(width: int, height: int, channels: int = 4) -> bytes:
    """A valid PNG of width x height black pixels, built row by row (never held decoded): a few MB at most."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + width * channels)  # filter byte 0, then black
    packer = zlib.compressobj(1)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    colour = {1: 0, 3: 2, 4: 6}[channels]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    files = {"rgba12k.png": png_bomb(12000, 12000), "gray20k.png": png_bomb(20000, 20000, 1)}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- the decoder and the library's entry points -------------------------------------------------------------------

@pytest.mark.parametrize("bomb, size", [("rgba12k.png", "is 12000x12000 pixels"),
                                        ("gray20k.png", "has 400,000,000 pixels")])  # past Pillow's own limit
def test_a_pixel_bomb_is_refused_from_its_header(bombs, bomb, size):
    raw = bombs[bomb].read_bytes()
    assert len(raw) < 3_000_000
    before = peak_kib()
    for source in (raw, bombs[bomb]):
        with pytest.raises(DataError, match=rf"{size}, over the 25,000,000") as caught:
            fit_image(source, 28, 1, name=bomb)
        assert "\n" not in str(caught.value)
    assert peak_kib() - before < GROWTH_KIB


# Garbage from a fixed seed, and ids by name: pytest-xdist's workers must collect the same test ids.
@pytest.mark.parametrize("raw, says", [(b"", "is empty"),
                                       (np.random.default_rng(0).bytes(4096), "is not a readable image"),
                                       (png_bomb(64, 64)[:60], "truncated or corrupt")],
                         ids=["empty", "random", "truncated"])
def test_garbage_is_one_line(raw, says):
    with pytest.raises(DataError, match=says):
        pictures.open_picture(raw, "it.png")


class CanvasResult:
    """streamlit-drawable-canvas 0.13's CanvasResult.image_bytes, as it is (its module imports only inside a running
    Streamlit): the data URL split at ";base64," and decoded."""

    def __init__(self, url: str):
        self.url = url

    @property
    def image_bytes(self) -> bytes:
        _, encoded = self.url.split(";base64,", 1)
        return base64.b64decode(encoded)


def test_the_canvas_refuses_a_bomb_and_malformed_data_urls(bombs):
    bomb = data_url(bombs["rgba12k.png"].read_bytes())
    before = peak_kib()
    for url, says in ((bomb, "the drawing is 12000x12000 pixels, over the 960 a side"),
                      ("data:image/png,not-base64", "damaged data URL"),
                      ("data:image/png;base64,abc", "damaged data URL"),
                      ("data:image/png;base64,!!!not*base64", "damaged data URL"),
                      (data_url(os.urandom(2048)), "not a readable image")):
        with pytest.raises(DataError, match=says):
            canvas.received_drawing(CanvasResult(url), 240)
    assert peak_kib() - before < GROWTH_KIB


# --- the CLI -------------------------------------------------------------------------------------------------------



@pytest.mark.parametrize("command, model", [("translate", "pix2pix_edges_digits"), ("project", "mnist_dcgan")])
def test_cli_translate_and_project_refuse_a_bomb_in_one_line(bombs, tmp_path, command, model):
    shipped = runs.default_pretrained_dir() / model
    if not shipped.is_dir():
        pytest.skip(f"the shipped model {model} is absent")
    done, peak = peak_run([command, str(shipped), str(bombs["rgba12k.png"]), "--out", str(tmp_path / "x.png")])
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-800:]
    assert len(errors) == 1 and "12000x12000 pixels" in errors[0]
    assert peak < 1500, f"peak RSS {peak:.0f} MB"  # TensorFlow's import alone is ~700 MB here
    assert not (tmp_path / "x.png").exists()


# --- the pages -----------------------------------------------------------------------------------------------------



def one_error(at) -> str:
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    return error


@pytest.mark.slow
def test_translate_and_projection_uploads_refuse_a_bomb(shipped_models, bombs):
    from apptest_helpers import open_page

    raw = bombs["rgba12k.png"].read_bytes()
    at = open_page("translate")
    at.radio(key="translate_source").set_value("Upload an image").run()
    before = peak_kib()
    at.get("file_uploader")[0].upload("bomb.png", raw, "image/png").run()
    assert "is 12000x12000 pixels, over" in one_error(at) and not at.get("image")
    at = open_page("latent")
    at.get("file_uploader")[-1].upload("bomb.png", raw, "image/png").run()
    assert "bomb.png is 12000x12000 pixels" in one_error(at)
    assert peak_kib() - before < GROWTH_KIB


@pytest.mark.slow
@pytest.mark.parametrize("page, source, key", [("translate", "translate_source", "translate_canvas_AtoB_32"),
                                               ("latent", "project_source", "project_canvas_28")])
def test_a_hostile_canvas_message_is_one_line(shipped_models, bombs, page, source, key):
    from apptest_helpers import open_page
    from test_canvas import require_canvas

    require_canvas()
    at = open_page(page)
    at.radio(key=source).set_value("Draw").run()
    before = peak_kib()
    for url, says in ((data_url(bombs["rgba12k.png"].read_bytes()), "the drawing is 12000x12000 pixels"),
                      ("data:image/png,garbage", "damaged data URL"),
                      (data_url(b"garbage, not a PNG"), "not a readable image")):
        at.session_state[key] = {"drawing": {"raw": {"objects": [{"type": "Path"}]}, "data": url}}
        at.run()
        assert says in one_error(at)
    assert peak_kib() - before < GROWTH_KIB
