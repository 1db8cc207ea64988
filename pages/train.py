"""Train: start a run in its own process, then watch it live from its run directory (this page never trains)."""
from collections import deque
from typing import Any

import streamlit as st

from explorer_ui import config_form, use_app_navigation, widgets
from gan_core import (
    config,
    launch,
    models,
    preflight,
    storage,
    tasks,
    uploads,
)
from gan_core.algorithm import objectives
from gan_core.cli import format_seconds
from gan_core.config import SETTINGS, from_preset, preset_config
from gan_core.devices import describe_devices, resolve_precision
from gan_core.errors import DataError
from gan_core.files import pictures
from gan_core.runs import COPY_COMMAND, RunDir, epoch_label, is_shipped, read_quality, run_warnings, training_charts
from gan_core.runs.metrics_tail import MetricsTail

use_app_navigation()  # before anything renders: see its docstring

SOURCES = {"MNIST": "mnist", "Fashion-MNIST": "fashion_mnist", "Image folder": "folder", "Zip of images": "zip"}
RESUMABLE = ("stopped", "interrupted", "failed", "done")
RUN_KEY = "train_run"
LOG_TAIL_LINES = 40


def new_run_form() -> None:
    """Preset and data source outside the form (they change which fields and defaults show); inside it, one widget
    per setting of the run's sections (explorer_ui.config_form), each starting at the preset's value."""
    presets = models.preset_names()
    preset = st.selectbox("Preset", presets, index=presets.index("mnist_dcgan"))
    recipe = models.preset(preset)
    p = preset_config(preset).to_dict()  # a preset names only the fields it sets; the rest are their defaults
    task = tasks.get(models.get(recipe.architecture).task)
    owned = task.section.names()
    st.caption(f"{recipe.summary}. Architecture `{recipe.architecture}`: {task.made_of(p)}.")
    labels = list(SOURCES)
    default_source = next(label for label, value in SOURCES.items() if value == p["dataset"])
    source = SOURCES[st.radio("Domain A images" if "dataset_b" in owned else "Training images", labels,
                              index=labels.index(default_source), horizontal=True)]
    pairing = config_form.widget(st, SETTINGS["pairing"], p["pairing"]) if "pairing" in owned else None
    source_b = None
    if "dataset_b" in owned:
        labels_b = [label for label, value in SOURCES.items() if value != "zip"]
        default_b = next(label for label, value in SOURCES.items() if value == p["dataset_b"])
        source_b = SOURCES[st.radio("Domain B images", labels_b, index=labels_b.index(default_b), horizontal=True)]

    with st.form("new_run"):
        upload, data_path, data_b = data_inputs(source, source_b)
        chosen = config_form.settings_fields(
            (config.RUN, task.section), p,
            notes={config.GROUPS[-1]: f"TensorFlow sees: **{widgets.md_text(describe_devices())}**"},
            help_notes={"precision": f"Here auto means **{resolve_precision('auto')[0]}**"})
        submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")

    if submitted:
        with widgets.user_errors():
            new_upload = None
            if source == "zip":
                if upload is None:
                    raise DataError("choose a zip of images to upload first")
                extracted = uploads.store_images_zip(upload.getvalue(), widgets.runs_dir())
                st.caption(f"{extracted.n_images} images extracted to {widgets.md_text(extracted.folder)}")
                data_path = str(extracted.folder)
                new_upload = extracted.folder if extracted.created else None
            with storage.discarded_on_error(new_upload, widgets.runs_dir()):  # a refused start keeps no upload
                cfg = from_preset(preset, {
                    **chosen, "dataset": "folder" if source == "zip" else source, "data": data_path.strip() or None,
                    "name": chosen["name"] or None, "dataset_b": source_b,
                    "data_b": data_b, "pairing": pairing,
                })
                preflight.check(cfg)  # missing data or models too big: refused before a run folder exists
                run = launch.start(cfg, widgets.runs_dir())
            st.session_state[RUN_KEY] = run  # the live view follows the new run
            st.success(f"Started **{widgets.md_text(run.name)}** in its own process; it keeps training if you close "
                       "this tab.")


def data_inputs(source: str, source_b: str | None) -> tuple[Any, str, str | None]:
    """Where the picked sources' images are: (the uploaded zip or None, domain A's path, domain B's path or None)."""
    upload, data_path, data_b = None, "", ""
    if source in ("mnist", "fashion_mnist"):
        data_path = st.text_input(
            "Data file or folder (optional)", placeholder="standard location",
            help="Keras's .npz, a train-images-idx3-ubyte[.gz] file, or a folder holding one. Empty: "
                 "$GAN_EXPLORER_DATA, /usr/share/datasets, ~/.keras/datasets, else a Keras download.")
    elif source == "folder":
        data_path = st.text_input("Image folder on this machine", placeholder="/data/img_align_celeba",
                                  help="Every image under it (recursively) is centre-cropped and resized.")
    else:
        upload = st.file_uploader("Zip of images", type=["zip"],
                                  help="Extracted safely under the runs folder; non-image files are ignored.")
    if source_b == "folder":
        data_b = st.text_input("Domain B image folder on this machine", placeholder="/data/other_images")
    elif source_b is not None:
        data_b = st.text_input("Domain B data file or folder (optional)", placeholder="standard location")
    return upload, data_path, data_b.strip() or None


def log_tail(run: RunDir) -> str:
    try:
        with open(run.log_path, encoding="utf-8", errors="replace") as f:
            return "".join(deque(f, maxlen=LOG_TAIL_LINES))
    except OSError:
        return ""


@st.cache_resource(max_entries=8, show_spinner=False)
def metrics_tail(run_path: str) -> MetricsTail:
    """One incremental reader of a run's metrics.jsonl, shared by every session: a refresh parses only the records
    appended since the last one and draws at most a few thousand points, however long the run."""
    return MetricsTail(RunDir(run_path).metrics_path)


@st.fragment(run_every=1.0)
def live_view(run_path: str) -> None:
    """Redrawn every second from the run directory alone, so any tab shows the same run the same way."""
    run = RunDir(run_path)
    status = run.status()
    state = status.get("state", "missing")
    epochs = status.get("epochs") or run.config_dict().get("epochs", "?")
    step, total = status.get("step", 0), status.get("total_steps")

    # every value here comes from disk (a folder name, status.json): shown as text, never as markup
    st.markdown(f"**{widgets.md_text(run.name)}** :{widgets.state_colour(state)}-badge[{widgets.md_text(state)}]")
    if status.get("device"):
        st.caption(widgets.md_text(status["device"]))
    st.progress(min(1.0, step / total) if total else 0.0,
                text=widgets.md_text(f"{epoch_label({**status, 'epochs': epochs})} · step {step}/{total or '?'}"))
    numbers = st.columns(4)
    running = state == "running"
    numbers[0].metric("Images/s", f"{status['images_per_sec']:.0f}" if running and "images_per_sec" in status
                      else "–")
    numbers[1].metric("ETA", format_seconds(status.get("eta_s")) if running and "eta_s" in status else "–")
    numbers[2].metric("G loss", f"{status['g_loss']:.3f}" if "g_loss" in status else "–")
    numbers[3].metric("D loss", f"{status['d_loss']:.3f}" if "d_loss" in status else "–")

    controls(run, state)
    if state == "starting":
        st.info("Starting: loading TensorFlow, building the models and reading the data…",
                icon=":material/hourglass:")
    elif state == "failed":
        st.error(f"Training failed: {widgets.md_text(status.get('error') or 'no message')}", icon=":material/error:")
    elif state == "interrupted":
        ended = launch.last_exit(run)  # known when this server launched it: e.g. killed by SIGKILL
        st.warning(f"The trainer process is gone without finishing ({ended or 'killed or crashed'}); resume to "
                   "continue from the last checkpoint.", icon=":material/warning:")
    if state in ("failed", "interrupted"):
        with st.expander("Trainer log (last lines)", expanded=True):
            st.code(log_tail(run) or status.get("traceback") or "(no log)", language="text")

    tail = metrics_tail(run_path)
    series = tail.series_now()
    for warning in run_warnings(tail.discriminator(), read_quality(run)):  # mode collapse, a D that has won
        st.warning(widgets.md_text(warning), icon=":material/crisis_alert:")  # they quote quality.jsonl
    chart, grid = st.columns([3, 2])
    if series:
        balance = run.balance_point()  # where the curves sit once D cannot tell (None: no such point)
        reading = objectives.reading(tail.d_reading)  # what D(x) and D(G(z)) are: a probability or a score
        chart.plotly_chart(training_charts.series_figure(series, reference=balance, reading=reading),
                           config={"displayModeBar": False})
        chart.caption(training_charts.training_note(balance))
    else:
        chart.caption("Loss curves appear after the first training steps.")
    epochs_with_grid = run.sample_epochs()
    if epochs_with_grid:
        grid.image(widgets.upscaled_png(pictures.read_png(run.sample_path(epochs_with_grid[-1])), 3), width="stretch",
                   output_format="PNG", caption=f"{tasks.of_run(run).grid_caption} after epoch "
                                               f"{epochs_with_grid[-1]}")
    else:
        grid.caption("The sample grid appears once the models are built.")


def controls(run: RunDir, state: str) -> None:
    if state in ("starting", "running"):
        if not run.stop_requested() and st.button("Stop", icon=":material/stop:", key=f"stop_{run.name}"):
            run.request_stop()
        if run.stop_requested():
            st.caption("Stop requested: the trainer finishes its step, checkpoints and stops.")
    elif state in RESUMABLE and is_shipped(run.path):  # e.g. a link to pretrained/X in the runs folder
        st.info(f"{widgets.md_text(run.name)} is a shipped pretrained model, read-only: to train it, copy it into a "
                f"run with {widgets.md_text(f'{COPY_COMMAND} {run.path}')} and start that run over.",
                icon=":material/lock:")
    elif state in RESUMABLE:
        target = int(run.config_dict().get("epochs", 1))
        done = state == "done"
        left, right = st.columns([1, 2], vertical_alignment="bottom")
        to_epoch = left.number_input("Train to epoch", min_value=target + done, value=target + done * 5,
                                     key=f"resume_epochs_{run.name}")
        if right.button("Train more" if done else "Resume", icon=":material/play_arrow:", key=f"resume_{run.name}"):
            with widgets.user_errors():
                launch.resume(run, epochs=int(to_epoch) if to_epoch != target else None)
                st.toast(f"Resumed {widgets.md_text(run.name)}")
        with st.popover("Start over", icon=":material/restart_alt:"):
            st.caption("Train this run again from epoch 0 with its config. Nothing is deleted: its grids, generators, "
                       "checkpoints and logs so far move to its attempts/ folder.")
            if st.button("Start over from epoch 0", key=f"restart_{run.name}"):
                with widgets.user_errors():
                    launch.resume(run, epochs=int(to_epoch) if to_epoch != target else None, restart=True)
                    st.toast(f"Started {widgets.md_text(run.name)} over")


st.title("Train")
form_column, live_column = st.columns([1, 2], gap="large")
with form_column:
    st.subheader("New run")
    new_run_form()
with live_column:
    st.subheader("Live view")
    runs = widgets.listed_runs()
    if not runs:
        st.info("No runs yet: fill in the form and press **Start training**.", icon=":material/info:")
    else:
        active = launch.active_runs(widgets.runs_dir())
        run = widgets.pick_run("Run", runs, key=RUN_KEY, default=active[0] if active else None, with_state=False)
        live_view(str(run.path))
