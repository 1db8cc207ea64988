"""Step-through lab: one D update, one G update, a full step or k steps of a small GAN on real MNIST, and what
changed."""
import numpy as np
import streamlit as st

from explorer_ui import use_app_navigation, widgets
from gan_core.explore.step_lab import LAB_LOSSES, MAX_STEPS, Knobs, StepLab, curves_figure
from gan_core.runs import training_charts

use_app_navigation()  # before anything renders: see its docstring

LAB_KEY = "step_lab"
SPEEDS = {"normal (5 steps a second)": (0.2, 1), "slow motion (a step every 2 s)": (2.0, 1),
          "fast (25 steps a second)": (0.4, 10)}


def the_lab() -> StepLab | None:
    if LAB_KEY not in st.session_state:
        with st.spinner("Building a small GAN (the dense MNIST GAN note's MLPs) on 6,000 real MNIST digits…"):
            with widgets.user_errors():
                st.session_state[LAB_KEY] = StepLab()
    return st.session_state.get(LAB_KEY)


def knob_fields(lab: StepLab) -> None:
    k = lab.knobs
    cols = st.columns(5)
    values = Knobs(
        g_lr=cols[0].number_input("G learning rate", 1e-6, 0.5, k.g_lr, step=1e-4, format="%.5f"),
        d_lr=cols[1].number_input("D learning rate", 1e-6, 0.5, k.d_lr, step=1e-4, format="%.5f"),
        loss=cols[2].selectbox("Loss", LAB_LOSSES, index=LAB_LOSSES.index(k.loss)),
        real_label=cols[3].number_input("Real label", 0.51, 1.0, k.real_label, step=0.05, format="%.2f",
                                        help="< 1 is one-sided label smoothing (bce and lsgan)"),
        d_steps=cols[4].number_input("D steps per G step", 1, 20, k.d_steps,
                                     help="how many D updates a full step makes before its G update"))
    if values != lab.knobs:
        with widgets.user_errors():
            lab.set_knobs(values)  # a new loss compiles here, once (a few seconds)


def buttons(lab: StepLab) -> None:
    cols = st.columns([1, 1, 1, 1, 1, 2], vertical_alignment="bottom")
    with widgets.user_errors():
        if cols[0].button("D step", icon=":material/gavel:", help="one update of D on a fresh batch"):
            lab.d_step()
        if cols[1].button("G step", icon=":material/brush:", help="one update of G through the current D"):
            lab.g_step()
        if cols[2].button("Full step", icon=":material/skip_next:", help="k D updates, then one G update"):
            lab.full_step()
        n = cols[4].number_input("k", 1, MAX_STEPS, 10, label_visibility="collapsed")
        if cols[3].button(f"{n} steps", icon=":material/fast_forward:"):
            lab.steps(int(n))
        if cols[5].button("Start over", icon=":material/restart_alt:", help="new networks, same seed"):
            del st.session_state[LAB_KEY]
            st.rerun()


def show(lab: StepLab) -> None:
    view = lab.view()
    left, right = st.columns([2, 3])
    left.image(widgets.upscaled_png(view["grid"], 2), width="stretch", output_format="PNG",
               caption=f"fixed-z grid after {view['updates']} updates")
    with right:
        last = view["last"]
        if last is None:
            st.info("Press **D step**, **G step** or **Full step**: the grid starts as the untrained G's noise.",
                    icon=":material/info:")
            return
        numbers = st.columns(4)
        numbers[0].metric("G loss", f"{last['g_loss']:.3f}")
        numbers[1].metric("D loss", f"{last['d_loss']:.3f}")
        reading = view["reading"]  # what D's output means for this loss: a probability, or a score
        numbers[2].metric("D(x)", f"{last['d_real']:.2f}", help=f"{reading.axis}, mean on the batch's real digits")
        numbers[3].metric("D(G(z))", f"{last['d_fake']:.2f}", help=f"{reading.axis}, mean on the batch's fakes")
        st.caption(f"Last update: **{last['network']}**. D's scores on that batch: {reading.meaning}. Two piles "
                   "apart mean D tells them apart; overlapping, a balanced game.")
        both = np.concatenate([view["d_real_scores"], view["d_fake_scores"]])
        low, high = (0.0, 1.0) if reading.sigmoid else (float(both.min()), max(float(both.max()), both.min() + 1e-6))
        edges = np.linspace(low, high, 21)
        st.plotly_chart(training_charts.score_histogram(
            {"real_hist": np.histogram(view["d_real_scores"], edges)[0].tolist(),
             "fake_hist": np.histogram(view["d_fake_scores"], edges)[0].tolist(),
             "hist_range": [low, high]}, height=200, reading=reading),
            config={"displayModeBar": False})
        st.plotly_chart(curves_figure(view["history"], lab.balance_point(), reading=reading),
                        config={"displayModeBar": False})
        if view["updates"] > len(view["history"]):
            st.caption(f"{view['updates']:,} updates so far: the curves draw {len(view['history'])} of them, one from "
                       "each stretch of consecutive updates, so Play stays as quick after hours as at the start.")


@st.fragment
def bench() -> None:
    lab = the_lab()
    if lab is None:
        return
    knob_fields(lab)
    buttons(lab)
    show(lab)


st.title("Step-through lab")
st.caption("GAN Lab's single steps, on real digits: each click makes one update (or k) of a small GAN in this "
           "page, and shows the fixed-z grid, D's verdicts on the batch and the losses. Change the learning rates, "
           "the loss or the label smoothing between clicks. Long training runs on the Train page.")
playing = st.toggle("Play", help="keep taking full steps until switched off")
speed = st.radio("Speed", list(SPEEDS), horizontal=True, label_visibility="collapsed") if playing else None


if playing:
    every, per_tick = SPEEDS[speed]

    @st.fragment(run_every=every)
    def play() -> None:
        lab = the_lab()
        if lab is not None:
            lab.steps(per_tick)
            show(lab)

    play()
else:
    bench()
