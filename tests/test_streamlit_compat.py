"""explorer_ui.streamlit_compat: the private Streamlit names its workarounds patch still exist, the Keras one holds
through real AppTest reruns of the Latent page (a spy on keras.backend.clear_session, not a look at the patched
attribute), and a Streamlit outside the tested versions is named once in the log."""
import logging
from pathlib import Path

import keras
import pytest
import streamlit
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from explorer_ui import streamlit_compat

APP = Path(__file__).resolve().parents[1] / "app.py"


def test_the_installed_streamlit_is_one_the_workarounds_were_tested_on():
    assert streamlit_compat.streamlit_is_tested(), (
        f"Streamlit {streamlit.__version__} is outside {streamlit_compat.TESTED_STREAMLIT}: run the tests below and "
        "the browser tests, then widen TESTED_STREAMLIT")


def test_the_private_names_the_workarounds_use_are_still_there():
    """An upgrade that renames them fails here, instead of the app silently losing its workarounds."""
    assert hasattr(PagesManager, streamlit_compat.PAGES_FLAG_NAME)
    stock = getattr(script_runner, streamlit_compat.CLEAN_UP_NAME)
    stock = getattr(stock, "streamlit_original", stock)  # an app test in this process may have replaced it
    assert callable(stock)


def test_stock_streamlit_still_clears_the_keras_session(monkeypatch):
    """If Streamlit stops doing it, keep_keras_session has become dead code: remove it."""
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(1))
    stock = getattr(script_runner, streamlit_compat.CLEAN_UP_NAME)
    getattr(stock, "streamlit_original", stock)()
    assert cleared


def _latent_page_reruns(monkeypatch, tmp_path) -> list[int]:
    """clear_session calls during AppTest runs of the Latent page: open it, move a z slider, move ψ."""
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(tmp_path / "runs"))  # empty: the page opens on mnist_dcgan
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(1))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("pages/latent.py").run()
    assert not at.exception, [e.value for e in at.exception]
    next(s for s in at.slider if s.label == "z[0]").set_value(1.0).run()
    next(s for s in at.slider if s.label == "Truncation ψ").set_value(0.5).run()
    assert not at.exception, [e.value for e in at.exception]
    return cleared


@pytest.mark.slow
def test_reruns_of_the_app_never_clear_the_keras_session(monkeypatch, tmp_path):
    stock = getattr(script_runner, streamlit_compat.CLEAN_UP_NAME)
    monkeypatch.setattr(script_runner, streamlit_compat.CLEAN_UP_NAME, getattr(stock, "streamlit_original", stock))
    assert _latent_page_reruns(monkeypatch, tmp_path) == []


@pytest.mark.slow
def test_without_the_workaround_the_same_reruns_clear_it(monkeypatch, tmp_path):
    """The spy above can see a clear: with keep_keras_session a no-op, Streamlit clears after every run."""
    stock = getattr(script_runner, streamlit_compat.CLEAN_UP_NAME)
    monkeypatch.setattr(script_runner, streamlit_compat.CLEAN_UP_NAME, getattr(stock, "streamlit_original", stock))
    monkeypatch.setattr(streamlit_compat, "keep_keras_session", lambda: None)
    assert len(_latent_page_reruns(monkeypatch, tmp_path)) >= 4


def test_a_streamlit_outside_the_tested_range_is_named_once(caplog, monkeypatch):
    monkeypatch.setattr(streamlit_compat, "_warned", set())
    with caplog.at_level(logging.WARNING, logger=streamlit_compat.__name__):
        assert not streamlit_compat.streamlit_is_tested("9.0.0")
        assert not streamlit_compat.streamlit_is_tested("9.0.0")
        assert streamlit_compat.streamlit_is_tested("1.67.0")
    (record,) = caplog.records
    assert "Streamlit 9.0.0 is outside" in record.getMessage()
