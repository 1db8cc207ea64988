"""The latent page's "Project an image" section: a real image in, the closest z out, then on into the editor.

The page owns z; this section only hands a found z over through ``on_use(z, label, tag, cls)`` (the page's
``set_z``: z, a label for captions, a tag for file names and, for a class-conditional generator, the class the
reconstruction was found in), so it needs nothing from the page's module.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer_ui import canvas, widgets
from gan_core import data
from gan_core import latent_space
from gan_core.errors import GanError
from gan_core.explore import picture_projection
from gan_core.runs import sanitize_name

RESULT_KEY = "project_result"
SOURCES = ("Upload an image", "Test set", "Draw")
DRAW_PEN = 2.5  # model pixels: about an MNIST digit's stroke
UPLOAD_TYPES = sorted(ext.lstrip(".") for ext in data.IMAGE_EXTENSIONS)

OnUse = Callable[[np.ndarray, str, str, "int | None"], None]  # (z, label, file-name tag, class)


@st.cache_resource(max_entries=2, show_spinner="Reading the test split…")
def _cached_test_split(dataset: str, path: str, _mtime_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """The labelled test split, read once per file version (10,000 digits, 8 MB), not per rerun."""
    return data.load_labelled(dataset, "test", path)


def test_split(generator) -> tuple[str, np.ndarray, np.ndarray] | None:
    """(dataset, images, labels) of the generator's real test split, or None when it is not on this machine."""
    found = picture_projection.test_split_source(generator)
    if found is None:
        return None
    dataset, where = found
    try:
        images, labels = _cached_test_split(dataset, str(where), where.stat().st_mtime_ns)
    except (GanError, OSError):
        return None
    return dataset, images, labels


def loss_figure(found: picture_projection.Projection, height: int = 260) -> go.Figure:
    """The objective of every restart, step by step (log scale); the winner drawn bold."""
    fig = go.Figure()
    steps = np.arange(1, len(found.history) + 1)
    for r in range(found.restarts):
        best = r == found.best
        fig.add_trace(go.Scatter(x=steps, y=found.history[:, r], mode="lines", name=f"restart {r + 1}"
                                 + (" (best)" if best else ""), line=dict(width=2.5 if best else 1)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), title="Loss per restart",
                      xaxis_title="step", yaxis_type="log", legend=dict(orientation="h", y=-0.3))
    return fig


def _pick_target(generator, split) -> tuple[np.ndarray | None, str, str]:
    """The target image at the generator's size (None until there is one), its label and file-name tag."""
    shape = generator.image_shape
    sources = [s for s in SOURCES if (s != SOURCES[1] or split is not None)
               and (s != SOURCES[2] or shape[-1] == 1)]  # a drawing is white on black: for gray generators
    source = st.radio("Image", sources, horizontal=True, key="project_source",
                      help=None if split is not None else "The real test split is not on this machine "
                      f"(set {data.DATA_ENV} to the folder that holds it), so it is not offered")
    if source == SOURCES[2]:
        dataset = picture_projection.generator_dataset(generator)
        drawing = canvas.draw("project_canvas", shape[0], pen=DRAW_PEN,
                              what="a digit" if dataset == "mnist" else "an image",
                              box=canvas.digit_box(dataset, shape[0]))
        if drawing is None:
            return None, "", ""
        return picture_projection.prepare_target(drawing, generator), "projection of your drawing", "projected-drawing"
    if source == SOURCES[1]:
        dataset, images, labels = split
        index = int(st.number_input(f"Test image (0 … {len(images) - 1})", 0, len(images) - 1, 0,
                                    key="project_index", width=220))
        names, label = data.CLASS_NAMES.get(dataset, []), int(labels[index])
        name = names[label] if label < len(names) else str(label)
        return (picture_projection.prepare_target(images[index], generator),
                f"projection of test image {index} ({name})", f"projected-test{index}")
    upload = st.file_uploader("Image file", type=UPLOAD_TYPES, key="project_upload",
                              help=f"Centre-cropped to a square and resized to {shape[0]}x{shape[1]}, as training "
                                   "images are")
    invert = False
    if shape[-1] == 1:
        invert = st.checkbox("Invert (dark strokes on light paper)", key="project_invert",
                             help="MNIST-like digits are light on a dark background")
    if upload is None:
        st.caption("Upload a PNG or JPEG to project it.")
        return None, "", ""
    target = picture_projection.prepare_target(upload.getvalue(), generator, invert=invert, name=upload.name)
    if shape[-1] == 1 and not invert and picture_projection.generator_dataset(generator) in data.DIGIT_DATASETS \
            and _border_mean(target) > 127:
        st.caption(":material/lightbulb: This image is light around its edges; the generator's images are light "
                   "on dark: tick **Invert**.")
    stem = sanitize_name(Path(upload.name).stem, max_length=40)
    return target, f"projection of {upload.name}", f"projected-{stem}"


def _border_mean(image: np.ndarray) -> float:
    edges = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return float(edges.mean())


@st.fragment
def section(choice: widgets.GeneratorChoice, on_use: OnUse) -> None:
    """Pick or upload an image, project it on the button, show target | reconstruction | error; "Edit from here"
    passes the z to ``on_use`` and reruns the page so the editor starts from it. Reruns only on its own widgets."""
    generator = choice.generator
    st.subheader("Project an image")
    with widgets.user_errors():
        features = picture_projection.resolve_evaluator(generator) is not None
        st.caption("Finds the z whose image is closest to a real one: gradient descent on z from a few starting "
                   f"points at once, matching pixels{' and the evaluator’s features' if features else ''}. Then "
                   "edit it like any other z.")
        picker, preview = st.columns([3, 1])
        target, label, tag = None, "", ""
        with picker, widgets.user_errors():  # a bad upload says why here; the rest stays, Project disabled
            target, label, tag = _pick_target(generator, test_split(generator))
        if target is not None:
            preview.image(widgets.upscaled_png(target, max(1, widgets.display_scale(target.shape[0]) // 2)),
                          caption="to project", output_format="PNG")
        settings = st.columns([1, 1, 2], vertical_alignment="bottom")
        side = generator.image_shape[0]
        steps = int(settings[0].number_input("Steps", 10, picture_projection.MAX_STEPS,
                                             picture_projection.default_steps(generator), step=50,
                                             key=f"project_steps_{side}",
                                             help="Adam steps on z; more is closer and slower"))
        restarts = int(settings[1].number_input("Restarts", 1, 16, picture_projection.DEFAULT_RESTARTS,
                                                key="project_restarts",
                                                help="Starting points optimised together; the best one wins"))
        if settings[2].button("Project", icon=":material/center_focus_strong:", type="primary",
                              disabled=target is None):
            st.session_state.pop(RESULT_KEY, None)
            bar = st.progress(0.0, text="Projecting…")
            found = picture_projection.project(generator, target, steps=steps, restarts=restarts,
                                    progress=lambda done, total: bar.progress(done / total,
                                                                              text=f"step {done}/{total}"))
            bar.empty()
            st.session_state[RESULT_KEY] = {"generator": choice.name, "found": found, "label": label, "tag": tag}
    result = st.session_state.get(RESULT_KEY)
    if not result or result["generator"] != choice.name:
        return
    found = result["found"]
    scale = widgets.display_scale(found.image.shape[0])
    images = st.columns(3)
    images[0].image(widgets.upscaled_png(found.target, scale), caption="target", output_format="PNG")
    images[1].image(widgets.upscaled_png(found.image, scale), caption="reconstruction", output_format="PNG")
    images[2].image(widgets.upscaled_png(found.error_map(), scale), output_format="PNG",
                    caption="|error| (black: exact)")
    numbers, chart = st.columns([1, 2])
    numbers.metric("Pixel error (MSE)", f"{found.pixel_mse:.4f}",
                   help="Mean squared difference of reconstruction and target, pixels in [0, 1]")
    norm = np.linalg.norm(found.z - latent_space.centre(generator.noise))
    as_class = f"as {generator.class_name(found.label)} · " if found.label is not None else ""
    restarts = f"{found.restarts} restart{'s' if found.restarts != 1 else ''}"
    numbers.caption(f"{as_class}RMSE {found.pixel_rmse:.3f} · best of {restarts} × {found.steps} "
                    f"steps in {found.seconds:.1f} s · ‖z‖ = {norm:.2f}")
    if numbers.button("Edit from here", icon=":material/tune:",
                      help="The found z becomes the editor's z: its sliders, truncation and interpolation start "
                           "from it"):
        on_use(found.z, result["label"], result["tag"], found.label)
        st.rerun()
    chart.plotly_chart(loss_figure(found), config={"displayModeBar": False})
