"""Draw your own input: explorer_ui.canvas (the optional streamlit-drawable-canvas component) on the Translate page
and in the Latent page's "Project an image".

AppTest cannot move a mouse over a custom component, so the conversion (canvas RGBA -> the model's picture) is
tested on synthetic RGBA arrays, and the pages get a drawing the way the component delivers one: its value in the
session state, a PNG data URL, as the browser sends it on mouse-up. tests/test_browser_canvas.py draws with a real
mouse.
"""
import base64
import importlib.util
import io
import json
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from explorer_ui import canvas
from gan_core import runs, tasks
from gan_core.inference import translate_image

HAS_CANVAS = importlib.util.find_spec(canvas.PACKAGE) is not None


def require_canvas() -> None:
    """The component comes with the `canvas` extra: skip without it, except under CI (requirements-dev.txt installs
    .[export,canvas]), where its absence fails rather than hides the tests."""
    if HAS_CANVAS:
        return
    from conftest import under_ci

    message = f"streamlit-drawable-canvas is not installed ({canvas.INSTALL})"
    if under_ci():
        pytest.fail(f"{message}; under CI the canvas extra is installed", pytrace=False)
    pytest.skip(message)


def stroke_rgba(size: int, points, width: int, *, background=(0, 0, 0, 0), colour=(255, 255, 255, 255)
                ) -> np.ndarray:
    """What the canvas sends: (size, size, 4) RGBA, a polyline drawn with the pen on the background."""
    picture = Image.new("RGBA", (size, size), background)
    ImageDraw.Draw(picture).line(points, fill=colour, width=width, joint="curve")
    return np.asarray(picture)


def without_the_component(monkeypatch) -> None:
    """As if streamlit-drawable-canvas were not installed: importing it raises ImportError."""
    monkeypatch.setitem(sys.modules, canvas.PACKAGE, None)


# --- the conversion -----------------------------------------------------------------------------------------------

def test_a_white_stroke_on_a_transparent_canvas_becomes_light_on_black_at_the_models_size():
    rgba = np.zeros((256, 256, 4), np.uint8)
    rgba[64:72, :, :] = 255  # one row of model pixels (8 canvas pixels each), fully covered
    rgba[128:132, :, :] = 255  # half of another row
    image = canvas.drawing_to_image(rgba, 32)
    assert image.shape == (32, 32) and image.dtype == np.uint8
    assert (image[8] == 255).all() and (image[16] == 128).all()  # area average: half covered is mid grey
    assert image.sum() == 32 * 255 + 32 * 128  # and black everywhere else


def test_an_opaque_black_background_and_colours_read_as_their_luminance():
    black = stroke_rgba(280, [(40, 40), (240, 240)], 20, background=(0, 0, 0, 255))
    transparent = stroke_rgba(280, [(40, 40), (240, 240)], 20)
    assert np.array_equal(canvas.drawing_to_image(black, 28), canvas.drawing_to_image(transparent, 28))
    red = np.zeros((28, 28, 4), np.uint8)
    red[..., 0], red[..., 3] = 255, 255
    assert (canvas.drawing_to_image(red, 28) == round(0.299 * 255)).all()  # BT.601, as the data loader's gray
    half_transparent = np.full((28, 28, 4), 255, np.uint8)
    half_transparent[..., 3] = 51
    assert (canvas.drawing_to_image(half_transparent, 28) == 51).all()  # composited over black


def test_nothing_drawn_is_none_and_a_wrong_shape_is_an_error():
    assert canvas.drawing_to_image(None, 32) is None
    assert canvas.drawing_to_image(np.zeros((256, 256, 4), np.uint8), 32) is None  # cleared
    assert canvas.drawing_to_image(np.zeros((256, 256, 4), np.uint8) + [255, 255, 255, 0], 32) is None
    with pytest.raises(ValueError, match="RGBA"):
        canvas.drawing_to_image(np.zeros((4, 4, 4, 4), np.uint8), 32)


def test_any_canvas_size_is_averaged_to_the_models_side():
    """A browser may send the canvas at its device pixel ratio (2x on a retina screen): the same drawing."""
    one = stroke_rgba(252, [(30, 120), (220, 120)], 27)
    two = np.asarray(Image.fromarray(one).resize((504, 504), Image.Resampling.NEAREST))
    assert np.abs(canvas.drawing_to_image(one, 28).astype(int) - canvas.drawing_to_image(two, 28)).max() <= 1


def test_the_canvas_is_a_whole_multiple_of_the_model_and_frames_mnists_digit_box():
    assert canvas.canvas_scale(28) == 9 and canvas.canvas_scale(32) == 8 and canvas.canvas_scale(512) == 1
    assert canvas.digit_box("mnist", 28) == 20 and canvas.digit_box("mnist", 32) == 20  # 32: MNIST padded by 2
    assert canvas.digit_box("mnist", 32, outline=True) == 22 and canvas.digit_box("mnist", 64) == 46
    assert canvas.digit_box("fashion_mnist", 28) is None and canvas.digit_box(None, 28) is None
    frame = np.asarray(canvas.guide(28, 9, 20))
    assert frame.shape == (252, 252, 3) and set(np.unique(frame)) == {0, canvas.GUIDE_GREY}
    assert frame[36, 36:216].all() and frame[215, 36:216].all() and not frame[37:215, 37:215].any()
    assert canvas.guide(28, 9, None) is None and canvas.guide(28, 9, 28) is None


def test_a_drawn_edge_map_translates_like_the_held_out_ones():
    """The shipped Pix2Pix model on the drawing of a 7's outline: a 7 comes out, light on black, near where it was
    drawn; a page does exactly this with what the canvas returns."""
    shipped = runs.RunDir(runs.default_pretrained_dir() / "pix2pix_edges_digits")
    if not (shipped.path / "generators").is_dir():
        pytest.skip(f"the shipped model {shipped.path} is absent")
    translators = tasks.load(shipped)
    rgba = np.zeros((256, 256, 4), np.uint8)
    for offset in (-10, 10):  # both sides of each stroke, as an edge map has them
        rgba = np.maximum(rgba, stroke_rgba(256, [(80, 70 + offset), (180 + offset, 70 + offset),
                                                  (110 + offset, 200)], 8))
    drawing = canvas.drawing_to_image(rgba, translators["AtoB"].image_size)
    done = translate_image(translators, drawing, as_input=True)
    assert [c for c, _ in done.columns()] == ["edge map", "image"]
    assert np.array_equal(np.round(done.input[..., 0] * 255), drawing)  # the drawing goes in as it is
    strokes = done.output[..., 0] > 0.5
    assert 20 < strokes.sum() < 300, strokes.sum()  # a digit's worth of light pixels, not blank, not all light
    assert strokes[6:26, 8:26].sum() > 0.9 * strokes.sum()  # where the 7 was drawn


def test_without_the_package_the_component_is_none(monkeypatch):
    without_the_component(monkeypatch)
    assert canvas.component() is None


# --- the pages ----------------------------------------------------------------------------------------------------

def send_drawing(at, key: str, rgba: np.ndarray):
    """What the component does on mouse-up: its value becomes {"drawing": {"raw": Fabric's JSON, "data": the
    canvas as a PNG data URL}} (streamlit-drawable-canvas 0.13's st_canvas reads it back so)."""
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    at.session_state[key] = {"drawing": {"raw": {"objects": [{"type": "Path"}]}, "data": url}}
    return at.run()


def canvases(at) -> list[dict]:
    """The canvases on the page, each as the arguments it was drawn with."""
    return [json.loads(c.proto.json) for c in at.get("bidi_component")]




SEVEN = [(80, 70), (180, 70), (110, 200)]  # on a 256-pixel canvas (32x32 model)


@pytest.mark.slow
def test_translate_draw_shows_the_canvas_and_translates_each_drawing(shipped_models):
    from apptest_helpers import assert_clean, image_urls, open_page, texts

    require_canvas()
    at = open_page("translate")
    assert at.radio(key="translate_source").options == ["Held-out example", "Upload an image", "Draw"]
    at.radio(key="translate_source").set_value("Draw").run()
    assert_clean(at)
    (drawn,) = canvases(at)
    assert (drawn["canvasWidth"], drawn["canvasHeight"], drawn["strokeColor"]) == (256, 256, "#ffffff")
    assert drawn["drawingMode"] == "freedraw" and drawn["realtimeUpdateStreamlit"] and drawn["returnImageData"]
    assert drawn["backgroundImageURL"].startswith("data:image/png")  # the frame round the digit box
    assert drawn["strokeWidth"] == 12  # the default pen: 1.5 model pixels, the canvas 8x the model
    assert "Draw the edge map with the mouse" in texts(at) and "Nothing drawn yet" in texts(at)
    assert not at.get("image")  # nothing to translate yet
    assert not at.checkbox  # no Invert, no "already is the edge map": a drawing is the edge map

    pen = at.slider(key="translate_canvas_AtoB_pen")
    pen.set_value(3.0).run()
    assert canvases(at)[0]["strokeWidth"] == 24

    first = stroke_rgba(256, SEVEN, 24)
    send_drawing(at, "translate_canvas_AtoB_32", first)
    assert_clean(at)
    assert [c for image in at.get("image") for c in image.captions] == ["edge map", "image"]
    assert "Nothing drawn yet" not in texts(at)
    shown = image_urls(at)
    at.download_button[0].click().run()  # the row of pictures, named after the drawing
    assert any(p.name.endswith("_AtoB_drawing.png") for p in (runs.default_runs_dir() / "_exports").rglob("*.png"))

    second = np.maximum(first, stroke_rgba(256, [(60, 130), (200, 130)], 24))  # one more stroke: a crossed 7
    send_drawing(at, "translate_canvas_AtoB_32", second)
    assert_clean(at)
    again = image_urls(at)
    assert again[0] != shown[0] and again[1] != shown[1], "the input and the translation follow the drawing"


@pytest.mark.slow
def test_translate_without_the_canvas_says_how_to_install_it_and_the_rest_works(shipped_models, monkeypatch):
    from apptest_helpers import assert_clean, open_page, texts

    without_the_component(monkeypatch)
    at = open_page("translate")
    assert [c for image in at.get("image") for c in image.captions] == ["edge map", "image", "original"]
    at.radio(key="translate_source").set_value("Draw").run()
    assert_clean(at)
    assert any('pip install "gan-explorer[canvas]"' in i.value for i in at.info)
    assert not at.get("bidi_component") and not at.slider and not at.get("image")
    at.radio(key="translate_source").set_value("Held-out example").run()
    assert_clean(at)
    assert [c for image in at.get("image") for c in image.captions] == ["edge map", "image", "original"]
    assert "L1 to the original" in texts(at)


@pytest.mark.slow
def test_latent_projection_of_a_drawing_then_edit_from_it(shipped_models):
    from apptest_helpers import assert_clean, image_urls, open_page, texts

    require_canvas()
    at = open_page("latent")
    assert "Draw" in at.radio(key="project_source").options
    at.radio(key="project_source").set_value("Draw").run()
    assert_clean(at)
    (drawn,) = canvases(at)
    assert (drawn["canvasWidth"], drawn["strokeWidth"]) == (252, 22)  # 28x28 at 9x; the pen: 2.5 model pixels
    assert "Draw a digit with the mouse" in texts(at) and "inside the frame" in texts(at)
    assert next(b for b in at.button if b.label == "Project").disabled  # nothing drawn yet
    at.slider(key="project_canvas_pen").set_value(2.0).run()
    assert canvases(at)[0]["strokeWidth"] == 18

    one = stroke_rgba(252, [(130, 40), (122, 212)], 22)  # a 1, inside the 20x20 frame
    send_drawing(at, "project_canvas_28", one)
    assert_clean(at)
    preview = next(i for i in at.get("image") if "to project" in i.captions)
    assert preview is not None
    project = next(b for b in at.button if b.label == "Project")
    assert not project.disabled
    at.number_input(key="project_steps_28").set_value(30).run()
    at.number_input(key="project_restarts").set_value(2).run()
    editor_image = image_urls(at)[0]
    next(b for b in at.button if b.label == "Project").click().run()
    assert_clean(at)
    result = at.session_state["project_result"]
    found = result["found"]
    assert result["label"] == "projection of your drawing"
    assert np.array_equal(found.target[..., 0], canvas.drawing_to_image(one, 28))  # the drawing is the target
    assert float(at.metric[0].value) < float(np.mean((found.target / 255.0) ** 2))  # closer than a black image

    next(b for b in at.button if b.label == "Edit from here").click().run()
    assert_clean(at)
    assert np.array_equal(at.session_state["latent_z"], found.z)
    assert image_urls(at)[0] != editor_image and "projection of your drawing" in texts(at)


@pytest.mark.slow
def test_latent_projection_without_the_canvas_says_how_to_install_it(shipped_models, monkeypatch):
    from apptest_helpers import assert_clean, open_page

    without_the_component(monkeypatch)
    at = open_page("latent")
    at.radio(key="project_source").set_value("Draw").run()
    assert_clean(at)
    assert any('pip install "gan-explorer[canvas]"' in i.value for i in at.info)
    assert next(b for b in at.button if b.label == "Project").disabled
    assert [s for s in at.slider if s.key == "project_canvas_pen"] == []
    at.radio(key="project_source").set_value("Upload an image").run()  # the rest of the section still works
    assert_clean(at)
    assert at.get("file_uploader")
