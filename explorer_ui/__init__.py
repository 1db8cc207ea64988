"""Streamlit pieces shared by the pages (pickers, cached loaders, error display).

It lives outside ``pages/`` so that nothing mistakes it for a page, and outside ``gan_core``
because the engine must not import streamlit.
"""
import sys

_RERUN_AS_APP_KEY = "_explorer_reran_as_app"


def use_app_navigation() -> None:
    """Give a page that Streamlit ran on its own app.py's layout and navigation.

    Until some session has run app.py, Streamlit treats a top-level `pages/` folder as an old-style multipage app
    (and AppTest does so on every run): a first visit straight to /train runs that page alone, with a narrow
    layout and a menu of file names. Every page calls this first; in that case it sets up app.py's page config
    and `st.navigation` (which also switches the server to it) and reruns as app.py's page. A no-op otherwise.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        import streamlit as st

        import app  # the project's app.py, beside pages/: imported, it only defines its page list

        app.set_up_page()
        app.navigation()
        # On a session's first run (a page load, never an interaction), rerun at once as app.py's page: else this
        # run's widgets have other ids than the next run's, and the first thing the visitor changes is reset.
        # Not under AppTest (whose module a server never imports): it starts every run in this mode, so its ids
        # always match, and a rerun there would drop the click that started the run.
        under_apptest = "streamlit.testing.v1" in sys.modules
        if not st.session_state.get(_RERUN_AS_APP_KEY) and not under_apptest:
            st.session_state[_RERUN_AS_APP_KEY] = True
            st.rerun()


def keep_keras_session() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script and fragment run.

    Streamlit does that for TF1-era graphs (streamlit#939). With Keras 3 it only throws away TensorFlow's kernel
    cache, so the next generator call rebuilds it: 60-150 ms of every latent-slider move here, most of the page's
    latency. Our models live in `st.cache_resource` and are never rebuilt per run, so nothing piles up without it.
    Streamlit's other clean-up (closing matplotlib figures) is kept. Idempotent; a no-op on a Streamlit without it.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return
    clean = getattr(script_runner, "_clean_problem_modules", None)
    if clean is None or getattr(clean, "keeps_keras_session", False):
        return

    def clean_all_but_keras() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    clean_all_but_keras.keeps_keras_session = True
    clean_all_but_keras.streamlit_original = clean
    script_runner._clean_problem_modules = clean_all_but_keras
