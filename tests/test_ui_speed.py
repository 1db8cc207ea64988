"""The app's two latency fixes stay in place: Keras's session survives reruns, and no per-rerun gc or file watcher.

What they buy is measured by bench/browser_latency.py (a slider move: ~0.5 s with Streamlit's defaults, ~0.1 s
without); these tests only make sure a refactor cannot quietly undo them.
"""
import tomllib
from pathlib import Path

import keras
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from explorer_ui import streamlit_compat

ROOT = Path(__file__).resolve().parents[1]


def stock_clean_up():
    """Streamlit's own clean-up function, even where an app test in this process already replaced it."""
    current = script_runner._clean_problem_modules
    return getattr(current, "streamlit_original", current)


def test_streamlit_no_longer_clears_the_keras_session_after_a_run(monkeypatch):
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(1))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", stock_clean_up())
    script_runner._clean_problem_modules()
    assert cleared, "precondition: stock Streamlit calls keras.backend.clear_session() after every run"
    cleared.clear()
    streamlit_compat.keep_keras_session()
    streamlit_compat.keep_keras_session()  # idempotent
    script_runner._clean_problem_modules()
    assert not cleared


def test_running_the_app_installs_it(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(tmp_path))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", stock_clean_up())
    assert not getattr(script_runner._clean_problem_modules, "keeps_keras_session", False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert script_runner._clean_problem_modules.keeps_keras_session


def test_config_turns_off_the_per_rerun_gc_and_the_file_watcher():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    assert config["server"]["fileWatcherType"] == "none"
