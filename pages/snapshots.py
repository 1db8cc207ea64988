"""Snapshots: a run's fixed-z grid epoch by epoch beside its loss and quality curves, played back or saved as a GIF;
and the layers of its G and D."""
import shlex

import streamlit as st

from explorer_ui import use_app_navigation, widgets
from gan_core import inference, runs
from gan_core.algorithm import objectives
from gan_core.explore import grids_and_gifs
from gan_core.files import pictures
from gan_core.runs import RunDir, quality_charts, training_charts

use_app_navigation()  # before anything renders: see its docstring

PLAYING_KEY = "snapshots_playing"
PLAY_INTERVAL_S = 0.7
GRID_SCALE = 3
TABLE_COLUMNS = {  # fixed widths: a long layer name is cut (in full on hover), the parameters always show
    "layer (type)": st.column_config.TextColumn(width=250),
    "output shape": st.column_config.TextColumn(width=130),
    "parameters": st.column_config.NumberColumn(width=90, format="localized"),
}


def toggle_playing() -> None:
    st.session_state[PLAYING_KEY] = not st.session_state.get(PLAYING_KEY, False)


@st.fragment(run_every=PLAY_INTERVAL_S if st.session_state.get(PLAYING_KEY) else None)
def viewer(run_path: str) -> None:
    """The epoch slider, its grid and the marked charts; while playing, each rerun moves the slider one epoch."""
    run = RunDir(run_path)
    epochs = run.sample_epochs()
    key = f"snapshots_epoch_{run.name}"
    if st.session_state.get(key) not in epochs:
        st.session_state[key] = epochs[-1]
    elif st.session_state.get(PLAYING_KEY):
        st.session_state[key] = epochs[(epochs.index(st.session_state[key]) + 1) % len(epochs)]
    if len(epochs) > 1:
        epoch = st.select_slider("Epoch", epochs, key=key, format_func=lambda e: f"{e}" if e else "0 (untrained)")
    else:
        epoch = epochs[0]
        st.caption(f"Only epoch {epoch} has a grid so far.")
    grid_column, chart_column = st.columns([1, 2])
    grid_column.image(widgets.upscaled_png(pictures.read_png(run.sample_path(epoch)), GRID_SCALE), output_format="PNG",
                      caption=f"epoch {epoch}" + (" (before training)" if epoch == 0 else ""))
    losses_tab, quality_tab, d_tab = chart_column.tabs(["Losses", "Quality", "What D sees"])
    windows, means = run.metrics("window"), run.metrics("epoch")
    if windows or means:
        reference = run.balance_point()  # dotted lines where the game is at balance, for objectives that have one
        losses_tab.plotly_chart(training_charts.training_figure(windows, means, mark_epoch=epoch, height=400,
                                                       reference=reference, reading=objectives.reading_of(windows)),
                                config={"displayModeBar": False})
        losses_tab.caption(training_charts.training_note(reference)
                           + " The dashed vertical line marks the grid's epoch.")
    else:
        losses_tab.caption("This model has no training metrics.")
    with quality_tab:
        quality_chart(run, epoch)
    with d_tab:
        what_d_sees(run, epoch)


def what_d_sees(run: RunDir, epoch: int) -> None:
    """D's verdicts over epochs, this epoch's histograms, and the grid's most and least real-looking cells."""
    records = run.metrics("discriminator")
    if not records:
        st.caption("This run has no record of D's verdicts: runs trained by this version log them at every grid "
                   "(latent GANs; pretrained models ship without D).")
        if run.checkpoints()[0] and st.button("Score this grid with the checkpoint's D", key=f"d_score_{run.name}"):
            with widgets.user_errors():
                scores, which = inference.grid_scores_from_checkpoint(run, epoch)
                best_and_worst(run, epoch, scores, f"Scored by {widgets.md_text(which)}, read-only.")
        return
    reading = objectives.reading_of(records)  # what D's score is: a probability, a least-squares or critic score
    st.plotly_chart(training_charts.discriminator_figure(records, mark_epoch=epoch, reading=reading),
                    config={"displayModeBar": False})
    st.caption(training_charts.d_view_note(reading))
    this = next((r for r in records if r["epoch"] == epoch), None)
    if this is None:
        st.caption(f"No record of D's verdicts at epoch {epoch}.")
        return
    left, right = st.columns([3, 2])
    left.plotly_chart(training_charts.score_histogram(this, reading=reading), config={"displayModeBar": False})
    n = widgets.md_text(this["n"])  # metrics.jsonl's: as text
    left.caption(f"Epoch {epoch}: D's accuracy {this['d_accuracy']:.0%} on {n} real and {n} fake "
                 f"images; the fakes' diversity {this.get('diversity', float('nan')):.2f}x the reals'.")
    with right:
        best_and_worst(run, epoch, this["grid_scores"])


def best_and_worst(run: RunDir, epoch: int, scores: list[float], note: str = "") -> None:
    """The grid's four most and four least real-looking cells to D, with their scores."""
    side = int(round(len(scores) ** 0.5))
    if not scores or side * side != len(scores):
        return
    with widgets.user_errors():
        cells = pictures.grid_cells(pictures.read_png(run.sample_path(epoch)), side, side)
        order = sorted(range(len(cells)), key=lambda i: scores[i])
        for title, picked in (("Most real-looking to D", order[::-1][:4]), ("Least real-looking", order[:4])):
            st.markdown(f"**{title}**")
            for column, i in zip(st.columns(4), picked):
                column.image(widgets.upscaled_png(cells[i], 3), output_format="PNG",
                             caption=f"seed {i}: {scores[i]:.2f}")
        if note:
            st.caption(note)


def quality_chart(run: RunDir, epoch: int) -> None:
    """The run's quality.jsonl over epochs, one panel per metric with its real-data floor, or how to measure it."""
    records = [r for r in runs.read_quality(run) if r.get("epoch") is not None]
    sizes = quality_charts.quality_sample_sizes(records)
    if not sizes:
        st.caption("No sample-quality measurements for this run yet. Score every saved epoch (a few minutes; safe "
                   f"while it trains), then come back: `{evaluate_command(run)}`")
        return
    n = sizes[0]
    if len(sizes) > 1:  # values measured at different n do not compare, so one n at a time
        n = st.selectbox("Images per set (n)", sizes, key=f"snapshots_quality_n_{run.name}",
                         help="Each evaluation's n; the metrics are biased by n, so only values at one n compare")
    st.plotly_chart(quality_charts.quality_figure(records, mark_epoch=epoch, n=n), config={"displayModeBar": False})
    st.caption(quality_charts.QUALITY_NOTE)


@st.cache_data(max_entries=16, show_spinner="Loading G and building D…")
def network_tables(run_path: str, version: tuple) -> list[inference.NetworkTable]:
    """The run's G and D as layer tables, made once per run and file version (`version`), shared by every session."""
    return inference.network_tables(RunDir(run_path))


def architecture(run: RunDir) -> None:
    """G's and D's layers, output shapes and parameters, loaded only while the expander is open."""
    box = st.expander("Architecture: the layers of G and D", key="snapshots_architecture", on_change="rerun",
                      icon=":material/account_tree:")
    if not box.open:
        return
    with box, widgets.user_errors():
        version = (run.config_path.stat().st_mtime_ns, tuple(run.generator_epochs()))
        tables = network_tables(str(run.path), version)
        for column, table in zip(st.columns(len(tables)), tables):
            column.markdown(f"**{table.role.capitalize()}** · {table.total:,} parameters ({table.trainable:,} "
                            f"trainable)" + (f" · {table.note}" if table.note else ""))
            column.caption(widgets.md_text(table.source))
            column.dataframe(table.rows, hide_index=True, height="content", column_config=TABLE_COLUMNS)
        st.caption("What model.summary() prints: one row per layer, top to bottom, with its output shape (None is "
                   "the batch: any size) and its parameters (weights and biases; BatchNorm's moving mean and variance "
                   "count but are not trained). G is the run's latest saved generator; D is built from config.json "
                   "as the trainer builds it, since only checkpoints keep its weights.")


def evaluate_command(run: RunDir) -> str:
    return f"python -m gan_core evaluate {shlex.quote(str(run.path))} --epochs all"


st.title("Snapshots")
candidates = [r for r in widgets.listed_pretrained() + widgets.listed_runs() if r.sample_epochs()]
if not candidates:
    st.info("No snapshot grids yet: a run draws one before training and after every epoch. Start a run on the "
            "**Train** page.", icon=":material/info:")
    st.stop()

run = widgets.pick_run("Run", candidates, key="snapshots_run")
widgets.skipped_records_note([run])
playing = st.session_state.get(PLAYING_KEY, False)
st.button("Pause" if playing else "Play", icon=":material/pause:" if playing else ":material/play_arrow:",
          on_click=toggle_playing, help="Step through the epochs on the slider, over and over")
viewer(str(run.path))
architecture(run)

st.subheader("GIF")
fps_column, loop_column, button_column = st.columns([1, 1, 2], vertical_alignment="bottom")
fps = fps_column.number_input("Frames per second", 0.5, 30.0, 4.0, step=0.5)
loop = loop_column.number_input("Loops (0 = forever)", 0, 1000, 0)
gif_key = f"snapshots_gif_{run.name}"
if button_column.button("Make GIF", icon=":material/movie:"):
    with widgets.user_errors():
        gif = grids_and_gifs.snapshots_gif(run, fps, int(loop))
        st.session_state[gif_key] = ((fps, loop), len(run.sample_epochs()), gif)
made = st.session_state.get(gif_key)
if made and made[0] == (fps, loop):
    _, n_frames, gif = made
    st.image(gif, width=GRID_SCALE * pictures.read_png(run.latest_sample()).shape[1],
             caption=f"{n_frames} frames at {fps:g} fps")
    widgets.download_and_save("Download GIF", gif, f"{run.name}_snapshots_{fps:g}fps_loop{loop}.gif", "image/gif",
                              widgets.exports_dir(run, run.name), key=f"download_{gif_key}")
