"""The Latent page's "Interpolation" section: from the current z (or a seed) to another seed, or, for a
class-conditional generator, from one class to another with the same z; as a strip and as a GIF."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer_ui import widgets
from explorer_ui.components import latent_morph
from explorer_ui.latent_state import LatentState
from gan_core import latent_space
from gan_core.errors import ConfigError
from gan_core.explore import grids_and_gifs
from gan_core.files import pictures

STRIP_SCALE = 3


def strip(frames: list[np.ndarray]) -> np.ndarray:
    """The frames side by side, enlarged STRIP_SCALE times where that fits in a picture (pictures.MAX_SIDE_PX a
    side), less for a big generator's images; ConfigError (shown in one line) for a strip too wide even at 1."""
    width = len(frames) * (frames[0].shape[1] + 2) + 2
    if width > pictures.MAX_SIDE_PX:
        raise ConfigError(f"{len(frames)} frames {frames[0].shape[1]} pixels wide make a strip {width:,} pixels wide, "
                          f"over the {pictures.MAX_SIDE_PX:,} a picture may be: pick fewer steps")
    scale = max(1, min(STRIP_SCALE, pictures.MAX_SIDE_PX // width))
    return pictures.grid(np.stack(frames), 1, len(frames), scale=scale)


@st.fragment
def section(choice: widgets.GeneratorChoice, state: LatentState, morph: latent_morph.Editor | None = None) -> None:
    """The section, rerun on its own controls alone (a fragment): the editor above does not redraw. Where the
    editor runs in the browser (`morph` active), the seed walk also plays there."""
    generator = choice.generator
    st.subheader("Interpolation")
    with widgets.user_errors():  # e.g. a strip of a big generator's images too wide to draw: one line
        if generator.conditional and st.radio("Walk", ["Between seeds", "Between classes"], horizontal=True,
                                              key="latent_walk") == "Between classes":
            class_walk(choice, state)
            return
        seed_walk(choice, state, morph)


def seed_walk(choice: widgets.GeneratorChoice, state: LatentState, morph: latent_morph.Editor | None = None) -> None:
    """From the current z (as it was when the section last drew) or seed A to seed B, slerp or lerp."""
    generator = choice.generator
    c = st.columns([1.3, 1, 1, 1, 1, 1], vertical_alignment="bottom")
    start = c[0].radio("From", ["Current z", "Seed A"], horizontal=True)
    seed_a = c[1].number_input("Seed A", 0, latent_space.MAX_SEED, 1, disabled=start == "Current z")
    seed_b = c[2].number_input("Seed B", 0, latent_space.MAX_SEED, 2)
    steps = c[3].number_input("Steps", 2, 32, 8)
    mode = c[4].radio("Mode", ["slerp", "lerp"], horizontal=True,
                      help="slerp keeps |z| typical along the path; lerp's midpoints are shorter and blander")
    fps = c[5].number_input("GIF frames/s", 0.5, 30.0, 6.0, step=0.5)
    if start == "Current z":
        st.button("Refresh from the sliders", icon=":material/refresh:",
                  help="The path starts at z as it was when this section was last drawn")
        a = state.z.copy()
    else:
        a = latent_space.z_from_seed(seed_a, generator.noise_dim, generator.noise)
    b = latent_space.z_from_seed(seed_b, generator.noise_dim, generator.noise)
    cls = state.current_class(generator)
    frames = grids_and_gifs.interpolation_frames(generator, a, b, int(steps), mode, label=cls)
    in_class = f", {generator.class_name(cls)}" if cls is not None else ""
    if morph is not None:
        label, _, edited = state.origin()
        origin = f"{label}{' (edited)' if edited else ''}" if start == "Current z" else f"seed {seed_a}"
        latent_morph.walk(morph, a, b, mode, cls, f"{mode} from {origin} to seed {seed_b}{in_class}")
    st.image(pictures.png_bytes(strip(frames)),
             caption=f"{mode}, {steps} steps{in_class}", output_format="PNG")
    origin = state.origin_tag() if start == "Current z" else f"seed{seed_a}"
    class_tag = f"_class{cls}" if cls is not None else ""
    _gif_and_download(choice, frames, fps, f"{choice.name}_{mode}_{origin}-seed{seed_b}_{steps}steps{class_tag}.gif",
                      key="latent_gif")


def class_walk(choice: widgets.GeneratorChoice, state: LatentState) -> None:
    """The current z drawn as class A, blending into class B: one style, the digit changing under it."""
    generator = choice.generator
    current = state.current_class(generator)
    c = st.columns(4, vertical_alignment="bottom")
    names = range(generator.num_classes)
    a = c[0].selectbox("From class", names, index=current, format_func=generator.class_name, key="latent_class_a")
    b = c[1].selectbox("To class", names, index=(current + 1) % generator.num_classes,
                       format_func=generator.class_name, key="latent_class_b")
    steps = int(c[2].number_input("Steps", 2, 32, 8, key="latent_class_steps"))
    fps = c[3].number_input("GIF frames/s", 0.5, 30.0, 6.0, step=0.5, key="latent_class_fps")
    st.button("Refresh from the sliders", icon=":material/refresh:", key="latent_class_refresh",
              help="The walk uses z as it was when this section was last drawn")
    z = latent_space.truncate(state.z, state.psi, generator.noise)
    frames = grids_and_gifs.class_interpolation_frames(generator, z, a, b, steps)
    st.image(pictures.png_bytes(strip(frames)), output_format="PNG",
             caption=f"{generator.class_name(a)} → {generator.class_name(b)} with the same z, {steps} steps")
    _gif_and_download(choice, frames, fps, f"{choice.name}_class{a}-to-class{b}_{state.origin_tag()}_{steps}steps.gif",
                      key="latent_class_gif")


def _gif_and_download(choice: widgets.GeneratorChoice, frames: list[np.ndarray], fps: float, file_name: str,
                      key: str) -> None:
    """The frames as a forth-and-back GIF at display size, with a download that also saves it."""
    scale = widgets.display_scale(frames[0].shape[0])
    gif = pictures.gif_bytes([pictures.upscale(f, scale) for f in frames], fps=fps, bounce=True)
    gif_column, download_column = st.columns([1, 2])
    gif_column.image(gif, caption="forth and back")
    with download_column:
        widgets.download_and_save("Download GIF", gif, file_name, "image/gif", choice.exports_dir, key=key)
