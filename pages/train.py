"""Train: start a run in its own process, then watch it live from its run directory (this page never trains)."""
from collections import deque

import streamlit as st

from explorer_ui import use_app_navigation, widgets
from gan_core import (
    devices,
    launch,
    models,
    preflight,
    storage,
    tasks,
    uploads,
)
from gan_core.files import pictures
from gan_core.algorithm import objectives
from gan_core.cli import format_seconds
from gan_core.algorithm.augment import POLICIES, parse_policy
from gan_core.config import JIT_COMPILES, NOISES, PAIRINGS, PRECISIONS, UPDATES, TrainConfig, from_preset
from gan_core.errors import DataError
from gan_core.runs import training_charts
from gan_core.runs.metrics_tail import MetricsTail
from gan_core.runs import COPY_COMMAND, RunDir, epoch_label, is_shipped, read_quality, run_warnings
from gan_core.devices import describe_devices, resolve_precision

use_app_navigation()  # before anything renders: see its docstring

SOURCES = {"MNIST": "mnist", "Fashion-MNIST": "fashion_mnist", "Image folder": "folder", "Zip of images": "zip"}
PAIRING_LABELS = {"edges": "edges → image (Sobel edge map)", "grayscale": "grayscale → colour",
                  "masked": "masked → full (fill a hole)", "side_by_side": "A|B files, side by side (left → right)"}
RESUMABLE = ("stopped", "interrupted", "failed", "done")
RUN_KEY = "train_run"
LOG_TAIL_LINES = 40
JIT_HELP = ("auto: on with a GPU (fusing the step's small ops usually pays there; not measured here, no GPU), off "
            "on a CPU, where XLA measured about 0.55x the images/s (mnist_dcgan, bench/train_throughput.py). on/off "
            "force it. XLA or not trains the same weights (tests/test_xla.py), bar Dropout's random masks")


def new_run_form() -> None:
    """Preset and data source outside the form (they change which fields and defaults show), the rest inside."""
    presets = models.preset_names()
    preset = st.selectbox("Preset", presets, index=presets.index("mnist_dcgan"))
    recipe = models.preset(preset)
    p = {**TrainConfig().to_dict(), **recipe.values}  # a preset names only the fields it sets
    task = tasks.get(models.get(recipe.architecture).task)
    st.caption(f"{recipe.summary}. Architecture `{recipe.architecture}`: {task.made_of(p)}.")
    labels = list(SOURCES)
    default_source = next(label for label, value in SOURCES.items() if value == p["dataset"])
    source = SOURCES[st.radio("Domain A images" if "dataset_b" in task.config_fields else "Training images", labels,
                              index=labels.index(default_source), horizontal=True)]
    pairing = source_b = None
    if "pairing" in task.config_fields:
        pairing = st.selectbox("Pairing (what each input is)", PAIRINGS, index=PAIRINGS.index(p["pairing"]),
                               format_func=lambda k: PAIRING_LABELS[k],
                               help="Pairs made from single images (edges, grayscale, masked), or a folder whose "
                                    "files each hold an input and its target side by side (A|B)")
    elif "dataset_b" in task.config_fields:
        labels_b = [label for label, value in SOURCES.items() if value != "zip"]
        default_b = next(label for label, value in SOURCES.items() if value == p["dataset_b"])
        source_b = SOURCES[st.radio("Domain B images", labels_b, index=labels_b.index(default_b), horizontal=True)]

    with st.form("new_run"):
        upload, data_path = None, ""
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
        data_b = ""
        if source_b == "folder":
            data_b = st.text_input("Domain B image folder on this machine", placeholder="/data/other_images")
        elif source_b is not None:
            data_b = st.text_input("Domain B data file or folder (optional)", placeholder="standard location")
        left, right = st.columns(2)
        epochs = left.number_input("Epochs", 1, 100_000, p["epochs"])
        batch_size = right.number_input("Batch size", 1, 8192, p["batch_size"])
        g_lr = left.number_input("G learning rate", 1e-6, 0.5, float(p["g_lr"]), step=1e-5, format="%.5f")
        d_lr = right.number_input("D learning rate", 1e-6, 0.5, float(p["d_lr"]), step=1e-5, format="%.5f")
        noise_dim = left.number_input("Noise dimensions", 1, 2048, p["noise_dim"]) if task.draws_from_noise else None
        precision = right.selectbox("Precision", PRECISIONS, help=(
            "auto: mixed_bfloat16 where this machine computes bfloat16 natively (GPUs of compute capability 8.0+, "
            f"CPUs with AVX512-BF16 or AMX) and float32 elsewhere; here it means **{resolve_precision('auto')[0]}**. "
            "mixed_float16 is for GPUs only."))
        snapshot_every = left.number_input("Snapshot grid every (epochs)", 1, 10_000, 1)
        checkpoint_every = right.number_input("Checkpoint every (epochs)", 1, 10_000, 1)
        eval_every = left.number_input(
            "Measure quality every (epochs)", 0, 10_000, 0,
            help="0 = off. Scores the epoch's generator against real data (classifier-FID and class coverage for "
                 "digits, SWD for image folders) into the run's quality.jsonl; the Snapshots page charts it. Costs "
                 "seconds for digits, a minute or two for faces")
        limit = right.number_input("Use only the first N images", min_value=1, value=None, placeholder="all")
        name = left.text_input("Run name", placeholder=preset)
        knobs = gan_knobs(p) if task.draws_from_noise else {}
        device, strategy, jit_compile = device_fields(p)
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
                    "dataset": "folder" if source == "zip" else source, "data": data_path.strip() or None,
                    "epochs": epochs, "batch_size": batch_size, "g_lr": g_lr, "d_lr": d_lr, "noise_dim": noise_dim,
                    "precision": precision, "device": device, "strategy": strategy, "jit_compile": jit_compile,
                    "snapshot_every": snapshot_every, "checkpoint_every": checkpoint_every,
                    "eval_every": eval_every, "name": name.strip() or None, "limit": limit,
                    "pairing": pairing, "dataset_b": source_b, "data_b": data_b.strip() or None, **knobs,
                })
                preflight.check(cfg)  # missing data or models too big: refused before a run folder exists
                run = launch.start(cfg, widgets.runs_dir())
            st.session_state[RUN_KEY] = run  # the live view follows the new run
            st.success(f"Started **{widgets.md_text(run.name)}** in its own process; it keeps training if you close "
                       "this tab.")


UPDATE_LABELS = {"simultaneous": "simultaneous (the TF DCGAN tutorial: one pass, both update)",
                 "alternating": "alternating (the two faces notes: D first, then G through the new D)"}


def gan_knobs(p: dict) -> dict:
    """The options the reference notes discuss, preset values first: the objective, label smoothing, Adam's
    beta_1, the noise, D:G steps, the update order, gradient clipping, EMA of G, DiffAugment and the grid."""
    with st.expander("GAN options (the notes' knobs)", icon=":material/tune:"):
        left, right = st.columns(2)
        losses = objectives.names()
        loss = left.selectbox("Loss", losses, index=losses.index(p["loss"]),
                              help="; ".join(f"{n}: {objectives.get(n).summary}" for n in losses))
        real_label = right.number_input(
            "Real label (label smoothing)", 0.51, 1.0, float(p["real_label"]), step=0.05, format="%.2f",
            help="D's target for real images: 1 = none; 0.9 is one-sided smoothing (the colour faces note). "
                 "bce and lsgan only")
        beta_1 = left.number_input("Adam β1", 0.0, 0.999, float(p["beta_1"]), step=0.1, format="%.2f",
                                   help="0.5 is DCGAN's choice; Keras's default 0.9 (the TF DCGAN tutorial)")
        noise = right.selectbox("Noise distribution", NOISES, index=NOISES.index(p["noise"]))
        d_steps = left.number_input("D steps per G step", 1, 100, int(p["d_steps"]),
                                    help="k: G learns on every k-th batch, D on all (WGAN's n_critic is 5)")
        update = right.selectbox("Update order", UPDATES, index=UPDATES.index(p["update"]),
                                 format_func=UPDATE_LABELS.get)
        clip_norm = left.number_input("Gradient clipping (global norm, 0 = off)", 0.0, 1e6, float(p["clip_norm"]),
                                      step=0.5, help="the grayscale faces note's tip when losses explode: e.g. 1.0")
        ema_decay = right.number_input("EMA of G (decay, 0 = off)", 0.0, 0.99999, float(p["ema_decay"]),
                                       step=0.001, format="%.4f",
                                       help="the app shows a moving average of G's weights, e.g. 0.999: smoother")
        augment = left.multiselect("DiffAugment (before D)", POLICIES, default=list(parse_policy(p["augment"])),
                                   help="the same random augmentation of real and fake images: helps small data")
        grid = right.number_input("Snapshot grid (n x n)", 1, 32, int(p["grid"]))
    return {"loss": loss, "real_label": real_label, "beta_1": beta_1, "noise": noise, "d_steps": d_steps,
            "update": update, "clip_norm": clip_norm, "ema_decay": ema_decay, "augment": ",".join(augment),
            "grid": grid}


DEVICE_LABELS = {"auto": "auto (TensorFlow's first GPU, else the CPU)", "cpu": "CPU only"}
STRATEGY_LABELS = {"default": "default (one device)", "mirrored": "mirrored (every GPU of this machine)"}


def device_fields(p: dict) -> tuple[str, str, str]:
    """Where the run trains: what TensorFlow sees here, the device, the tf.distribute strategy and XLA."""
    with st.expander("Device and speed", icon=":material/memory:"):
        st.caption(f"TensorFlow sees: **{widgets.md_text(describe_devices())}**")
        choices = devices.train_device_choices()
        device = st.selectbox("Train on", choices, index=choices.index(p["device"]) if p["device"] in choices else 0,
                              format_func=lambda d: DEVICE_LABELS.get(d, d.upper()),
                              help="cpu keeps the GPU free (e.g. for the app); gpu:N trains on that GPU alone")
        strategy = st.selectbox(
            "Strategy (tf.distribute)", list(STRATEGY_LABELS), format_func=STRATEGY_LABELS.get,
            index=list(STRATEGY_LABELS).index(p["strategy"]) if p["strategy"] in STRATEGY_LABELS else 0,
            help="mirrored splits each batch over the GPUs (the CPU alone without one). Several machines "
                 "(multiworker) are launched one command per machine: README, Several machines")
        jit_compile = st.selectbox("XLA (jit_compile)", JIT_COMPILES, index=JIT_COMPILES.index(p["jit_compile"]),
                                   help=JIT_HELP)
    return device, strategy, jit_compile


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
