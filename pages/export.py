"""Export: a grid of samples as a PNG and an interpolation as a GIF, downloaded and kept beside the model; and the
generator itself as a SavedModel, TFLite and ONNX file, each checked against it."""
from pathlib import Path

import streamlit as st

from explorer_ui import use_app_navigation, widgets
from gan_core import latent_space
from gan_core.errors import ConfigError
from gan_core.explore import app_exports, grids_and_gifs, model_export
from gan_core.files import pictures

use_app_navigation()  # before anything renders: see its docstring

MAX_SIDE_PX = 4096  # a bigger grid is tens of megabytes of PNG, slow to make and to show

choice = widgets.page_generator("export", "Export")
generator = choice.generator
st.caption(f"From **{widgets.md_text(choice.name)}**. Each download is also saved beside the model, under the folder "
           "named below it.")
psi = st.slider("Truncation ψ", 0.0, latent_space.MAX_PSI, 1.0, 0.05, width=320,
                help="Pulls every z towards the noise's centre, for the grid and the GIF: 1 leaves them alone, smaller "
                     "values give more typical, cleaner and more alike images, 0 the generator's mean image")
truncated = f" · ψ = {psi:.2f}" if psi < 1 else ""
psi_tag = f"_psi{psi:.2f}" if psi < 1 else ""
label = None  # a class-conditional generator's class: None draws the classes in turn
if generator.conditional:
    label = st.selectbox("Class", [None, *range(generator.num_classes)], width=320,
                         format_func=lambda c: "each class in turn (one per column)" if c is None
                         else generator.class_name(c),
                         help="This generator is class-conditional. In turn: cell i draws class i mod "
                              f"{generator.num_classes}, so a {generator.num_classes}-column grid has one class "
                              "per column; the GIF then keeps the first class")
truncated += f" · {generator.class_name(label)}" if label is not None else ""
class_tag = f"_class{label}" if label is not None else ""

st.subheader("Sample grid")
c = st.columns(4)
rows = int(c[0].number_input("Rows", 1, 32, 4))
cols = int(c[1].number_input("Columns", 1, 32, generator.num_classes if generator.conditional else 8))
seed = int(c[2].number_input("First seed", 0, latent_space.MAX_SEED, 0, help="Cell i shows seed first + i"))
scale = int(c[3].number_input("Pixel scale", 1, 16, 3))
with widgets.user_errors():
    height, width = (scale * (n * side + (n + 1) * 2) for n, side in zip((rows, cols), generator.image_shape[:2]))
    if max(height, width) > MAX_SIDE_PX:
        raise ConfigError(f"that grid would be {width}x{height} pixels; the most is {MAX_SIDE_PX} a side: use fewer "
                         "rows or columns, or a smaller pixel scale")
    png = pictures.png_bytes(grids_and_gifs.sample_grid(generator, rows, cols, seed, scale=scale, psi=psi, label=label))
    st.image(png, caption=f"seeds {seed}…{seed + rows * cols - 1}{truncated}", output_format="PNG")
    widgets.download_and_save("Download PNG", png,
                              f"{choice.name}_grid{rows}x{cols}_seed{seed}_x{scale}{psi_tag}{class_tag}.png",
                              "image/png", choice.exports_dir, key="export_png")

st.subheader("Interpolation GIF")
c = st.columns(7, vertical_alignment="bottom")
seed_a = int(c[0].number_input("Seed A", 0, latent_space.MAX_SEED, 0))
seed_b = int(c[1].number_input("Seed B", 0, latent_space.MAX_SEED, 1))
steps = int(c[2].number_input("Steps", 2, 64, 16))
mode = c[3].radio("Mode", ["slerp", "lerp"], horizontal=True)
fps = c[4].number_input("Frames/s", 0.5, 30.0, 8.0, step=0.5)
loop = int(c[5].number_input("Loops (0 = forever)", 0, 1000, 0))
bounce = c[6].checkbox("Forth and back", value=True)
with widgets.user_errors():
    # truncating the two ends truncates every frame: lerp and slerp (about the same centre) commute with it
    a, b = (latent_space.truncate(latent_space.z_from_seed(s, generator.noise_dim, generator.noise), psi,
                                  generator.noise)
            for s in (seed_a, seed_b))
    gif_label = label if label is not None or not generator.conditional else 0
    frames = grids_and_gifs.interpolation_frames(generator, a, b, steps, mode, scale=scale, label=gif_label)
    gif = pictures.gif_bytes(frames, fps=fps, loop=loop, bounce=bounce)
    st.image(gif, width=max(frames[0].shape[1], widgets.IMAGE_SIDE_PX),
             caption=f"{mode} from seed {seed_a} to seed {seed_b}, {steps} steps at {fps:g} frames/s{truncated}"
                     + (f" · {generator.class_name(gif_label)}" if label is None and gif_label is not None else ""))
    widgets.download_and_save(
        "Download GIF", gif,
        f"{choice.name}_{mode}_seed{seed_a}-seed{seed_b}_{steps}steps_{fps:g}fps{'_bounce' if bounce else ''}"
        f"{psi_tag}{class_tag}.gif",
        "image/gif", choice.exports_dir, key="export_gif")

st.subheader("Export the generator for other runtimes")
st.caption("Each format is written, run back on seeds 0…15 and compared with this generator (max |diff| in its output "
           "range and in 0–255 pixels). Inputs: `z` float32 [N, noise size]"
           + (", `label` int32 [N]" if generator.conditional else "") + "; output: `images` float32 [N, H, W, C] in "
           "the generator's own range. ONNX needs tf2onnx and onnxruntime: `pip install \".[export]\"`.")
c = st.columns(3)
picked = [name for name, column, label in zip(model_export.FORMATS, c, ("SavedModel", "TFLite", "ONNX"))
          if column.checkbox(label, value=True, key=f"runtime_{name}")]
if st.button("Export the generator", key="runtime_export"):
    with widgets.user_errors(), st.spinner("Exporting and checking each format…"):
        report, reused = app_exports.export_once(generator, choice.exports_dir, f"{choice.name}_runtimes", picked)
        st.session_state["runtime_export_report"] = (choice.name, report, report.zip_bytes(), reused)
done = st.session_state.get("runtime_export_report")
if done and done[0] == choice.name:
    _, report, zipped, reused = done
    st.dataframe(report.rows(), hide_index=True)
    for tensor in report.inputs + report.outputs:
        st.caption(widgets.md_text(model_export.describe(tensor)))
    if not report.ok:
        st.error("A format differs from the generator by more than its tolerance: see the table")
    st.download_button("Download the export (zip)", zipped, file_name=f"{Path(report.out_dir).name}.zip",
                       mime="application/zip", key="runtime_zip")
    st.caption(f":material/check: {'The same generator file was exported before: reused' if reused else 'Saved'} "
               f"in {widgets.md_text(report.out_dir)} (Home's *Storage* lists exports and removes them)")
