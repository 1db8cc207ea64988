"""GAN Explorer: `streamlit run app.py`. The page list lives in explorer_ui.navigation; the work in gan_core.

Every page also starts with `explorer_ui.use_app_navigation()`, which does this file's work when Streamlit ran that
page without it (see its docstring).
"""
from explorer_ui.navigation import navigation, set_up_page

if __name__ == "__main__":  # how Streamlit runs this file
    set_up_page()
    navigation().run()
