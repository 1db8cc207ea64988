"""Streamlit pieces shared by the pages (pickers, cached loaders, error display).

It lives outside ``pages/`` so that nothing mistakes it for a page, and outside ``gan_core``
because the engine must not import streamlit.
"""


def use_app_navigation() -> None:
    """Give a page that Streamlit ran on its own app.py's layout and navigation.

    Until some session has run app.py, Streamlit treats a top-level `pages/` folder as an old-style multipage app
    (and AppTest does so on every run): a first visit straight to /train runs that page alone, with a narrow
    layout and a menu of file names. Every page calls this first; in that case it sets up app.py's page config
    and `st.navigation` (which also switches the server to it) and the page goes on rendering. A no-op otherwise.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        import app  # the project's app.py, beside pages/: imported, it only defines its page list

        app.set_up_page()
        app.navigation()
