"""The Latent page's editor and walk, run in the browser: a Streamlit Components v2 element (frontend/morph.js)
that runs the generator under onnxruntime-web on every slider `input` event and sends z back on release.

The handshake: the page converts the generator (once per generator, cached by hash:
gan_core.explore.browser_model) and sends its bytes, base64 in the element's data, while the browser has not
reported holding its sha256 (Streamlit resends an element's whole data on every rerun: the bytes would otherwise go
again each time). The browser draws as soon as the model is loaded, then reports what it holds (one message, one
rerun) and from then on gets only the small data. The element is mounted early in the page's run: Streamlit sends
it as soon as it is made, so the browser loads the model while the server draws the rest of the page.

A generator that will not convert, or a browser that cannot run it (it reports that), gets the server path with
one line saying why. Nothing the browser sends is used as a path: its z, psi and class are checked numbers, its
reasons are shown as text. GAN_EXPLORER_BROWSER_MORPH=0 starts every session on the server path.
"""
from __future__ import annotations

import base64
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from explorer_ui import streamlit_compat, widgets
from explorer_ui.latent_state import LatentState
from gan_core import latent_space
from gan_core.errors import GanError
from gan_core.explore import directions
from gan_core.explore.browser_model import BrowserModel, browser_model
from gan_core.inference import Generator

EDITOR_KEY = "latent_morph"
WALK_KEY = "latent_morph_walk"
WARM_KEY = "latent_morph_warm"
TOGGLE_KEY = "latent_in_browser"
# GAN_EXPLORER_BROWSER_MORPH=0: the toggle starts off (the server draws every move, as before #29): for a server
# whose users' browsers should not run the model, and for tests of the server path
DEFAULT_ENV = "GAN_EXPLORER_BROWSER_MORPH"
RELEASE_MS = 150  # the quiet time after a release before z goes to Python: a burst of key presses sends once
TILE_PX = 40
PLAY_SECONDS = 3.0  # one way of the walk's forth-and-back loop
_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Converted:
    """A generator's browser model, or why there is none (a GanError's one line)."""

    model: BrowserModel | None
    error: str = ""

    @functools.cached_property
    def bytes_b64(self) -> str:
        return base64.b64encode(self.model.onnx).decode("ascii")


@st.cache_resource(max_entries=8, show_spinner="Converting the generator for your browser (once per generator)…")
def _converted(source: str, mtime_ns: int, noise: str, _generator: Generator) -> Converted:
    try:
        return Converted(browser_model(_generator))
    except GanError as exc:  # remembered, not retried on every rerun: the conversion takes seconds
        return Converted(None, str(exc))


def converted(generator: Generator) -> Converted:
    path = Path(generator.source) if generator.source else None
    if path is None or not path.is_file():
        return _converted(f"id{id(generator)}", 0, generator.noise, generator)
    return _converted(str(path), path.stat().st_mtime_ns, generator.noise, generator)


def in_browser_by_default() -> bool:
    return os.environ.get(DEFAULT_ENV, "1").strip() != "0"


def _mount():
    """The component's mount command (the manifest is registered first: see streamlit_compat)."""
    name = streamlit_compat.register_component_manifest(_PACKAGE)
    return st.components.v2.component(name, js="morph.js", css="morph.css")


def report(key: str = EDITOR_KEY) -> dict[str, Any]:
    """What the browser last said: {"wasm": bool, "held": [sha256, ...], "failed": {sha256: why}, "why": str}."""
    value = st.session_state.get(key)
    browser = getattr(value, "browser", None) if value is not None else None
    return browser if isinstance(browser, dict) else {}


def _holds(rep: dict[str, Any], sha: str) -> bool:
    held = rep.get("held")
    return isinstance(held, list) and sha in held


def model_data(conv: Converted, rep: dict[str, Any]) -> dict[str, Any]:
    """The model's part of the element's data: its metadata, and its bytes only if the browser lacks them."""
    model = conv.model
    meta = model.metadata()
    meta["bytes_b64"] = None if _holds(rep, model.sha256) else conv.bytes_b64
    return meta


def directions_data(found: directions.Directions, noise: str) -> dict[str, Any]:
    """The principal directions as plain arrays (the browser moves along them: Directions.move/coordinates)."""
    return {
        "vectors": found.vectors.astype(np.float64).tolist(), "z_std": found.z_std.astype(np.float64).tolist(),
        "centre": latent_space.centre(noise),
        "labels": [f"PC{i + 1} · {share:.1%}" for i, share in enumerate(found.explained)],
        "helps": [f"Moves z along principal direction {i + 1} of the generator's first hidden layer, in standard "
                  f"deviations of the noise; {share:.1%} is its share of that layer's variance."
                  for i, share in enumerate(found.explained)],
        "caption": f"The top {found.k} directions explain {found.explained.sum():.0%} of the variance of "
                   f"{found.layer} over {found.n} samples (GANSpace: PCA of the layer, regressed back onto z).",
    }


def released(state: LatentState, generator: Generator, payload: Any) -> bool:
    """The browser's release: z, psi and class, checked, into the page's state. False if it does not fit."""
    if not isinstance(payload, dict):
        return False
    z, psi, cls = payload.get("z"), payload.get("psi"), payload.get("cls")
    try:
        z = np.array(z, np.float32)
        psi = float(psi)
    except (TypeError, ValueError):
        return False
    if z.shape != (generator.noise_dim,) or not np.isfinite(z).all() or not 0.0 <= psi <= latent_space.MAX_PSI:
        return False
    if generator.conditional and not (isinstance(cls, int) and 0 <= cls < generator.num_classes):
        return False
    state.from_browser(z, psi, cls if generator.conditional else None)
    return True


def _on_release(state: LatentState, generator: Generator) -> None:
    value = st.session_state.get(EDITOR_KEY)
    released(state, generator, getattr(value, "latent", None))


def warm_up() -> None:
    """Start the browser's runtime (a tiny model) before the page loads its generator: the wasm compile then runs
    while the server works. An invisible element in the sidebar; nothing where the session draws on the server."""
    if st.session_state.get(TOGGLE_KEY, in_browser_by_default()) and report().get("wasm") is not False:
        with st.sidebar:
            _mount()(key=WARM_KEY, data={"mode": "warm"})


class Editor:
    """Where the page's editor runs this time: in the browser, pending (the server path shows meanwhile), or on
    the server with a reason."""

    def __init__(self, generator: Generator, state: LatentState):
        self.generator, self.state = generator, state
        self.reason = ""
        self.wanted = st.session_state.get(TOGGLE_KEY, in_browser_by_default())
        self.report = report()
        self.conv: Converted | None = None
        if not self.wanted:
            return
        if self.report.get("wasm") is False:
            self.reason = widgets.md_text(self.report.get("why") or "this browser has no WebAssembly")
            return
        self.conv = converted(generator)
        if self.conv.model is None:
            self.reason = widgets.md_text(self.conv.error)
            return
        failed = self.report.get("failed")
        why = failed.get(self.conv.model.sha256) if isinstance(failed, dict) else None
        if why:
            self.reason = widgets.md_text(why)

    @property
    def active(self) -> bool:
        """The browser draws (from the first run on: it says so if it cannot, and the next run falls back)."""
        return bool(self.wanted and not self.reason and self.conv is not None)

    @property
    def held(self) -> bool:
        """The browser reported holding this generator's model: its bytes are not sent again."""
        model = self.conv.model if self.conv is not None else None
        return model is not None and _holds(self.report, model.sha256)

    def show(self, found: directions.Directions | None, directions_error: str, slider_modes, dims_per_page: int,
             z_range, pc_range: float, pc_step: float) -> None:
        """The toggle and the element (while wanted); the fallback line when there is a reason."""
        st.toggle("Morph in this browser", value=in_browser_by_default(), key=TOGGLE_KEY,
                  help="Runs the generator in this browser (WebAssembly) on every slider move, so the image follows "
                       "the thumb; off: the server draws each move, as before")
        if not self.wanted:
            return
        if self.reason:
            st.caption(f":material/info: Drawn on the server: {self.reason}")
            return
        mount = _mount()
        g, state = self.generator, self.state
        label, _, _ = state.origin()
        data = {
            "mode": "editor", "report": self.report, "model": model_data(self.conv, self.report),
            "z": state.z.astype(np.float64).tolist(), "origin_z": state._get("z_origin")[2].astype(np.float64).tolist(),
            "origin_label": label, "psi": state.psi, "cls": state.current_class(g), "max_psi": latent_space.MAX_PSI,
            "class_title": "Digit" if g.num_classes == 10 and g.class_name(9) == "9" else "Class",
            "class_names": [g.class_name(i) for i in range(g.num_classes)],
            "slider_modes": list(slider_modes), "dims_per_page": dims_per_page, "z_range": list(z_range),
            "pc_range": pc_range, "pc_step": pc_step,
            "directions": directions_data(found, g.noise) if found is not None else None,
            "directions_error": directions_error, "display_px": widgets.IMAGE_SIDE_PX, "tile_px": TILE_PX,
            "tiles": True, "release_ms": RELEASE_MS,
        }
        mount(key=EDITOR_KEY, data=data, on_browser_change=lambda: None,
              on_latent_change=functools.partial(_on_release, state, g))


def walk(editor: Editor, a: np.ndarray, b: np.ndarray, mode: str, cls: int | None, caption: str) -> None:
    """The walk from a to b drawn in the browser, a frame per display refresh (only where the editor is active:
    it shares the editor's model, already in the page)."""
    if not editor.active or not editor.held:
        return
    meta = editor.conv.model.metadata()
    meta["bytes_b64"] = None
    _mount()(key=WALK_KEY, data={
        "mode": "walk", "report": editor.report, "model": meta, "a": a.astype(np.float64).tolist(),
        "b": b.astype(np.float64).tolist(), "walk_mode": mode, "cls": cls, "walk_caption": caption,
        "display_px": widgets.IMAGE_SIDE_PX, "play_seconds": PLAY_SECONDS})
