"""Home: what there is to explore (training runs, pretrained models) and what TensorFlow can train on."""
import time

import streamlit as st

from explorer_ui import use_app_navigation, widgets
from gan_core import storage, tasks
from gan_core.devices import describe_devices
from gan_core.errors import GanError
from gan_core.runs import RunDir, filter_runs

use_app_navigation()  # before anything renders: see its docstring


def run_card(run: RunDir, pretrained: bool) -> None:
    config, status = run.config_dict(), run.status()
    with st.container(border=True):
        thumb, info = st.columns([1, 3], vertical_alignment="center")
        latest = run.latest_sample()
        if latest is not None:
            thumb.image(str(latest), caption=latest.stem.replace("_", " "), output_format="PNG")
        else:
            thumb.caption("no grid yet")
        info.markdown(f"**{widgets.md_text(run.name)}**")
        data = config.get("data") or "standard location"
        task = tasks.of_run(run)
        if task.draws_from_noise:
            what = f"z{widgets.md_text(config.get('noise_dim', '?'))}"
        else:
            a, b = task.domain_names(config)
            what = f"{task.name}: {widgets.md_text(a)} → {widgets.md_text(b)}"
        md = widgets.md_text  # every value here comes from the folder's config.json
        info.caption(f"preset {md(config.get('preset', '?'))} · dataset {md(config.get('dataset', '?'))} ({md(data)})"
                     f" · {md(config.get('image_size', '?'))}px, {what}")
        if pretrained:
            info.caption(f"generators saved at epochs {', '.join(map(str, run.generator_epochs()))}")
            return
        state = status.get("state", "?")
        epochs_done, epochs = status.get("epoch", 0), status.get("epochs") or config.get("epochs") or 1
        info.badge(widgets.md_text(state), color=widgets.state_colour(state))
        info.progress(min(1.0, epochs_done / epochs), text=widgets.md_text(f"epoch {epochs_done}/{epochs}"))
        if status.get("updated_at"):
            info.caption(f"updated {time.strftime('%Y-%m-%d %H:%M', time.localtime(status['updated_at']))}")


RUNS_PER_PAGE = 20  # run cards at once: each reads its folder and sends a grid
STORAGE_KINDS = {"upload": "Uploaded images", "model": "Uploaded generator", "cache": "Decoded data cache",
                 "export": "Generator export", "temp": "Temporary file"}
STORAGE_NOTE = "home_storage_note"


def _remove_stored(path: str | None) -> None:
    """A Remove button's callback (it runs before the page, so the list below is drawn without what went): one
    item, or with None everything no run uses."""
    try:
        if path is None:
            removed = storage.clean(widgets.runs_dir())
            note = f"Removed {len(removed)} item(s), {storage.format_bytes(sum(i.size for i in removed))}."
        else:
            item = storage.remove(path, widgets.runs_dir())
            note = f"Removed {STORAGE_KINDS[item.kind].lower()} ({storage.format_bytes(item.size)})."
        st.session_state[STORAGE_NOTE] = ("success", note)
    except GanError as exc:  # anything else is a bug: Streamlit shows it with its traceback
        st.session_state[STORAGE_NOTE] = ("error", str(exc))


def storage_section(runs: list[RunDir]) -> None:
    """Uploads, data caches, generator exports and leftovers beside the runs, with sizes and the runs using them;
    what no run uses can be removed here (never a run folder, never what a run uses)."""
    items = storage.list_storage(widgets.runs_dir(), runs=runs)
    note = st.session_state.pop(STORAGE_NOTE, None)
    if not items and note is None:
        return
    unused = [i for i in items if i.removable]
    total, freeable = (storage.format_bytes(sum(i.size for i in group)) for group in (items, unused))
    with st.expander(f"Storage: uploads, caches and exports ({total}; {freeable} no run uses)",
                     icon=":material/storage:", expanded=note is not None):
        if note is not None:
            kind, message = note
            (st.success if kind == "success" else st.error)(widgets.md_text(message))  # it may name a path
        for item in items:
            what, size, action = st.columns([6, 2, 3], vertical_alignment="center")
            # plain text: paths and names come from disk
            what.text(f"{STORAGE_KINDS[item.kind]}: {item.path}" + (f"\n{item.detail}" if item.detail else ""))
            size.text(storage.format_bytes(item.size))
            if item.removable:
                action.button("Remove", key=f"storage_remove_{item.path}", icon=":material/delete:",
                              on_click=_remove_stored, args=(str(item.path),))
            else:
                action.text(f"used by {', '.join(item.used_by)}" if item.used_by else item.busy)
        if len(unused) > 1:
            st.button(f"Remove all {len(unused)} that no run uses ({freeable})", key="storage_clean",
                      icon=":material/delete_sweep:", on_click=_remove_stored, args=(None,))


st.title("GAN Explorer")
st.caption("Train GANs on images, watch them learn, and explore what their generators make.")
st.caption(f":material/memory: TensorFlow sees: **{widgets.md_text(describe_devices())}**")

runs, pretrained = widgets.listed_runs(), widgets.listed_pretrained()
if not runs and not pretrained:
    st.info(f"""**Nothing to explore yet.** There are no training runs in {widgets.code_span(widgets.runs_dir())} and no
pretrained models. Start a run on the **Train** page, or from a terminal in the project folder:

```
python -m gan_core train --preset mnist_dcgan --epochs 5
```
Runs appear here as they train.""", icon=":material/info:")
    st.page_link("pages/train.py", label="Start training", icon=":material/model_training:")
else:
    links = st.columns(6)
    links[0].page_link("pages/train.py", label="Train", icon=":material/model_training:")
    links[1].page_link("pages/snapshots.py", label="Snapshots", icon=":material/photo_library:")
    links[2].page_link("pages/compare.py", label="Compare runs", icon=":material/stacked_line_chart:")
    links[3].page_link("pages/latent.py", label="Latent space", icon=":material/tune:")
    links[4].page_link("pages/export.py", label="Export", icon=":material/download:")
    links[5].page_link("pages/translate.py", label="Translate", icon=":material/compare:")


def cards(items: list[RunDir], pretrained: bool) -> None:
    columns = st.columns(2)
    for i, run in enumerate(items):
        with columns[i % 2]:
            run_card(run, pretrained)


def training_runs(found: list[RunDir]) -> None:
    """The newest RUNS_PER_PAGE runs, a filter and pages for the rest: a card per run of a thousand took 30 s."""
    st.subheader(f"Training runs ({len(found)})")
    ask, pick = st.columns([3, 1], vertical_alignment="bottom")
    text = ask.text_input("Filter runs", key="home_filter", placeholder="words of a name, preset or state, e.g. "
                          "“faces done”", help="Keeps the runs whose name, preset or state holds every word")
    shown = filter_runs(found[::-1], text)  # newest first
    pages = max(1, -(-len(shown) // RUNS_PER_PAGE))
    page = int(pick.number_input("Page", 1, pages, 1, key="home_page", help=f"{pages} pages")) if pages > 1 else 1
    first = (min(page, pages) - 1) * RUNS_PER_PAGE
    if not shown:
        st.caption(f"No run's name, preset or state holds {widgets.code_span(text)}.")
        return
    if len(shown) > RUNS_PER_PAGE or text.strip():
        st.caption(f"Runs {first + 1}–{min(first + RUNS_PER_PAGE, len(shown))} of {len(shown)}"
                   + (f" holding {widgets.code_span(text)}" if text.strip() else "") + ", newest first.")
    cards(shown[first:first + RUNS_PER_PAGE], False)


if runs:
    training_runs(runs)
if pretrained:
    st.subheader(f"Pretrained models ({len(pretrained)})")
    cards(pretrained, True)
elif runs:
    st.subheader("Pretrained models")
    st.caption("None installed; a model is a folder under pretrained/ laid out like a run (see its README).")

storage_section(runs)
