"""Latent space: edit one z dimension by dimension and watch the image follow; walk from one z to another."""
import math

import numpy as np
import streamlit as st

from explorer_ui import use_app_navigation, widgets
from gan_core import export, latent
from gan_core.generator import Generator

use_app_navigation()  # before anything renders: see its docstring

DIMS_PER_PAGE = 10
STRIP_SCALE = 3
# z and the seed it came from are plain session state, so they outlive this page's widgets (which Streamlit
# forgets when another page is shown); SEED_KEY is the seed box's widget key.
Z_KEY, Z_SEED_KEY, NOISE_KEY, VERSION_KEY = "latent_z", "latent_z_seed", "latent_noise", "latent_z_version"
SEED_KEY = "latent_seed"


def z_from_seed_box(dim: int, noise: str) -> None:
    """z := the seed box's vector; a new version gives the sliders new keys, so they start from its values."""
    seed = st.session_state[SEED_KEY]
    st.session_state[Z_KEY] = latent.z_from_seed(seed, dim, noise)
    st.session_state[Z_SEED_KEY], st.session_state[NOISE_KEY] = seed, noise
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1


def random_z(dim: int, noise: str) -> None:
    st.session_state[SEED_KEY] = latent.random_seed()
    z_from_seed_box(dim, noise)


def z_origin(generator: Generator) -> tuple[int, bool]:
    """The seed the current z came from, and whether the sliders have moved it since."""
    seed = st.session_state[Z_SEED_KEY]
    z = latent.z_from_seed(seed, generator.noise_dim, generator.noise)
    return seed, not np.array_equal(st.session_state[Z_KEY], z)


def slider_range(noise: str) -> tuple[float, float, float]:
    """(low, high, step): about three standard deviations for normal noise, the support for uniform."""
    return (0.0, 1.0, 0.01) if noise == "uniform" else (-3.0, 3.0, 0.05)


@st.fragment
def z_editor(generator: Generator) -> None:
    """Sliders and image in one fragment: moving a slider reruns only this, and the image follows at once."""
    z, version, dim = st.session_state[Z_KEY], st.session_state[VERSION_KEY], generator.noise_dim
    low, high, step = slider_range(generator.noise)
    image_column, slider_column = st.columns([1, 2], gap="large")
    with slider_column:
        pages = math.ceil(dim / DIMS_PER_PAGE)
        page = 0
        if pages > 1:
            page = st.selectbox("Dimensions", range(pages), key="latent_page", format_func=lambda p: (
                f"z[{p * DIMS_PER_PAGE}] … z[{min(dim, (p + 1) * DIMS_PER_PAGE) - 1}]"))
        shown_dims = range(page * DIMS_PER_PAGE, min(dim, (page + 1) * DIMS_PER_PAGE))
        columns, per_column = st.columns(2), math.ceil(len(shown_dims) / 2)
        for j, i in enumerate(shown_dims):
            shown = float(np.clip(z[i], low, high))  # a value beyond the range stays exact until it is moved
            value = columns[j // per_column].slider(f"z[{i}]", low, high, shown, step, format="%.2f",
                                                    key=f"z{version}_{i}")
            if value != shown:
                z[i] = value
    image = generator.images_uint8(z)[0]
    seed, edited = z_origin(generator)
    image_column.image(widgets.upscaled_png(image, widgets.display_scale(image.shape[0])), output_format="PNG",
                       alt="Generated image",
                       caption=f"seed {seed}{' (edited)' if edited else ''} · "
                               f"‖z‖ = {np.linalg.norm(z - latent.centre(generator.noise)):.2f}")


@st.fragment
def interpolation(choice: widgets.GeneratorChoice) -> None:
    """From the current z (or a seed) to another seed, as a strip and as a GIF; reruns on its own controls."""
    generator = choice.generator
    st.subheader("Interpolation")
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
    frames = export.interpolation_frames(generator, a, b, int(steps), mode)
    st.image(export.png_bytes(export.grid(np.stack(frames), 1, int(steps), scale=STRIP_SCALE)),
             caption=f"{mode}, {steps} steps", output_format="PNG")
    scale = widgets.display_scale(frames[0].shape[0])
    gif = export.gif_bytes([export.upscale(f, scale) for f in frames], fps=fps, bounce=True)
    gif_column, download_column = st.columns([1, 2])
    gif_column.image(gif, caption="forth and back")
    with download_column:
        seed, edited = z_origin(generator)
        origin = f"seed{seed}{'-edited' if edited else ''}" if start == "Current z" else f"seed{seed_a}"
        widgets.download_and_save("Download GIF", gif, f"{choice.name}_{mode}_{origin}-seed{seed_b}_{steps}steps.gif",
                                  "image/gif", choice.exports_dir, key="latent_gif")


choice = widgets.page_generator("latent", "Latent space")

generator = choice.generator
dim, noise = generator.noise_dim, generator.noise
st.session_state.setdefault(SEED_KEY, st.session_state.get(Z_SEED_KEY, 0))
z = st.session_state.get(Z_KEY)
if z is None or z.shape != (dim,) or st.session_state.get(NOISE_KEY) != noise:
    z_from_seed_box(dim, noise)  # a generator with another z keeps nothing; the same z carries across epochs

with st.container(horizontal=True, vertical_alignment="bottom"):
    st.number_input("Seed", 0, latent.MAX_SEED, key=SEED_KEY, on_change=z_from_seed_box, args=(dim, noise), width=220)
    st.button("Random", icon=":material/casino:", on_click=random_z, args=(dim, noise))
    st.button("Reset sliders", icon=":material/restart_alt:", on_click=z_from_seed_box, args=(dim, noise))
    st.caption(f"{choice.name}: {dim}-dimensional {noise} z → {'x'.join(map(str, generator.image_shape))} images")
z_editor(generator)
interpolation(choice)
