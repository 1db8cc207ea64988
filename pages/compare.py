"""Compare runs: two or more runs (or pretrained models) on one screen: how each did, what differs in their configs,
their curves on shared axes and their fixed-seed grids at one epoch. The work is gan_core.runs.comparison's."""
import streamlit as st

from explorer_ui import use_app_navigation, widgets
from gan_core.files import pictures
from gan_core.runs import RunDir, compare_charts, comparison, quality_charts

use_app_navigation()  # before anything renders: see its docstring

RUNS_KEY = "compare_runs"
GRID_SIDE_PX = 300  # each run's grid is shown about this wide, whatever its image size (whole-pixel scaling)
CHART_CONFIG = {"displayModeBar": False}


@st.cache_data(max_entries=16, show_spinner="Reading the runs…")
def loaded(paths: tuple[str, ...], version: tuple) -> list[comparison.Compared]:
    """The runs' records, read again whenever one of their files changes (`version`)."""
    return comparison.load([RunDir(p) for p in paths])


@st.fragment
def grids(compared: list[comparison.Compared]) -> None:
    """One slider over every run's snapshot grids; moving it redraws the grids alone."""
    every = st.toggle("Every epoch (nearest grid per run)", key="compare_every_epoch",
                      help="Off: only the epochs every run has a grid for. On: every epoch any run has; a run "
                           "without a grid there shows its nearest one")
    epochs, exact = comparison.grid_epochs(compared, every)
    if not epochs:
        st.caption("None of these runs has a snapshot grid yet.")
        return
    key = "compare_grid_epoch"
    if st.session_state.get(key) not in epochs:
        st.session_state[key] = epochs[-1]
    if len(epochs) > 1:
        epoch = st.select_slider("Epoch", epochs, key=key, format_func=lambda e: f"{e}" if e else "0 (untrained)")
    else:
        epoch = epochs[0]
    st.caption(("Epochs every run has a grid for: each grid is at exactly the chosen epoch." if exact else
                "Every epoch any run has a grid for: a run without one at the chosen epoch shows its nearest "
                "(its caption says which).")
               + " Cell i of every grid is seed i, the same z at every epoch (and in every run with the same noise).")
    for column, run in zip(st.columns(len(compared)), compared):
        shown, path = comparison.grid_at(run, epoch)
        if path is None:
            column.caption(f"{widgets.md_text(run.label)}: no grid yet")
            continue
        with column, widgets.user_errors():  # a fragment reruns alone, outside the page's own user_errors()
            image = pictures.read_png(path)
            note = "" if shown == epoch else f" (nearest to {epoch})"
            st.image(widgets.upscaled_png(image, max(1, round(GRID_SIDE_PX / image.shape[1]))), output_format="PNG",
                     caption=f"{widgets.md_text(run.label)} · epoch {shown}{note}")  # a folder name: as text


st.title("Compare runs")
st.caption("Did label smoothing, beta_1 0.5 or the hinge loss help? Pick runs that differ in that one thing: the "
           "table says how each did, what differs lists their settings side by side, and the curves and grids show "
           "how they got there.")
candidates = widgets.listed_pretrained() + widgets.listed_runs()
if len(candidates) < 2:
    st.info("Comparing needs two runs or pretrained models: train a second one on the **Train** page (the same "
            "preset with one setting changed answers whether it helps).", icon=":material/info:")
    st.stop()

options = list(reversed(candidates))  # newest run first, pretrained models after the runs
if RUNS_KEY not in st.session_state:  # the two newest training runs, as a first comparison
    st.session_state[RUNS_KEY] = [r for r in options if not widgets.is_pretrained(r)][:2]
elif any(r not in options for r in st.session_state[RUNS_KEY]):  # a run deleted since: drop it rather than fail
    st.session_state[RUNS_KEY] = [r for r in st.session_state[RUNS_KEY] if r in options]
chosen = st.multiselect("Runs and pretrained models", options, key=RUNS_KEY, format_func=widgets.run_label,
                        placeholder="Pick two or more",
                        help="Newest runs first, then the pretrained models. Each keeps one colour on every chart.")
if len(chosen) < 2:
    st.info("Pick at least two runs (or pretrained models) above to compare them" +
            (f"; {widgets.md_text(chosen[0].name)} is the only one so far." if chosen else "."),
            icon=":material/info:")
    st.stop()

with widgets.user_errors():
    compared = loaded(tuple(str(r.path) for r in chosen), comparison.version(chosen))
    widgets.skipped_records_note(chosen)

    did, differs = st.columns(2, gap="large")
    with did:
        st.subheader("How each did")
        sizes = comparison.quality_sizes(compared)
        n = sizes[0] if sizes else None
        if len(sizes) > 1:
            n = st.selectbox("Quality measured on n images", sizes, key="compare_quality_n",
                             help="The runs' evaluations at this n (the metrics are biased by n: only one n compares)")
        st.dataframe(comparison.summary_table(compared, n), hide_index=True, height="content")
        notes = []
        if n is not None:
            notes.append(f"Quality: the last epoch each run measured with n = {widgets.md_text(n)} images; ↓ lower is "
                         "better, ↑ higher is better.")
        elif any(c.quality for c in compared):
            notes.append("Quality: these runs were measured at different n (quality n), which do not compare; score "
                         "them at one n with `python -m gan_core evaluate RUN --epochs all --n N`.")
        notes.append("G loss, D loss, D(x), D(G(z)): the means over each run's last epoch; compare them with the "
                     "dotted balance lines of the curves below, not with 0. images/s: the median over its epochs.")
        st.caption(" ".join(notes))
    with differs:
        st.subheader("What differs")
        differences = comparison.config_diff(compared)
        if differences:
            st.dataframe(differences, hide_index=True, height="content")
            st.caption("The config fields (config.json) whose values are not the same in every run; a field an "
                       "older run's config lacks counts at its default.")
        else:
            st.caption("Their configs are the same, apart from the name: any difference is chance (the seed is the "
                       "same too) or the machine.")

    st.subheader("Curves")
    by_time = st.toggle("Training time on x (instead of epochs)", key="compare_by_time",
                        help="Minutes of training from each run's metrics log (its records' time fields); a pause "
                             "between a stop and its resume is left out")
    x = "minutes" if by_time else "epoch"
    lines = comparison.run_lines(compared, x)
    st.plotly_chart(compare_charts.compare_figure(lines, comparison.X_AXES[x]), config=CHART_CONFIG)
    st.caption(compare_charts.compare_note(lines))
    quality = comparison.quality_runs(compared)
    if quality:
        st.plotly_chart(compare_charts.compare_quality_figure(quality, n, x_key=x, x_title=comparison.X_AXES[x]),
                        config=CHART_CONFIG)
        st.caption(quality_charts.QUALITY_NOTE)
    else:
        st.caption("No sample-quality measurements for these runs yet: `python -m gan_core evaluate RUN --epochs "
                   "all` scores every saved epoch, then they appear here.")

    st.subheader("Fixed-seed grids")
    grids(compared)
