"""Latent space: edit one z dimension by dimension or along its principal directions and watch the image follow;
truncate it; walk from one z to another; add and subtract samples."""
import math
from pathlib import Path

import numpy as np
import streamlit as st

from explorer_ui import projection, use_app_navigation, widgets
from gan_core import latent, pictures
from gan_core.explore import directions, export
from gan_core.inference import Generator

use_app_navigation()  # before anything renders: see its docstring

DIMS_PER_PAGE = 10
STRIP_SCALE = 3
PC_RANGE, PC_STEP = 3.0, 0.05  # principal-direction sliders, in standard deviations of the noise
SLIDER_MODES = ("z dimensions", "Principal directions")
# z and where it came from are plain session state, so they outlive this page's widgets (which Streamlit
# forgets when another page is shown); SEED_KEY is the seed box's widget key.
Z_KEY, Z_SEED_KEY, NOISE_KEY, VERSION_KEY = "latent_z", "latent_z_seed", "latent_noise", "latent_z_version"
SEED_KEY = "latent_seed"
# The two slider families show the same z in two coordinate systems: a move in one gives the other new keys
# (a new version), so its sliders start from the moved z instead of writing back their stale values.
PC_VERSION_KEY = "latent_pc_version"
ORIGIN_KEY = "latent_z_origin"  # (label, file-name tag, z as it arrived): "edited" means z differs from it
PSI_KEY, MODE_KEY = "latent_psi", "latent_slider_mode"
CLASS_KEY = "latent_class"  # a class-conditional generator's class, set by the digit picker or a projection
CLASS_WIDGET_KEY = "latent_class_picker"


def bump(key: str) -> None:
    st.session_state[key] = st.session_state.get(key, 0) + 1


def set_z(z: np.ndarray, label: str, tag: str, cls: int | None = None) -> None:
    """z := a new vector from somewhere (a seed, arithmetic, a projection, with the class it was found in);
    both slider families start from it."""
    if cls is not None:
        st.session_state[CLASS_KEY] = int(cls)
    st.session_state[Z_KEY] = np.array(z, np.float32)
    st.session_state[ORIGIN_KEY] = (label, tag, st.session_state[Z_KEY].copy())
    bump(VERSION_KEY)
    bump(PC_VERSION_KEY)


def z_from_seed_box(dim: int, noise: str) -> None:
    """z := the seed box's vector."""
    seed = st.session_state[SEED_KEY]
    set_z(latent.z_from_seed(seed, dim, noise), f"seed {seed}", f"seed{seed}")
    st.session_state[Z_SEED_KEY], st.session_state[NOISE_KEY] = seed, noise


def random_z(dim: int, noise: str) -> None:
    st.session_state[SEED_KEY] = latent.random_seed()
    z_from_seed_box(dim, noise)


def z_origin() -> tuple[str, str, bool]:
    """Where the current z came from (a label and a file-name tag), and whether the sliders have moved it since."""
    label, tag, arrived = st.session_state[ORIGIN_KEY]
    return label, tag, not np.array_equal(st.session_state[Z_KEY], arrived)


@st.cache_resource(max_entries=16, show_spinner="Finding the principal directions (once per generator)…")
def _cached_directions(source: str, mtime_ns: int, noise: str, _generator: Generator) -> directions.Directions:
    """Computed (seconds) or read from beside the generator file once per file version, not per slider move."""
    return directions.load_or_compute(_generator)


def generator_directions(generator: Generator) -> directions.Directions:
    path = Path(generator.source) if generator.source else None
    if path is None or not path.is_file():
        return _cached_directions(f"id{id(generator)}", 0, generator.noise, generator)
    return _cached_directions(str(path), path.stat().st_mtime_ns, generator.noise, generator)


def current_class(generator: Generator) -> int | None:
    """The picked class of a class-conditional generator (None for others): every image on the page draws it."""
    if not generator.conditional:
        return None
    cls = st.session_state.get(CLASS_KEY)
    if not isinstance(cls, int) or not 0 <= cls < generator.num_classes:
        st.session_state[CLASS_KEY] = cls = 0
    return cls


def class_images(generator: Generator, z: np.ndarray) -> np.ndarray:
    """uint8 images of z (N, dim) in the picked class, if the generator takes one."""
    cls = current_class(generator)
    return generator.images_uint8(z, cls)


def class_picker(generator: Generator) -> None:
    """Which digit (class) to draw: the same z keeps its style (slant, thickness) across classes. The radio has
    its own key and copies its value into CLASS_KEY, which other code (a projection's class) may also set."""
    cls = current_class(generator)

    def picked() -> None:
        st.session_state[CLASS_KEY] = st.session_state[CLASS_WIDGET_KEY]

    st.session_state[CLASS_WIDGET_KEY] = cls
    st.radio("Digit" if generator.num_classes == 10 and generator.class_name(9) == "9" else "Class",
             list(range(generator.num_classes)), key=CLASS_WIDGET_KEY, horizontal=True,
             format_func=generator.class_name, on_change=picked,
             help="This generator is class-conditional: it draws the class you pick. The same z keeps its style "
                  "(slant, stroke) across classes")


def slider_range(noise: str) -> tuple[float, float, float]:
    """(low, high, step): about three standard deviations for normal noise, the support for uniform."""
    return (0.0, 1.0, 0.01) if noise == "uniform" else (-3.0, 3.0, 0.05)


def dimension_sliders(generator: Generator, z: np.ndarray) -> bool:
    """One slider per z dimension, a page of DIMS_PER_PAGE at a time; edits z in place, True if one moved."""
    version, dim = st.session_state[VERSION_KEY], generator.noise_dim
    low, high, step = slider_range(generator.noise)
    pages = math.ceil(dim / DIMS_PER_PAGE)
    page = 0
    if pages > 1:
        page = st.selectbox("Dimensions", range(pages), key="latent_page", format_func=lambda p: (
            f"z[{p * DIMS_PER_PAGE}] … z[{min(dim, (p + 1) * DIMS_PER_PAGE) - 1}]"))
    shown_dims = range(page * DIMS_PER_PAGE, min(dim, (page + 1) * DIMS_PER_PAGE))
    columns, per_column = st.columns(2), math.ceil(len(shown_dims) / 2)
    moved = False
    for j, i in enumerate(shown_dims):
        shown = float(np.clip(z[i], low, high))  # a value beyond the range stays exact until it is moved
        value = columns[j // per_column].slider(f"z[{i}]", low, high, shown, step, format="%.2f",
                                                key=f"z{version}_{i}")
        if value != shown:
            z[i] = value
            moved = True
    return moved


def direction_sliders(generator: Generator, z: np.ndarray) -> bool:
    """One slider per principal direction: where z sits along it, in standard deviations of the noise. Moving one
    moves z along that direction only (they are orthonormal), so the others keep their values."""
    found = generator_directions(generator)
    coords = found.coordinates(z, latent.centre(generator.noise))
    version = st.session_state.get(PC_VERSION_KEY, 0)
    columns, per_column = st.columns(2), math.ceil(found.k / 2)
    moved = False
    for i in range(found.k):
        shown = round(float(np.clip(round(coords[i] / PC_STEP) * PC_STEP, -PC_RANGE, PC_RANGE)), 2)
        value = columns[i // per_column].slider(
            f"PC{i + 1} · {found.explained[i]:.1%}", -PC_RANGE, PC_RANGE, shown, PC_STEP, format="%.2f",
            key=f"pc{version}_{i}",
            help=f"Moves z along principal direction {i + 1} of the generator's first hidden layer, in standard "
                 f"deviations of the noise; {found.explained[i]:.1%} is its share of that layer's variance.")
        if value != shown:
            z[:] = found.move(z, i, value - coords[i])
            moved = True
    st.caption(f"The top {found.k} directions explain {found.explained.sum():.0%} of the variance of "
               f"{found.layer} over {found.n} samples (GANSpace: PCA of the layer, regressed back onto z).")
    return moved


@st.fragment
def z_editor(generator: Generator) -> None:
    """Sliders and image in one fragment: moving a slider reruns only this, and the image follows at once."""
    z = st.session_state[Z_KEY]
    image_column, slider_column = st.columns([1, 2], gap="large")
    with slider_column:
        mode = st.radio("Sliders", SLIDER_MODES, key=MODE_KEY, horizontal=True,
                        help="Principal directions move many dimensions at once along the ways the generator's "
                             "first layer varies most: bigger, more meaningful changes per slider")
        if mode == SLIDER_MODES[0]:
            if dimension_sliders(generator, z):
                bump(PC_VERSION_KEY)
        else:
            with widgets.user_errors():
                if direction_sliders(generator, z):
                    bump(VERSION_KEY)
    image_slot = image_column.empty()
    psi = image_column.slider("Truncation ψ", 0.0, latent.MAX_PSI, 1.0, 0.05, key=PSI_KEY,
                              help="Pulls z towards the noise's centre before drawing: 1 leaves it alone, smaller "
                                   "values give more typical, cleaner images, 0 the generator's mean image")
    cls = current_class(generator)
    image = class_images(generator, latent.truncate(z, psi, generator.noise)[None])[0]
    label, _, edited = z_origin()
    if cls is not None:
        label = f"{generator.class_name(cls)} · {label}"
    image_slot.image(widgets.upscaled_png(image, widgets.display_scale(image.shape[0])), output_format="PNG",
                     alt="Generated image",
                     caption=f"{label}{' (edited)' if edited else ''} · ψ = {psi:.2f} · "
                             f"‖z‖ = {np.linalg.norm(z - latent.centre(generator.noise)):.2f}")


@st.fragment
def interpolation(choice: widgets.GeneratorChoice) -> None:
    """From the current z (or a seed) to another seed, as a strip and as a GIF; reruns on its own controls.
    A class-conditional generator can also walk from one class to another with the same z."""
    generator = choice.generator
    st.subheader("Interpolation")
    if generator.conditional and st.radio("Walk", ["Between seeds", "Between classes"], horizontal=True,
                                          key="latent_walk") == "Between classes":
        class_interpolation(choice)
        return
    c = st.columns([1.3, 1, 1, 1, 1, 1], vertical_alignment="bottom")
    start = c[0].radio("From", ["Current z", "Seed A"], horizontal=True)
    seed_a = c[1].number_input("Seed A", 0, latent.MAX_SEED, 1, disabled=start == "Current z")
    seed_b = c[2].number_input("Seed B", 0, latent.MAX_SEED, 2)
    steps = c[3].number_input("Steps", 2, 32, 8)
    mode = c[4].radio("Mode", ["slerp", "lerp"], horizontal=True,
                      help="slerp keeps |z| typical along the path; lerp's midpoints are shorter and blander")
    fps = c[5].number_input("GIF frames/s", 0.5, 30.0, 6.0, step=0.5)
    if start == "Current z":
        st.button("Refresh from the sliders", icon=":material/refresh:",
                  help="The path starts at z as it was when this section was last drawn")
        a = st.session_state[Z_KEY].copy()
    else:
        a = latent.z_from_seed(seed_a, generator.noise_dim, generator.noise)
    b = latent.z_from_seed(seed_b, generator.noise_dim, generator.noise)
    cls = current_class(generator)
    frames = export.interpolation_frames(generator, a, b, int(steps), mode, label=cls)
    in_class = f", {generator.class_name(cls)}" if cls is not None else ""
    st.image(pictures.png_bytes(pictures.grid(np.stack(frames), 1, int(steps), scale=STRIP_SCALE)),
             caption=f"{mode}, {steps} steps{in_class}", output_format="PNG")
    scale = widgets.display_scale(frames[0].shape[0])
    gif = pictures.gif_bytes([pictures.upscale(f, scale) for f in frames], fps=fps, bounce=True)
    gif_column, download_column = st.columns([1, 2])
    gif_column.image(gif, caption="forth and back")
    with download_column:
        _, tag, edited = z_origin()
        origin = f"{tag}{'-edited' if edited else ''}" if start == "Current z" else f"seed{seed_a}"
        class_tag = f"_class{cls}" if cls is not None else ""
        widgets.download_and_save("Download GIF", gif,
                                  f"{choice.name}_{mode}_{origin}-seed{seed_b}_{steps}steps{class_tag}.gif",
                                  "image/gif", choice.exports_dir, key="latent_gif")


def class_interpolation(choice: widgets.GeneratorChoice) -> None:
    """The current z drawn as class A, blending into class B: one style, the digit changing under it."""
    generator = choice.generator
    c = st.columns(4, vertical_alignment="bottom")
    names = range(generator.num_classes)
    a = c[0].selectbox("From class", names, index=current_class(generator), format_func=generator.class_name,
                       key="latent_class_a")
    b = c[1].selectbox("To class", names, index=(current_class(generator) + 1) % generator.num_classes,
                       format_func=generator.class_name, key="latent_class_b")
    steps = int(c[2].number_input("Steps", 2, 32, 8, key="latent_class_steps"))
    fps = c[3].number_input("GIF frames/s", 0.5, 30.0, 6.0, step=0.5, key="latent_class_fps")
    st.button("Refresh from the sliders", icon=":material/refresh:", key="latent_class_refresh",
              help="The walk uses z as it was when this section was last drawn")
    z = latent.truncate(st.session_state[Z_KEY], st.session_state.get(PSI_KEY, 1.0), generator.noise)
    frames = export.class_interpolation_frames(generator, z, a, b, steps)
    st.image(pictures.png_bytes(pictures.grid(np.stack(frames), 1, steps, scale=STRIP_SCALE)), output_format="PNG",
             caption=f"{generator.class_name(a)} → {generator.class_name(b)} with the same z, {steps} steps")
    scale = widgets.display_scale(frames[0].shape[0])
    gif = pictures.gif_bytes([pictures.upscale(f, scale) for f in frames], fps=fps, bounce=True)
    gif_column, download_column = st.columns([1, 2])
    gif_column.image(gif, caption="forth and back")
    with download_column:
        _, tag, edited = z_origin()
        widgets.download_and_save("Download GIF", gif,
                                  f"{choice.name}_class{a}-to-class{b}_{tag}{'-edited' if edited else ''}_"
                                  f"{steps}steps.gif", "image/gif", choice.exports_dir, key="latent_class_gif")


def arithmetic(generator: Generator) -> None:
    """A − B + C, each the average z of one or more seeds, shown with its parts; the result can go to the editor.
    Not a fragment: loading the result must redraw the editor above, and these inputs change seldom."""
    st.subheader("Latent arithmetic")
    st.caption("Each of A, B and C is one seed or the average z of several (`3, 17, 42` or `10-14`): averaging a "
               "few samples that share something keeps what they share, as in the DCGAN paper's "
               "“smiling woman − neutral woman + neutral man”.")
    c = st.columns(3)
    sets = [c[i].text_input(f"Seeds for {name}", default, key=f"latent_arith_{name}")
            for i, (name, default) in enumerate((("A", "1"), ("B", "2"), ("C", "3")))]
    with widgets.user_errors():
        seeds = [latent.parse_seeds(text) for text in sets]
        parts = [latent.mean_z_of_seeds(s, generator.noise_dim, generator.noise) for s in seeds]
        result = latent.arithmetic(*parts)
        pictures = class_images(generator, np.stack([*parts, result]))
        scale = widgets.display_scale(pictures.shape[1])
        names = [f"{sign}{name}: {'seed ' + str(s[0]) if len(s) == 1 else f'mean of {len(s)} seeds'}"
                 for sign, name, s in zip(("", "− ", "+ "), "ABC", seeds)] + ["= A − B + C"]
        for column, image, name in zip(st.columns(4), pictures, names):
            column.image(widgets.upscaled_png(image, scale), caption=name, output_format="PNG")
        short = " − ".join(s.replace(" ", "") for s in sets[:2]) + " + " + sets[2].replace(" ", "")
        st.button("Load A − B + C into the editor", icon=":material/input:", on_click=set_z,
                  args=(result, f"A − B + C ({short})", "arithmetic"),
                  help="The result becomes the current z: edit it with the sliders above or interpolate from it")


choice = widgets.page_generator("latent", "Latent space")

generator = choice.generator
dim, noise = generator.noise_dim, generator.noise
st.session_state.setdefault(SEED_KEY, st.session_state.get(Z_SEED_KEY, 0))
z = st.session_state.get(Z_KEY)
if z is None or z.shape != (dim,) or st.session_state.get(NOISE_KEY) != noise or ORIGIN_KEY not in st.session_state:
    z_from_seed_box(dim, noise)  # a generator with another z keeps nothing; the same z carries across epochs

with st.container(horizontal=True, vertical_alignment="bottom"):
    st.number_input("Seed", 0, latent.MAX_SEED, key=SEED_KEY, on_change=z_from_seed_box, args=(dim, noise), width=220)
    st.button("Random", icon=":material/casino:", on_click=random_z, args=(dim, noise))
    st.button("Reset sliders", icon=":material/restart_alt:", on_click=z_from_seed_box, args=(dim, noise))
    st.caption(f"{widgets.md_text(choice.name)}: {dim}-dimensional {noise} z → "
               f"{'x'.join(map(str, generator.image_shape))} images"
               + (f" of {generator.num_classes} classes" if generator.conditional else ""))
if generator.conditional:
    class_picker(generator)
z_editor(generator)
interpolation(choice)
arithmetic(generator)
projection.section(choice, on_use=set_z)
