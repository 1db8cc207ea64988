"""Widgets shared by the pages: run and generator pickers, cached loading, errors as messages, save-on-download."""
from __future__ import annotations

import base64
import contextlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import streamlit as st

from gan_core import storage, tasks, uploads
from gan_core.errors import GanError, ResourceError, first_line, resource_errors
from gan_core.files import pictures
from gan_core.files.disk import atomic_write_bytes
from gan_core.inference import Generator, Translator
from gan_core.markup import code_span, md_text  # the pages' one way to put a name into Markdown
from gan_core.runs import (
    RunDir,
    Skipped,
    default_runs_dir,
    is_shipped,
    sanitize_name,
    scan_pretrained,
    scan_runs,
)

DEFAULT_PRETRAINED = "mnist_dcgan"  # what a fresh checkout explores first, whatever else pretrained/ holds
DEFAULT_TRANSLATOR = "pix2pix_edges_digits"  # and what the Translate page opens on
IMAGE_SIDE_PX = 256  # generated images are shown about this big, pixels kept sharp (nearest neighbour)
_STATE_COLOURS = {"starting": "blue", "running": "blue", "done": "green", "failed": "red", "stopped": "orange",
                  "interrupted": "orange"}
log = logging.getLogger(__name__)


def show_error(exc: Exception) -> None:
    """An error in place on the page. A GanError (the user can act on it) is its one-line message; anything else
    is a bug: a message naming it, its traceback in an expander and in the server's log, to report (the page
    shows the traceback only where client.showErrorDetails is "full", as Streamlit does for its own)."""
    if isinstance(exc, GanError):
        st.error(md_text(exc), icon=":material/error:")
        return
    log.error("unexpected error on a page", exc_info=exc)
    if str(st.get_option("client.showErrorDetails")).lower() not in ("full", "true"):
        # Serving others (README, Docker): st.exception would ignore this setting and show server paths.
        st.error("Something went wrong (a bug, not your input); the server's log has the details.",
                 icon=":material/bug_report:")
        return
    st.error(f"Something went wrong (a bug, not your input): {md_text(first_line(exc))}. The details below and in "
             "the server's log say where; please report them.", icon=":material/bug_report:")
    st.exception(exc)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show an error raised inside as `show_error` does, in place; the rest of the page still renders."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 -- shown, never hidden: a non-GanError keeps its traceback
        show_error(exc)


def skipped_records_note(runs: Sequence[RunDir], shown: int = 3) -> None:
    """A warning naming the records of `runs`' metrics.jsonl and quality.jsonl that were skipped as unreadable (a
    hand-edited or damaged line), so that a chart with a gap says why; nothing when every record reads."""
    notes = [f"{run.name}: {note}" for run in runs for note in run.record_notes()]
    if notes:
        more = f" (and {len(notes) - shown} more)" if len(notes) > shown else ""
        st.warning(md_text(f"Skipped {len(notes)} unreadable record(s): " + "; ".join(notes[:shown]) + more),
                   icon=":material/warning:")


def runs_dir() -> Path:
    return default_runs_dir()


def skipped_notes(skipped: Skipped) -> None:
    """One caption per folder left out of a listing, naming it (as code) and why: one bad folder never breaks
    a page, and its owner learns which one to fix."""
    for run, problem in skipped:
        st.caption(f":material/warning: Skipped {code_span(run.name)}: {md_text(problem)}")  # it quotes config.json


def listed_runs() -> list[RunDir]:
    """The runs folder's usable runs, oldest first, with a note for each skipped folder."""
    found, skipped = scan_runs(runs_dir())
    skipped_notes(skipped)
    return found


def listed_pretrained() -> list[RunDir]:
    """The usable pretrained models, with a note for each skipped folder."""
    found, skipped = scan_pretrained()
    skipped_notes(skipped)
    return found


def is_pretrained(run: RunDir) -> bool:
    """Outside the runs folder, or a shipped model wherever it is listed (a link in the runs folder): read-only."""
    return run.path.parent.resolve() != runs_dir().resolve() or is_shipped(run.path)


def state_colour(state: str) -> str:
    """The badge colour of a run state, the same on every page."""
    return _STATE_COLOURS.get(state, "gray")


def run_label(run: RunDir) -> str:
    """What a picker shows for a run: name, state and progress, or 'pretrained'."""
    if is_pretrained(run):
        return f"{run.name} (pretrained)"
    status = run.status()
    return f"{run.name} · {status.get('state', '?')} · epoch {status.get('epoch', 0)}/{status.get('epochs', '?')}"


def pick_run(label: str, runs: Sequence[RunDir], key: str, default: RunDir | None = None,
             with_state: bool = True) -> RunDir:
    """A selectbox of runs, newest first; `default` (else the newest) is selected until the user picks.

    `with_state=False` labels runs by name alone, where a live view beside it shows the state as it changes."""
    options = list(reversed(runs))
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else options[0]
    return st.selectbox(label, options, format_func=run_label if with_state else lambda run: run.name, key=key)


def exports_dir(run: RunDir | None, name: str) -> Path:
    """Where exports are also written: the run's exports/, else (pretrained, uploads) under the runs folder."""
    if run is not None and not is_pretrained(run):
        return run.exports_dir
    return runs_dir() / "_exports" / sanitize_name(name)


# --- generators -------------------------------------------------------------------------------------

@st.cache_resource(max_entries=8, show_spinner="Loading the generator…")
def _cached_generator(path: str, mtime_ns: int, config_json: str) -> Generator:
    """One loaded (and traced) generator per file version, shared by every session; mtime_ns keys a rewrite."""
    return Generator.load(path, config=json.loads(config_json) or None)


def load_generator(path: Path, config: dict | None = None) -> Generator:
    return _cached_generator(str(path), path.stat().st_mtime_ns, json.dumps(config or {}, sort_keys=True))


@dataclass(frozen=True)
class GeneratorChoice:
    generator: Generator
    name: str  # for file names, e.g. "00003-mnist_epoch0005"
    exports_dir: Path


def generator_picker(key: str) -> GeneratorChoice | None:
    """Pick a run at a saved epoch, a pretrained model or an uploaded .keras file; None (with the reason) if none."""
    try:
        return _pick_generator(key)
    except Exception as exc:  # noqa: BLE001 -- e.g. a .keras file that is not a generator (a ModelError)
        show_error(exc)
        return None


def page_generator(key: str, title: str) -> GeneratorChoice:
    """The sidebar's generator picker for a page that needs one; stops the page with a hint while there is none."""
    with st.sidebar:
        choice = generator_picker(key)
    st.title(title)
    if choice is None:
        st.info("Pick a generator in the sidebar: a training run at a saved epoch, a pretrained model, or a .keras "
                "file.", icon=":material/info:")
        st.stop()
    return choice


def _pick_generator(key: str) -> GeneratorChoice | None:
    runs = [r for r in listed_runs() if r.generator_epochs() and tasks.of_run(r).draws_from_noise]
    # translators open on the Translate page
    pretrained = [m for m in listed_pretrained() if tasks.of_run(m).draws_from_noise]
    sources = ["Training run", "Pretrained", "Upload .keras"]
    default = 0 if runs else 1 if pretrained else 2
    source = st.radio("Generator", sources, index=default, key=f"{key}_source", horizontal=True)
    if source == "Upload .keras":
        return _uploaded_generator(key)
    candidates = runs if source == "Training run" else pretrained
    if not candidates:
        st.info("No training run has saved a generator yet: start one on the **Train** page, or upload a .keras file."
                if source == "Training run" else "No pretrained models are installed (see pretrained/README.md).")
        return None
    default = None if source == "Training run" else next(
        (m for m in pretrained if m.name == DEFAULT_PRETRAINED), None)
    run = pick_run("Run" if source == "Training run" else "Model", candidates, key=f"{key}_run", default=default)
    epochs = run.generator_epochs()
    epoch = epochs[-1]
    if len(epochs) > 1:
        epoch = st.select_slider("Epoch", epochs, value=epochs[-1], key=f"{key}_epoch_{run.name}")
    generator = load_generator(run.generator_path(epoch), run.config_dict())
    name = f"{run.name}_epoch{epoch:04d}"
    return GeneratorChoice(generator, name, exports_dir(run, name))


def _uploaded_generator(key: str) -> GeneratorChoice | None:
    upload = st.file_uploader("Generator file", type=["keras"], key=f"{key}_upload",
                              help="A Keras 3 generator saved with model.save('generator.keras'). It is loaded in "
                                   "Keras's safe mode, so no code from the file runs.")
    if upload is None:
        st.info("Upload a .keras generator to explore it.")
        return None
    path = uploads.store_generator_file(upload.getvalue(), upload.name, runs_dir())
    with storage.discarded_on_error(path, runs_dir()):  # a file that is not a generator is not kept
        generator = load_generator(path)
    name = f"upload-{sanitize_name(Path(upload.name).stem)}"
    return GeneratorChoice(generator, name, exports_dir(None, name))


# --- translators (image-to-image models) ------------------------------------------------------------

@st.cache_resource(max_entries=6, show_spinner="Loading the model…")
def _cached_translators(run_path: str, epoch: int, mtime_ns: int) -> dict[str, Translator]:
    """A run's translators at one epoch, loaded once per file version and shared by every session."""
    return tasks.load(RunDir(run_path), epoch)


@dataclass(frozen=True)
class TranslatorChoice:
    run: RunDir
    epoch: int
    translators: dict[str, Translator]
    name: str  # for file names, e.g. "pix2pix_edges_digits_epoch0005"
    exports_dir: Path


def translator_picker(key: str) -> TranslatorChoice | None:
    """Pick an image-to-image model (a run at a saved epoch, or a pretrained one); None (with a hint) if none."""
    runs = [r for r in listed_runs() if r.generator_epochs() and not tasks.of_run(r).draws_from_noise]
    pretrained = [m for m in listed_pretrained() if not tasks.of_run(m).draws_from_noise]
    if not runs and not pretrained:
        st.info("No image-to-image model yet: train a `pix2pix_...` or `cyclegan_...` preset on the **Train** page "
                "(pretrained ones ship in pretrained/).", icon=":material/info:")
        return None
    candidates = pretrained + runs
    run = pick_run("Model", candidates, key=f"{key}_run",
                   default=next((m for m in pretrained if m.name == DEFAULT_TRANSLATOR), None))
    epochs = run.generator_epochs()
    epoch = epochs[-1]
    if len(epochs) > 1:
        epoch = st.select_slider("Epoch", epochs, value=epochs[-1], key=f"{key}_epoch_{run.name}")
    try:
        path = run.generator_path(epoch)
        translators = _cached_translators(str(run.path), epoch, path.stat().st_mtime_ns)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return None
    name = f"{run.name}_epoch{epoch:04d}"
    return TranslatorChoice(run, epoch, translators, name, exports_dir(run, name))


# --- images and downloads ----------------------------------------------------------------------------

def display_scale(side: int) -> int:
    """Whole-pixel scale factor that shows an image `side` pixels wide at about IMAGE_SIDE_PX."""
    return max(1, round(IMAGE_SIDE_PX / side))


def upscaled_png(image: np.ndarray, scale: int) -> bytes:
    return pictures.png_bytes(pictures.upscale(image, scale))


def png_data_url(image: np.ndarray, scale: int) -> str:
    """`image` upscaled as a PNG inside a data: URL, for an st.image that changes on every slider move.

    Why: st.image of bytes stores them in Streamlit's media store and the browser then fetches them over HTTP
    from this same (busy) Python process, after Streamlit has re-opened them with PIL to check their size; a
    small inline PNG arrives with the element itself. Equal images give equal URLs, as media URLs do."""
    return "data:image/png;base64," + base64.b64encode(upscaled_png(image, scale)).decode("ascii")


def download_and_save(label: str, data: bytes, file_name: str, mime: str, folder: Path, key: str) -> None:
    """A download button that also writes the file under `folder` when clicked, and then says where."""
    name = Path(file_name)  # made from run and upload names: keep it one safe path component
    suffix = f".{sanitize_name(name.suffix, max_length=10)}" if name.suffix else ""
    target = folder / (sanitize_name(name.stem, max_length=150) + suffix)
    state_key = f"{key}_saved"

    def save() -> None:
        try:
            with resource_errors(f"saving a copy to {target}"):  # a full disk, a folder this user cannot write
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(target, data)
            st.session_state[state_key] = ("ok", str(target))
        except ResourceError as exc:
            st.session_state[state_key] = ("error", f"could not save a copy: {exc}")

    st.download_button(label, data, file_name=file_name, mime=mime, on_click=save, key=key)
    outcome, message = st.session_state.get(state_key, (None, ""))
    if outcome == "ok" and message == str(target):
        st.caption(f":material/check: Saved a copy to {md_text(message)}")
    elif outcome == "error":
        st.error(md_text(message))
    else:
        st.caption(f"Downloads are also saved under {md_text(folder)}")
