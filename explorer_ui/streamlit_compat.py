"""Every workaround for a Streamlit behaviour lives here, each against the private name it depends on.

Two of them, both tested on the Streamlit versions in TESTED_STREAMLIT (a version outside logs one warning: the
workarounds may then do nothing, or too much, and tests/test_streamlit_compat.py says which):

* **Keras's session.** After every script and fragment run Streamlit calls `keras.backend.clear_session()`
  (added for TF1-era graphs, https://github.com/streamlit/streamlit/issues/939). With Keras 3 that only throws
  away TensorFlow's kernel cache, so the next generator call rebuilds it: 60-150 ms of every latent-slider move.
  `keep_keras_session` replaces the private `script_runner._clean_problem_modules` with one that keeps the rest
  of its clean-up (closing matplotlib figures).
* **The legacy pages/ directory.** A `pages/` folder beside the entrypoint makes Streamlit run an old-style
  multipage app until some session calls `st.navigation`; from then on it ignores the folder for every session
  (https://docs.streamlit.io/develop/api-reference/navigation/st.navigation, "As soon as any session of your app
  executes the st.navigation command, your app will ignore the pages/ directory"). So a fresh server's first
  visit straight to /train runs pages/train.py alone, without app.py. `pages_directory_mode` reads the private
  class flag `PagesManager.uses_pages_directory` that says so; explorer_ui.navigation acts on it.
* **A packaged Components v2 component in an editable install.** Streamlit finds a component's `asset_dir` by
  scanning installed distributions for a `pyproject.toml` whose project is the distribution and whose package is
  importable as the distribution's name. `pip install -e .` of gan-explorer (the README's set-up, the Dockerfile's)
  has neither: its packages are gan_core and explorer_ui, and the editable install lists no pyproject.toml. So
  `register_component_manifest` reads the component's own manifest (`explorer_ui/components/*/pyproject.toml`,
  the file Streamlit's docs describe) and hands it to the runtime's component manager (`register_from_manifest`),
  as Streamlit's scan would have.
"""
from __future__ import annotations

import logging
import sys
import tomllib
from pathlib import Path

import streamlit
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager
from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

# The whole app, tests/test_streamlit_compat.py and the browser tests of the pages (tests/test_browser_<page>.py,
# then one file) pass on 1.67.0. On 1.50.0 the two private names are there and both workarounds' unit tests pass,
# but the app itself needs a newer Streamlit (st.image(alt=) is missing), so the range starts where the app was run.
# Widen it after running those tests on another version.
TESTED_STREAMLIT = SpecifierSet(">=1.67,<1.68")
CLEAN_UP_NAME = "_clean_problem_modules"  # in streamlit.runtime.scriptrunner.script_runner
PAGES_FLAG_NAME = "uses_pages_directory"  # on streamlit.runtime.pages_manager.PagesManager

log = logging.getLogger(__name__)
_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def streamlit_is_tested(version: str = streamlit.__version__) -> bool:
    """Whether `version` is one the workarounds were tested on; logs one warning per process when it is not."""
    if Version(version) in TESTED_STREAMLIT:
        return True
    _warn_once(f"version {version}", f"Streamlit {version} is outside the versions GAN Explorer's Streamlit "
                                     f"workarounds were tested on ({TESTED_STREAMLIT}); see {__name__}")
    return False


def pages_directory_mode() -> bool:
    """True while Streamlit runs the app as an old-style `pages/` directory app (see the module docstring).

    Why private: Streamlit offers no public way to ask. Where the flag is gone this says False (app.py's own
    navigation is then all there is) and warns once."""
    streamlit_is_tested()
    if not hasattr(PagesManager, PAGES_FLAG_NAME):
        _warn_once(PAGES_FLAG_NAME, f"PagesManager.{PAGES_FLAG_NAME} is gone from Streamlit "
                                    f"{streamlit.__version__}: a first visit straight to a page may get Streamlit's "
                                    "own page menu")
        return False
    return bool(getattr(PagesManager, PAGES_FLAG_NAME))


def _clean_up_but_keep_keras() -> None:
    """Streamlit's per-run clean-up without `keras.backend.clear_session()`: matplotlib's figures still close."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


_clean_up_but_keep_keras.keeps_keras_session = True


def keep_keras_session() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script and fragment run.

    Why it is safe: our models live in `st.cache_resource` and are never rebuilt per run, so nothing piles up in
    Keras's session without the clear. Idempotent; where Streamlit no longer has the function it warns once."""
    streamlit_is_tested()
    current = getattr(script_runner, CLEAN_UP_NAME, None)
    if current is None:
        _warn_once(CLEAN_UP_NAME, f"script_runner.{CLEAN_UP_NAME} is gone from Streamlit {streamlit.__version__}: "
                                  "if it still clears Keras's session after each run, slider moves are slower")
        return
    if getattr(current, "keeps_keras_session", False):
        return
    _clean_up_but_keep_keras.streamlit_original = current
    setattr(script_runner, CLEAN_UP_NAME, _clean_up_but_keep_keras)


def register_component_manifest(package_dir: Path) -> str:
    """Register the components declared in `package_dir/pyproject.toml` on the running Streamlit (see the module
    docstring) unless Streamlit's own scan found them; returns the first one's full name ("<project>.<name>").

    Called before each mount: AppTest starts a new runtime (and component manager) per test."""
    streamlit_is_tested()
    with open(package_dir / "pyproject.toml", "rb") as f:
        manifest = tomllib.load(f)
    project = manifest["project"]
    configs = [ComponentConfig.from_dict(c) for c in manifest["tool"]["streamlit"]["component"]["components"]]
    full_name = f"{project['name']}.{configs[0].name}"
    manager = get_bidi_component_manager()
    if manager.get_component_asset_root(full_name) is None:
        manager.register_from_manifest(ComponentManifest(name=project["name"], version=project.get("version", "0"),
                                                         components=configs), package_dir)
    return full_name
