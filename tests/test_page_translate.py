"""The Translate page (image-to-image models) through streamlit's AppTest, against tiny Pix2Pix and CycleGAN runs."""
import io

import imageio.v3 as iio
import numpy as np
import pytest
from apptest_helpers import assert_clean, image_urls, open_page, texts

pytestmark = pytest.mark.slow  # they share tiny Pix2Pix and CycleGAN runs (tiny_translation_runs)


def test_translate_opens_on_the_default_model_and_translates_a_held_out_example(translation_runs_dir):
    at = open_page("translate")
    model_box = at.sidebar.selectbox[0]
    assert model_box.label == "Model" and len(model_box.options) == 3  # the pretrained one and both runs
    assert model_box.value.name == "pix2pix_edges_digits"  # the shipped default, though newer runs exist
    page = texts(at)
    assert "pix2pix" in page and "edge map → image" in page
    captions = [c for image in at.get("image") for c in image.captions]
    assert captions == ["edge map", "image", "original"]
    assert "L1 to the original" in page
    first = image_urls(at)
    assert len(set(first)) == 3, "edge map, output and original are three different pictures (none blank)"
    next(n for n in at.number_input if n.label.startswith("Example")).set_value(5).run()
    assert_clean(at)
    assert image_urls(at) != first  # another example, another picture
    at.download_button[0].click().run()
    saved = list((translation_runs_dir / "_exports").rglob("*.png")) + list(translation_runs_dir.rglob("exports/*.png"))
    assert saved and iio.imread(saved[0]).shape[1] > iio.imread(saved[0]).shape[0] * 2  # three pictures wide


def test_translate_an_upload_and_a_cyclegan_both_ways(translation_runs_dir, shared_data):
    at = open_page("translate")
    at.radio[0].set_value("Upload an image").run()
    assert_clean(at)
    assert "Upload a PNG or JPEG" in texts(at)
    digit = np.load(shared_data / "mnist.npz")["x_test"][7]
    buffer = io.BytesIO()
    from PIL import Image

    Image.fromarray(digit).save(buffer, format="PNG")
    at.get("file_uploader")[0].upload("seven.png", buffer.getvalue(), "image/png").run()
    assert_clean(at)
    assert [c for image in at.get("image") for c in image.captions] == ["edge map", "image", "original"]
    next(c for c in at.checkbox if c.label.startswith("My image already is")).check().run()
    assert [c for image in at.get("image") for c in image.captions] == ["edge map", "image"]
    at.get("file_uploader")[0].upload("broken.png", b"not an image", "image/png").run()
    assert not at.exception and any("not a readable image" in e.value for e in at.error)

    cycle = next(o for o in at.sidebar.selectbox[0].options if "cyclegan" in str(o))
    at.sidebar.selectbox[0].set_value(cycle).run()
    at.radio[-1].set_value("Held-out example").run()
    assert_clean(at)
    direction = next(r for r in at.radio if r.label == "Direction")
    assert direction.options == ["MNIST digits → Fashion-MNIST garments", "Fashion-MNIST garments → MNIST digits"]
    assert [c for image in at.get("image") for c in image.captions] == \
        ["MNIST digits", "Fashion-MNIST garments", "back to MNIST digits"]
    direction.set_value("Fashion-MNIST garments → MNIST digits").run()
    assert_clean(at)
    assert [c for image in at.get("image") for c in image.captions][0] == "Fashion-MNIST garments"
    assert "round-trip L1" in texts(at)


def test_translators_stay_off_the_latent_pickers_and_show_on_home_and_snapshots(translation_runs_dir):
    at = open_page("latent")
    assert at.sidebar.radio[0].value == "Upload .keras" and "Upload a .keras generator" in texts(at)
    at.sidebar.radio[0].set_value("Training run").run()
    assert "No training run has saved a generator yet" in texts(at)
    home = open_page("home")
    assert "pix2pix: edge map → image" in texts(home) and "cyclegan: MNIST digits → Fashion-MNIST garments" in \
        texts(home)
    snaps = open_page("snapshots")
    assert image_urls(snaps)
    assert len(snaps.get("plotly_chart")) == 2  # losses, and quality with its baselines
