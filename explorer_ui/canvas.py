"""Draw your own input: a drawing canvas as one more source of a page's input picture.

The canvas is the `streamlit-drawable-canvas` component, an optional extra (`pip install "gan-explorer[canvas]"`);
this module is the only one that imports it. Without it, `draw` says how to install it and returns None, so the
rest of the page works. Tested with streamlit-drawable-canvas 0.13.0 on Streamlit 1.67.0: since 0.10 it is a
Components v2 element (in the page's DOM, no iframe) that sends its picture back on every mouse-up, so a page that
translates what `draw` returns follows the drawing stroke by stroke. Its module registers the component when
imported, which needs a running Streamlit (an app or AppTest): so it is imported here, on first use, never at the
top of a module that plain Python imports.

What comes back is what an uploaded picture would be after fitting: (side, side) uint8 gray, light strokes on
black (MNIST's digits and the Sobel edge maps Pix2Pix's "edges" pairing makes are both light on black), made by
compositing the canvas over black and averaging it down (area average), so a stroke's edges come out soft grey as
a real digit's do. The page passes it on as the picture, where an upload's bytes would go.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

import numpy as np
import streamlit as st
from PIL import Image

from explorer_ui import widgets
from gan_core.data.pairs import LUMA  # ITU-R BT.601, as the data loader's gray
from gan_core.errors import DataError, GanError
from gan_core.files import pictures

PACKAGE = "streamlit_drawable_canvas"  # the module the optional `canvas` extra installs
INSTALL = 'pip install "gan-explorer[canvas]"'
CANVAS_PX = 240  # the canvas is about this many CSS pixels wide: a whole multiple of the model's side
PEN_MIN, PEN_MAX, PEN_STEP = 0.5, 4.0, 0.25  # pen width, in pixels of the model's image
GUIDE_GREY = 70  # the guide frame's grey: visible on black, never part of the drawing
MNIST_DIGIT_BOX = 20  # MNIST's digits are scaled into the central 20x20 pixels of their 28x28
MAX_CANVAS_FACTOR = 4  # a drawing bigger than this many times the canvas's side (a high-DPI screen sends 2-3x) is
# refused: a 564 KB PNG of 12000x12000 sent as a drawing once took the server from 1.8 to 7.9 GB


def component() -> Callable[..., Any] | None:
    """`st_canvas`, or None where streamlit-drawable-canvas is not installed (looked up on each call, so installing
    it needs no restart of the app's imports, and a test can take it away)."""
    try:
        return importlib.import_module(PACKAGE).st_canvas
    except ImportError:
        return None


def canvas_scale(side: int, canvas_px: int = CANVAS_PX) -> int:
    """Canvas pixels per model pixel: a whole number, so each model pixel averages the same square of strokes."""
    return max(1, round(canvas_px / side))


def drawing_to_image(rgba: np.ndarray | None, side: int) -> np.ndarray | None:
    """The canvas's picture (H, W, 4) uint8 RGBA -> (side, side) uint8 gray in [0, 255], light strokes on black;
    None where there is no picture yet or nothing is drawn on it.

    Transparent canvas pixels are black (the canvas is composited over black: where a background image shows, the
    component sends it as transparent), colours become their luminance (ITU-R BT.601, as the data loader's), and
    the canvas is averaged down to side x side by area (a pixel half covered by a stroke is mid grey)."""
    if rgba is None:
        return None
    x = np.asarray(rgba)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3 or x.shape[-1] not in (1, 2, 3, 4) or min(x.shape[:2]) < 1:
        raise ValueError(f"a canvas picture is (H, W, 4) RGBA; got shape {x.shape}")
    x = x.astype(np.float32)
    colour, alpha = (x[..., :-1], x[..., -1:] / 255.0) if x.shape[-1] in (2, 4) else (x, 1.0)
    gray = (colour @ LUMA)[..., None] if colour.shape[-1] == 3 else colour
    gray = (gray * alpha)[..., 0]  # over black
    if not gray.any():
        return None
    image = Image.fromarray(np.clip(gray, 0, 255).astype(np.float32))  # mode F
    small = np.asarray(image.resize((side, side), Image.Resampling.BOX), np.float32)
    return np.clip(np.round(small), 0, 255).astype(np.uint8)


def received_drawing(result: Any, canvas_side: int) -> np.ndarray | None:
    """The picture the canvas sent (a PNG data URL), decoded through the one guarded decoder: a message whose
    picture is far bigger than the canvas (MAX_CANVAS_FACTOR times), not a picture, or not a data URL at all is
    refused with a DataError before it is decoded. None while nothing was sent."""
    try:
        raw = result.image_bytes  # the component's own split of "data:image/png;base64,..." and base64 decoding
    except ValueError:  # binascii.Error is one: no ";base64," in it, or damaged base64
        raise DataError("the drawing came as a damaged data URL (not a base64 PNG); draw it again") from None
    if raw is None:
        return None
    with pictures.open_picture(raw, "the drawing", max_side=canvas_side * MAX_CANVAS_FACTOR) as image:
        return np.asarray(image if image.mode in ("L", "LA", "RGB", "RGBA") else image.convert("RGBA"))


def guide(side: int, scale: int, box: int | None) -> Image.Image | None:
    """A black background with a dim frame round the central `box` x `box` model pixels (where the training
    images' digits sit), shown behind the strokes and never sent back with them; None for no frame."""
    if not box or box >= side:
        return None
    size = side * scale
    picture = np.zeros((size, size, 3), np.uint8)
    lo, hi = (side - box) // 2 * scale, ((side - box) // 2 + box) * scale - 1
    for edge in (lo, hi):
        picture[edge, lo:hi + 1] = picture[lo:hi + 1, edge] = GUIDE_GREY
    return Image.fromarray(picture)


def digit_box(dataset: str | None, side: int, outline: bool = False) -> int | None:
    """The side of the square MNIST's digits sit in at `side` x `side` (None for other data): the central 20x20
    of 28x28, padded as it is to 32x32, else scaled with the image; `outline` (an edge map) adds a pixel round it."""
    if dataset != "mnist":
        return None
    box = MNIST_DIGIT_BOX if side == 32 else round(MNIST_DIGIT_BOX * side / 28)
    return min(side, box + 2 * int(outline))


def draw(key: str, side: int, *, pen: float, what: str, box: int | None = None, hint: str = ""
         ) -> np.ndarray | None:
    """A pen-width slider and a black canvas, white pen, for a `side` x `side` model; the drawing as
    :func:`drawing_to_image` makes it (None until something is drawn, or where the component is not installed:
    then a note says how to install it). `what` names what to draw ("the edge map") in the captions, as Markdown (a
    name read from disk goes in escaped); `box`, where the training images' content sits (a dim frame on the
    canvas); `hint`, a line on how to draw it."""
    st_canvas = component()
    if st_canvas is None:
        st.info(f"Drawing {what} needs the optional canvas component (streamlit-drawable-canvas): `{INSTALL}`, "
                "then reload the page. Everything else here works without it.", icon=":material/draw:")
        return None
    scale = canvas_scale(side)
    width = float(st.slider("Pen width", PEN_MIN, PEN_MAX, float(pen), PEN_STEP, key=f"{key}_pen", format="%.2f px",
                            width=max(side * scale, 200),  # as wide as the canvas below it
                            help=f"In pixels of the model's {side}x{side} image: the canvas is {scale} times bigger"))
    frame = guide(side, scale, box)
    result = st_canvas(stroke_width=max(1, round(width * scale)), stroke_color="#ffffff",
                       background_color="#000000", background_image=frame, width=side * scale,
                       height=side * scale, drawing_mode="freedraw", update_streamlit=True, return_image_data=True,
                       key=f"{key}_{side}")
    try:
        image = drawing_to_image(received_drawing(result, side * scale), side)
    except GanError as exc:  # a damaged or hostile message: one line, and the page goes on without a drawing
        widgets.show_error(exc)
        return None
    st.caption(f"Draw {what} with the mouse: white on black"
               + (", inside the frame, where the training images' digits are" if frame is not None else "")
               + ". The canvas's toolbar (above it) undoes, redoes or clears." + (f" {hint}" if hint else "")
               + (" Nothing drawn yet." if image is None else ""))
    return image
