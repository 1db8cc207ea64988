"""The Python side of the Latent page's browser editor (explorer_ui.components.latent_morph), through AppTest and
directly: the handshake (the model's bytes sent while the browser does not report holding them, then never again;
the server's editor back, with one line, where the browser cannot run it), the release into the page's state, and
its checks.

The browser's reports are set the way the browser sets them, as the component's state (`st.session_state[key]`).
"""
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer_ui.components import latent_morph
from explorer_ui.latent_state import PSI_KEY, LatentState
from gan_core import latent_space
from gan_core.explore import browser_model

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 180  # the first run imports TensorFlow; converting the tiny generator to ONNX takes seconds more

pytestmark = pytest.mark.slow  # the tiny training run


def element_data(at: AppTest, key: str = latent_morph.EDITOR_KEY) -> dict:
    """The data the page gave the component this run (what the browser receives)."""
    found = []

    def walk(node) -> None:
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else children or []):
            walk(child)
        if getattr(node, "type", None) == "bidi_component":
            found.append(node.proto)

    walk(at._tree)
    (data,) = [json.loads(p.json) for p in found if p.id.endswith(key)]
    return data


@pytest.fixture
def latent_page(runs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(latent_morph.DEFAULT_ENV, "1")  # runs_dir sets the server path for the other page tests
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("pages/latent.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at, tmp_path / "cache" / browser_model.CACHE_SUBDIR


def report(at: AppTest, **browser) -> None:
    at.session_state[latent_morph.EDITOR_KEY] = {"browser": {"wasm": True, "held": [], "failed": {}, "why": "",
                                                             **browser}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_model_goes_to_the_browser_once_per_generator(latent_page):
    at, cache = latent_page
    # the first run: the browser's editor with the model's bytes, converted once and cached by hash
    data = element_data(at)
    sha = data["model"]["sha256"]
    assert data["mode"] == "editor" and len(data["model"]["bytes_b64"]) > 1000
    assert [p.name for p in cache.glob("*.onnx")] == [f"{sha}.onnx"]
    assert not any(s.label == "z[0]" for s in at.slider)  # no server-side sliders beside the browser's
    assert data["z"] == pytest.approx(at.session_state["latent_z"].tolist())
    at.run()
    assert element_data(at)["model"]["bytes_b64"]  # the browser has not said it holds them: again
    # the browser holds it: no bytes on this or any later rerun
    report(at, held=[sha])
    data = element_data(at)
    assert data["model"]["sha256"] == sha and data["model"]["bytes_b64"] is None
    at.run()
    assert element_data(at)["model"]["bytes_b64"] is None
    mtime = (cache / f"{sha}.onnx").stat().st_mtime_ns
    at.number_input(key="latent_seed").set_value(5).run()  # a new z from Python reaches the browser as data
    assert element_data(at)["z"] == pytest.approx(latent_space.z_from_seed(5, 100).tolist())
    assert element_data(at)["model"]["bytes_b64"] is None
    assert (cache / f"{sha}.onnx").stat().st_mtime_ns == mtime  # not converted again


def test_a_browser_that_cannot_run_it_keeps_the_server_path_with_one_line(latent_page):
    at, cache = latent_page
    report(at, wasm=False, why="this browser has no WebAssembly")
    assert any("Drawn on the server: this browser has no WebAssembly" in c.value for c in at.caption)
    assert any(s.label == "z[0]" for s in at.slider)
    # a model the browser failed to load: its reason, as text (markdown in it is escaped)
    report(at)
    sha = element_data(at)["model"]["sha256"]
    assert not any(s.label == "z[0]" for s in at.slider)
    report(at, failed={sha: "the browser could not load the generator ([x](http://evil))"})
    line = next(c.value for c in at.caption if "Drawn on the server" in c.value)
    assert "](http" not in line and "\\[x\\]" in line
    assert any(s.label == "z[0]" for s in at.slider)


class FakeGenerator:
    noise_dim, noise, num_classes = 4, "normal", 3

    @property
    def conditional(self) -> bool:
        return True


def state_at(z: np.ndarray) -> LatentState:
    state = LatentState(store={PSI_KEY: 1.0})
    state.set_z(z, "seed 3", "seed3")
    return state


def test_the_release_sets_z_psi_and_class_exactly_and_keeps_the_origin():
    z0 = np.float32([0.5, -1.0, 2.0, 0.0])
    state = state_at(z0)
    versions = state.z_version, state.pc_version
    dragged = [0.5, -1.25, 2.0, 0.1]
    assert latent_morph.released(state, FakeGenerator(), {"z": dragged, "psi": 0.65, "cls": 2, "seq": 1})
    assert state.z.dtype == np.float32 and state.z.tolist() == np.float32(dragged).tolist()
    assert state.psi == 0.65 and state.current_class(FakeGenerator()) == 2
    assert state.origin() == ("seed 3", "seed3", True) and state.origin_tag() == "seed3-edited"
    assert state.z_version > versions[0] and state.pc_version > versions[1]  # the server's sliders start afresh


@pytest.mark.parametrize("payload", [
    None, "z", {"z": [1, 2, 3], "psi": 1, "cls": 0}, {"z": [1, 2, 3, float("nan")], "psi": 1, "cls": 0},
    {"z": [1, 2, 3, 4], "psi": 1.5, "cls": 0}, {"z": [1, 2, 3, 4], "psi": -0.1, "cls": 0},
    {"z": [1, 2, 3, 4], "psi": "x", "cls": 0}, {"z": [1, 2, 3, 4], "psi": 1, "cls": 3},
    {"z": [1, 2, 3, 4], "psi": 1, "cls": "../../etc/passwd"}, {"z": ["a", 2, 3, 4], "psi": 1, "cls": 0},
    {"z": [[1, 2], [3, 4]], "psi": 1, "cls": 0},
])
def test_a_release_that_does_not_fit_changes_nothing(payload):
    z0 = np.float32([0.5, -1.0, 2.0, 0.0])
    state = state_at(z0)
    assert not latent_morph.released(state, FakeGenerator(), payload)
    assert state.z.tolist() == z0.tolist() and state.psi == 1.0 and state.current_class(FakeGenerator()) == 0
