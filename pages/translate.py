"""Translate: an image-to-image model (Pix2Pix, CycleGAN) on a held-out example, an uploaded picture or a drawing."""
import streamlit as st

from explorer_ui import canvas, use_app_navigation, widgets
from gan_core import data, tasks
from gan_core.files import pictures
from gan_core.inference import examples, translate_image
from gan_core.runs import sanitize_name

use_app_navigation()  # before anything renders: see its docstring

SOURCES = ("Held-out example", "Upload an image", "Draw")
DRAW_PEN = 1.5  # model pixels: about as wide as the lines of an edge map (Sobel spreads a step over two)
UPLOAD_TYPES = sorted(ext.lstrip(".") for ext in data.IMAGE_EXTENSIONS)
ARROW = " → "

with st.sidebar:
    choice = widgets.translator_picker("translate")
st.title("Translate")
if choice is None:
    st.stop()

run, translators = choice.run, choice.translators
config = run.config_dict()
task = tasks.of_run(run)
name_a, name_b = (widgets.md_text(n) for n in task.domain_names(config))  # e.g. a data folder's name: as text
if len(translators) > 1:  # a CycleGAN: both directions
    direction = st.radio("Direction", list(translators), horizontal=True, key=f"translate_direction_{run.name}",
                         format_func=lambda d: (f"{name_a}{ARROW}{name_b}" if d == "AtoB"
                                                else f"{name_b}{ARROW}{name_a}"))
else:
    direction = "AtoB"
forward = translators[direction]
size = forward.image_size
input_name, output_name = widgets.md_text(forward.input_name), widgets.md_text(forward.output_name)
st.caption(f"**{widgets.md_text(choice.name)}** · {task.name} · {input_name}{ARROW}{output_name} · "
           f"{size}x{size}"
           + (" · the picture's input is made from it, so the output can be compared with it"
              if forward.makes_its_input else "")
           + (" · each output is translated back (the round trip)" if task.round_trip else ""))

saved = examples(run)
# the pictures a held-out example offers: the originals the input is made from, the inputs, or a CycleGAN domain
pool = (saved.get("targets" if forward.makes_its_input else "inputs") if "inputs" in saved  # Pix2Pix's pairs
        else saved.get("a" if direction == "AtoB" else "b"))
sources = [s for s in SOURCES if (s != SOURCES[0] or (pool is not None and len(pool)))
           and (s != SOURCES[2] or forward.input_shape[-1] == 1)]  # white on black: for gray inputs
source = st.radio("Image", sources, horizontal=True, key="translate_source",
                  help=None if SOURCES[0] in sources else "This model has no saved held-out examples; upload or "
                                                          "draw a picture")

picture, as_input, invert, tag = None, False, False, ""
left, right = st.columns([1, 2], gap="large")
with left:
    if source == SOURCES[0]:
        index = int(st.number_input(f"Example (0 … {len(pool) - 1})", 0, len(pool) - 1, 0,
                                    key=f"translate_index_{run.name}_{direction}"))
        picture, tag = pool[index], f"example{index}"
    elif source == SOURCES[2]:
        edges = forward.pairing == "edges"
        dataset = config.get("dataset_b" if direction == "BtoA" else "dataset", "")
        with widgets.user_errors():
            picture = canvas.draw(f"translate_canvas_{direction}", size, pen=DRAW_PEN,
                                  what=f"the {input_name}", box=canvas.digit_box(dataset, size, outline=edges),
                                  hint="An edge map outlines each stroke on both sides, as the held-out examples "
                                       "show: draw a digit's outline (or use a thick pen)." if edges else "")
        as_input, tag = True, "drawing"  # the drawing is the input itself, translated on every stroke
    else:
        upload = st.file_uploader("Image file", type=UPLOAD_TYPES, key="translate_upload",
                                  help=f"Centre-cropped to a square and resized to {size}x{size}, as training "
                                       "images are")
        if forward.input_shape[-1] == 1 or forward.output_shape[-1] == 1:
            invert = st.checkbox("Invert (dark strokes on light paper)", key="translate_invert",
                                 help="MNIST-like models draw light strokes on black")
        if forward.makes_its_input:
            as_input = st.checkbox(f"My image already is the {input_name}", key="translate_as_input",
                                   help=f"Off: the {input_name} is made from your picture, as in training, "
                                        f"and the output is compared with the picture. On: your image goes in as it "
                                        f"is (e.g. your own drawing)")
        if upload is not None:
            picture, tag = upload.getvalue(), f"upload-{sanitize_name(upload.name.rsplit('.', 1)[0])}"
        else:
            st.info("Upload a PNG or JPEG to translate it.", icon=":material/upload:")

if picture is not None:
    with right, widgets.user_errors():
        done = translate_image(translators, picture, direction, as_input=as_input, invert=invert,
                               name=tag if source == SOURCES[1] else None)
        scale = widgets.display_scale(size)
        for column, (caption, image) in zip(st.columns(len(done.columns())), done.columns()):
            column.image(widgets.upscaled_png(pictures.to_uint8(image), scale), caption=widgets.md_text(caption),
                         output_format="PNG")  # the captions name the model's domains: data folders
        figures = []
        if done.target_l1 is not None:
            figures.append(f"L1 to the original **{done.target_l1:.4f}**")
        if done.cycle_l1 is not None:
            figures.append(f"round-trip L1 **{done.cycle_l1:.4f}**")
        if figures:
            st.caption(" · ".join(figures) + " (mean absolute pixel difference, pixels in [0, 1]; 0 = identical)")
        png = widgets.upscaled_png(done.panel(), scale)
        widgets.download_and_save("Download PNG", png, f"{choice.name}_{direction}_{tag}.png", "image/png",
                                  choice.exports_dir, key="translate_png")
