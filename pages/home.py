"""Home: what there is to explore (training runs, pretrained models) and what TensorFlow can train on."""
import time

import streamlit as st

from explorer_ui import use_app_navigation, widgets
from gan_core.runs import RunDir
from gan_core.train import describe_devices
from gan_core.translator import domain_names

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
        info.markdown(f"**{run.name}**")
        data = config.get("data") or "standard location"
        if run.task == "noise":
            what = f"z{config.get('noise_dim', '?')}"
        else:
            a, b = domain_names(config)
            what = f"{run.task}: {a} → {b}"
        info.caption(f"preset `{config.get('preset', '?')}` · dataset {config.get('dataset', '?')} ({data}) · "
                     f"{config.get('image_size', '?')}px, {what}")
        if pretrained:
            info.caption(f"generators saved at epochs {', '.join(map(str, run.generator_epochs()))}")
            return
        state = status.get("state", "?")
        epochs_done, epochs = status.get("epoch", 0), status.get("epochs") or config.get("epochs") or 1
        info.badge(state, color=widgets.state_colour(state))
        info.progress(min(1.0, epochs_done / epochs), text=f"epoch {epochs_done}/{epochs}")
        if status.get("updated_at"):
            info.caption(f"updated {time.strftime('%Y-%m-%d %H:%M', time.localtime(status['updated_at']))}")


st.title("GAN Explorer")
st.caption("Train GANs on images, watch them learn, and explore what their generators make.")
st.caption(f":material/memory: TensorFlow sees: **{describe_devices()}**")

runs, pretrained = widgets.listed_runs(), widgets.listed_pretrained()
if not runs and not pretrained:
    st.info(f"""**Nothing to explore yet.** There are no training runs in `{widgets.runs_dir()}` and no pretrained
models. Start a run on the **Train** page, or from a terminal in the project folder:

```
python -m gan_core train --preset mnist_dcgan --epochs 5
```
Runs appear here as they train.""", icon=":material/info:")
    st.page_link("pages/train.py", label="Start training", icon=":material/model_training:")
else:
    links = st.columns(5)
    links[0].page_link("pages/train.py", label="Train", icon=":material/model_training:")
    links[1].page_link("pages/snapshots.py", label="Snapshots", icon=":material/photo_library:")
    links[2].page_link("pages/latent.py", label="Latent space", icon=":material/tune:")
    links[3].page_link("pages/export.py", label="Export", icon=":material/download:")
    links[4].page_link("pages/translate.py", label="Translate", icon=":material/compare:")

for title, items, is_pretrained in (("Training runs", runs[::-1], False), ("Pretrained models", pretrained, True)):
    if not items:
        if is_pretrained and runs:
            st.subheader(title)
            st.caption("None installed; a model is a folder under pretrained/ laid out like a run (see its README).")
        continue
    st.subheader(f"{title} ({len(items)})")
    columns = st.columns(2)
    for i, run in enumerate(items):
        with columns[i % 2]:
            run_card(run, is_pretrained)
