"""GAN Explorer: `streamlit run app.py`. Pages are listed here explicitly; the work happens in gan_core.

Every page starts with `explorer_ui.use_app_navigation()`, which calls `navigation()` below when Streamlit ran
that page without this file (see its docstring).
"""
import streamlit as st

import explorer_ui


def set_up_page() -> None:
    explorer_ui.keep_keras_session()  # else Streamlit clears TensorFlow's kernels after every rerun (see there)
    st.set_page_config(page_title="GAN Explorer", page_icon=":material/blur_on:", layout="wide")
    # GAN samples are small pixel grids shown enlarged: keep their pixels square instead of blurring them.
    st.html("<style>[data-testid='stImage'] img { image-rendering: pixelated; }</style>")


def navigation():
    return st.navigation([
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
        st.Page("pages/snapshots.py", title="Snapshots", icon=":material/photo_library:", url_path="snapshots"),
        st.Page("pages/latent.py", title="Latent space", icon=":material/tune:", url_path="latent"),
        st.Page("pages/export.py", title="Export", icon=":material/download:", url_path="export"),
        st.Page("pages/translate.py", title="Translate", icon=":material/compare:", url_path="translate"),
    ])


if __name__ == "__main__":  # how Streamlit runs this file
    set_up_page()
    navigation().run()
