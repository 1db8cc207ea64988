"""Latent space: edit one z dimension by dimension or along its principal directions and watch the image follow;
truncate it; walk from one z to another; add and subtract samples."""
import math
from pathlib import Path

import numpy as np
import streamlit as st

from explorer_ui import arithmetic, interpolation, projection, use_app_navigation, widgets
from explorer_ui.components import latent_morph
from explorer_ui.latent_state import CLASS_WIDGET_KEY, MODE_KEY, PSI_KEY, SEED_KEY, LatentState
from gan_core import latent_space
from gan_core.errors import GanError
from gan_core.explore import directions
from gan_core.inference import Generator

use_app_navigation()  # before anything renders: see its docstring

DIMS_PER_PAGE = 10
PC_RANGE, PC_STEP = 3.0, 0.05  # principal-direction sliders, in standard deviations of the noise
SLIDER_MODES = ("z dimensions", "Principal directions")


@st.cache_resource(max_entries=16, show_spinner="Finding the principal directions (once per generator)…")
def _cached_directions(source: str, mtime_ns: int, noise: str, _generator: Generator) -> directions.Directions:
    """Computed (seconds) or read from beside the generator file once per file version, not per slider move."""
    return directions.load_or_compute(_generator)


def generator_directions(generator: Generator) -> directions.Directions:
    path = Path(generator.source) if generator.source else None
    if path is None or not path.is_file():
        return _cached_directions(f"id{id(generator)}", 0, generator.noise, generator)
    return _cached_directions(str(path), path.stat().st_mtime_ns, generator.noise, generator)


def class_picker(generator: Generator, state: LatentState) -> None:
    """Which digit (class) to draw: the same z keeps its style (slant, thickness) across classes. The radio has
    its own key and copies its value into the state's class, which a projection may also set."""
    st.session_state[CLASS_WIDGET_KEY] = state.current_class(generator)
    st.radio("Digit" if generator.num_classes == 10 and generator.class_name(9) == "9" else "Class",
             list(range(generator.num_classes)), key=CLASS_WIDGET_KEY, horizontal=True,
             format_func=generator.class_name, on_change=lambda: state.pick_class(st.session_state[CLASS_WIDGET_KEY]),
             help="This generator is class-conditional: it draws the class you pick. The same z keeps its style "
                  "(slant, stroke) across classes")


def slider_range(noise: str) -> tuple[float, float, float]:
    """(low, high, step): about three standard deviations for normal noise, the support for uniform."""
    return (0.0, 1.0, 0.01) if noise == "uniform" else (-3.0, 3.0, 0.05)


def dimension_moved(state: LatentState, i: int, key: str) -> None:
    """A z[i] slider's on_change: before the editor reruns, so the image it draws first already shows the move."""
    state.z[i] = st.session_state[key]
    state.dimensions_moved()


def dimension_sliders(generator: Generator, state: LatentState) -> None:
    """One slider per z dimension, a page of DIMS_PER_PAGE at a time; a move edits z in place (on_change)."""
    z, dim = state.z, generator.noise_dim
    low, high, step = slider_range(generator.noise)
    pages = math.ceil(dim / DIMS_PER_PAGE)
    page = 0
    if pages > 1:
        page = st.selectbox("Dimensions", range(pages), key="latent_page", format_func=lambda p: (
            f"z[{p * DIMS_PER_PAGE}] … z[{min(dim, (p + 1) * DIMS_PER_PAGE) - 1}]"))
    shown_dims = range(page * DIMS_PER_PAGE, min(dim, (page + 1) * DIMS_PER_PAGE))
    columns, per_column = st.columns(2), math.ceil(len(shown_dims) / 2)
    for j, i in enumerate(shown_dims):
        key = f"z{state.z_version}_{i}"
        shown = float(np.clip(z[i], low, high))  # a value beyond the range stays exact until it is moved
        columns[j // per_column].slider(f"z[{i}]", low, high, shown, step, format="%.2f", key=key,
                                        on_change=dimension_moved, args=(state, i, key))


def direction_moved(state: LatentState, found: directions.Directions, centre: float, i: int, key: str) -> None:
    """A PC slider's on_change: z moves along direction i only (they are orthonormal), so the others stay."""
    state.z[:] = found.move(state.z, i, st.session_state[key] - found.coordinates(state.z, centre)[i])
    state.directions_moved()


def direction_sliders(generator: Generator, state: LatentState) -> None:
    """One slider per principal direction: where z sits along it, in standard deviations of the noise."""
    found = generator_directions(generator)
    centre = latent_space.centre(generator.noise)
    coords = found.coordinates(state.z, centre)
    columns, per_column = st.columns(2), math.ceil(found.k / 2)
    for i in range(found.k):
        key = f"pc{state.pc_version}_{i}"
        shown = round(float(np.clip(round(coords[i] / PC_STEP) * PC_STEP, -PC_RANGE, PC_RANGE)), 2)
        columns[i // per_column].slider(
            f"PC{i + 1} · {found.explained[i]:.1%}", -PC_RANGE, PC_RANGE, shown, PC_STEP, format="%.2f", key=key,
            on_change=direction_moved, args=(state, found, centre, i, key),
            help=f"Moves z along principal direction {i + 1} of the generator's first hidden layer, in standard "
                 f"deviations of the noise; {found.explained[i]:.1%} is its share of that layer's variance.")
    st.caption(f"The top {found.k} directions explain {found.explained.sum():.0%} of the variance of "
               f"{found.layer} over {found.n} samples (GANSpace: PCA of the layer, regressed back onto z).")


@st.fragment
def z_editor(generator: Generator, state: LatentState) -> None:
    """Sliders and image in one fragment: moving a slider reruns only this. The image is drawn first (the
    sliders' on_change already moved z), so it reaches the browser before the twenty-odd slider messages, and
    inline (a data: URL), so the browser need not fetch it from this process while it still draws the sliders."""
    image_column, slider_column = st.columns([1, 2], gap="large")
    with image_column:
        z, psi, cls = state.z, state.psi, state.current_class(generator)
        image = state.images(generator, latent_space.truncate(z, psi, generator.noise)[None])[0]
        label, _, edited = state.origin()
        label = widgets.md_text(label)  # e.g. "projection of " an uploaded file's name
        if cls is not None:
            label = f"{generator.class_name(cls)} · {label}"
        st.image(widgets.png_data_url(image, widgets.display_scale(image.shape[0])), alt="Generated image",
                 caption=f"{label}{' (edited)' if edited else ''} · ψ = {psi:.2f} · "
                         f"‖z‖ = {np.linalg.norm(z - latent_space.centre(generator.noise)):.2f}")
        st.slider("Truncation ψ", 0.0, latent_space.MAX_PSI, 1.0, 0.05, key=PSI_KEY,
                  help="Pulls z towards the noise's centre before drawing: 1 leaves it alone, smaller values give "
                       "more typical, cleaner images, 0 the generator's mean image")
    with slider_column:
        mode = st.radio("Sliders", SLIDER_MODES, key=MODE_KEY, horizontal=True,
                        help="Principal directions move many dimensions at once along the ways the generator's "
                             "first layer varies most: bigger, more meaningful changes per slider")
        if mode == SLIDER_MODES[0]:
            dimension_sliders(generator, state)
        else:
            with widgets.user_errors():
                direction_sliders(generator, state)


def browser_editor(generator: Generator, state: LatentState, morph: latent_morph.Editor) -> None:
    """The editor in the browser (see explorer_ui.components.latent_morph); its PC sliders need the directions."""
    found, error = None, ""
    if morph.conv is not None and morph.conv.model is not None and not morph.reason:
        try:
            found = generator_directions(generator)
        except GanError as exc:
            error = str(exc)
    morph.show(found, error, SLIDER_MODES, DIMS_PER_PAGE, slider_range(generator.noise), PC_RANGE, PC_STEP)


latent_morph.warm_up()
choice = widgets.page_generator("latent", "Latent space")

generator = choice.generator
dim, noise = generator.noise_dim, generator.noise
state = LatentState()
state.fit(generator)

with st.container(horizontal=True, vertical_alignment="bottom"):
    st.number_input("Seed", 0, latent_space.MAX_SEED, key=SEED_KEY, on_change=state.from_seed_box, args=(dim, noise),
                    width=220)
    st.button("Random", icon=":material/casino:", on_click=state.random, args=(dim, noise))
    st.button("Reset sliders", icon=":material/restart_alt:", on_click=state.from_seed_box, args=(dim, noise))
    st.caption(f"{widgets.md_text(choice.name)}: {dim}-dimensional {noise} z → "
               f"{'x'.join(map(str, generator.image_shape))} images"
               + (f" of {generator.num_classes} classes" if generator.conditional else ""))
morph = latent_morph.Editor(generator, state)
if generator.conditional and not morph.active:
    class_picker(generator, state)
browser_editor(generator, state, morph)
if not morph.active:
    z_editor(generator, state)
interpolation.section(choice, state, morph)
arithmetic.section(generator, state)
projection.section(choice, on_use=state.set_z)
