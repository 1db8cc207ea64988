"""Streamlit pieces shared by the pages (navigation, pickers, cached loaders, error display, page sections).

It lives outside ``pages/`` so that nothing mistakes it for a page, and outside ``gan_core`` because the engine
must not import streamlit. Streamlit workarounds live in ``streamlit_compat`` alone.
"""
from explorer_ui.navigation import use_app_navigation

__all__ = ["use_app_navigation"]
