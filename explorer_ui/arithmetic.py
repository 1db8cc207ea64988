"""The Latent page's "Latent arithmetic" section: A − B + C, each the average z of one or more seeds."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer_ui import widgets
from explorer_ui.latent_state import LatentState
from gan_core import latent_space
from gan_core.inference import Generator


def section(generator: Generator, state: LatentState) -> None:
    """A − B + C shown with its parts; the result can go to the editor (state.set_z).

    Not a fragment: loading the result must redraw the editor above, and these inputs change seldom."""
    st.subheader("Latent arithmetic")
    st.caption("Each of A, B and C is one seed or the average z of several (`3, 17, 42` or `10-14`): averaging a "
               "few samples that share something keeps what they share, as in the DCGAN paper's "
               "“smiling woman − neutral woman + neutral man”.")
    c = st.columns(3)
    sets = [c[i].text_input(f"Seeds for {name}", default, key=f"latent_arith_{name}")
            for i, (name, default) in enumerate((("A", "1"), ("B", "2"), ("C", "3")))]
    with widgets.user_errors():
        seeds = [latent_space.parse_seeds(text) for text in sets]
        parts = [latent_space.mean_z_of_seeds(s, generator.noise_dim, generator.noise) for s in seeds]
        result = latent_space.arithmetic(*parts)
        pictures = state.images(generator, np.stack([*parts, result]))
        scale = widgets.display_scale(pictures.shape[1])
        names = [f"{sign}{name}: {'seed ' + str(s[0]) if len(s) == 1 else f'mean of {len(s)} seeds'}"
                 for sign, name, s in zip(("", "− ", "+ "), "ABC", seeds)] + ["= A − B + C"]
        for column, image, name in zip(st.columns(4), pictures, names):
            column.image(widgets.png_data_url(image, scale), caption=name)  # as the editor: the same URL for A − B + C
        short = " − ".join(s.replace(" ", "") for s in sets[:2]) + " + " + sets[2].replace(" ", "")
        st.button("Load A − B + C into the editor", icon=":material/input:", on_click=state.set_z,
                  args=(result, f"A − B + C ({short})", "arithmetic"),
                  help="The result becomes the current z: edit it with the sliders above or interpolate from it")
