"""The app's page list and page set-up, used by app.py and, on a first visit straight to a page, by that page.

It lives here rather than in app.py so that nothing imports the entrypoint: app.py and every page import this.
"""
from __future__ import annotations

import functools

import numpy as np
import streamlit as st
from PIL import Image
from streamlit.navigation.page import StreamlitPage

from explorer_ui import streamlit_compat
from gan_core import devices
from gan_core.errors import GanError

# Set by every run that went through set_up_page: app.py's, or a page's that had to do app.py's work itself.
APP_RAN_KEY = "_explorer_app_ran"

PAGES = (  # (file beside app.py, title, icon, URL path): the order of the menu
    ("pages/home.py", "Home", ":material/home:", None),
    ("pages/train.py", "Train", ":material/model_training:", "train"),
    ("pages/snapshots.py", "Snapshots", ":material/photo_library:", "snapshots"),
    ("pages/lab.py", "Step-through lab", ":material/science:", "lab"),
    ("pages/compare.py", "Compare runs", ":material/stacked_line_chart:", "compare"),
    ("pages/latent.py", "Latent space", ":material/tune:", "latent"),
    ("pages/export.py", "Export", ":material/download:", "export"),
    ("pages/translate.py", "Translate", ":material/compare:", "translate"),
)


@functools.cache
def app_icon() -> Image.Image:
    """The tab's icon, drawn here: a 4x4 grid of soft blobs, as a GAN's sample grid looks small. Not a Material
    icon: Streamlit fetches those favicons from Google's font server, and the app makes no outside request."""
    y, x = np.mgrid[0:64, 0:64] % 16 - 7.5
    blob = np.exp(-(x * x + y * y) / 18.0)
    shade = np.kron(np.array([[0.55, 1.0, 0.8, 0.65], [1.0, 0.7, 0.9, 0.6], [0.75, 0.9, 0.6, 1.0],
                              [0.6, 0.8, 1.0, 0.7]]), np.ones((16, 16)))
    value = blob * shade
    rgb = np.stack([70 + 90 * value, 90 + 120 * value, 200 + 55 * value], -1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def set_up_page() -> None:
    """What every run does before a page draws: Keras kept across reruns, page config, square pixels."""
    streamlit_compat.keep_keras_session()  # else Streamlit clears TensorFlow's kernels after every rerun
    st.set_page_config(page_title="GAN Explorer", page_icon=app_icon(), layout="wide")
    # GAN samples are small pixel grids shown enlarged: keep their pixels square instead of blurring them.
    st.html("<style>[data-testid='stImage'] img { image-rendering: pixelated; }</style>")
    st.session_state[APP_RAN_KEY] = True
    try:  # before the page's first TensorFlow op: grow GPU memory (a trainer may share the GPU), or stay on the CPU
        notes = devices.configure("app")
    except GanError as exc:
        st.error(str(exc))
    else:
        if notes != [devices.NO_GPU]:
            st.sidebar.caption(" · ".join(notes))


def navigation() -> StreamlitPage:
    """The app's menu; its `.run()` runs the page the URL names (Home for /)."""
    return st.navigation([st.Page(path, title=title, icon=icon, url_path=url_path, default=url_path is None)
                          for path, title, icon, url_path in PAGES])


def use_app_navigation() -> None:
    """Give a page that Streamlit ran on its own app.py's layout and navigation; a no-op otherwise.

    Why: while Streamlit is in its legacy pages/ mode (see streamlit_compat), a first visit straight to /train
    runs that page alone, with a narrow layout and a menu of file names. Every page calls this first; in that mode
    it does app.py's set-up and `st.navigation` (which also leaves the mode, for every session). On a session's
    first run (a page load) it then reruns at once as app.py's page: else this run's widgets have other ids than
    the next run's, and the first thing the visitor changes is reset. A session that already ran app.py (AppTest
    starts every run in the legacy mode, after a first run of app.py) keeps its run: its ids already match, and
    a rerun would drop the click that started it.
    """
    if not streamlit_compat.pages_directory_mode():
        return
    first_run = not st.session_state.get(APP_RAN_KEY)
    set_up_page()
    navigation()
    if first_run:
        st.rerun()
