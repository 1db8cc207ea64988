"""The Latent space page through streamlit's AppTest: sliders, ψ, principal directions, arithmetic, GIF, uploads."""
import re

import imageio.v3 as iio
import numpy as np
import pytest
from apptest_helpers import assert_clean, image_urls, labels, only_run, open_page, plain, texts
from streamlit.testing.v1 import AppTest

from gan_core import runs
from gan_core.explore import directions
from gan_core.inference import Generator

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


def slider(at: AppTest, label: str):
    (found,) = [s for s in at.slider if s.label == label]
    return found


def z_sliders(at: AppTest) -> list:
    return [s for s in at.slider if s.label.startswith("z[")]


def test_latent_sliders_move_the_image(runs_dir):
    at = open_page("latent")
    assert {"Seed", "Seed A", "Seed B", "Steps", "GIF frames/s"} <= set(labels(at.number_input))
    assert {"Random", "Reset sliders"} <= set(labels(at.button))
    assert [s.label for s in z_sliders(at)] == [f"z[{i}]" for i in range(10)]  # one page of 100 dimensions
    assert all(s.min == -3 and s.max == 3 for s in z_sliders(at))
    (pages,) = [s for s in at.selectbox if s.label == "Dimensions"]
    assert len(pages.options) == 10

    before = image_urls(at)[0]
    z_before = at.session_state["latent_z"].copy()
    slider(at, "z[3]").set_value(2.5).run()
    assert_clean(at)
    assert at.session_state["latent_z"][3] == pytest.approx(2.5)
    assert np.delete(at.session_state["latent_z"], 3).tolist() == np.delete(z_before, 3).tolist()
    assert image_urls(at)[0] != before and "(edited)" in texts(at)

    pages.set_value(9).run()
    assert [s.label for s in z_sliders(at)] == [f"z[{i}]" for i in range(90, 100)]
    at.number_input(key="latent_seed").set_value(7).run()
    assert at.session_state["latent_z"].tolist() == pytest.approx(
        np.random.default_rng(7).standard_normal(100, dtype=np.float32).tolist())


def test_latent_truncation_and_principal_directions_move_the_image(runs_dir):

    at = open_page("latent")
    z = at.session_state["latent_z"].copy()
    psi = slider(at, "Truncation ψ")
    assert (psi.min, psi.max, psi.value) == (0, 1, 1) and "ψ = 1.00" in texts(at)
    before = image_urls(at)[0]
    psi.set_value(0.5).run()
    assert_clean(at)
    assert image_urls(at)[0] != before and "ψ = 0.50" in texts(at) and "(edited)" not in texts(at)
    assert at.session_state["latent_z"].tolist() == z.tolist()  # ψ changes the picture, not z
    psi.set_value(1.0).run()
    assert image_urls(at)[0] == before

    at.radio(key="latent_slider_mode").set_value("Principal directions").run()
    assert_clean(at)
    pcs = [s for s in at.slider if s.label.startswith("PC")]
    assert len(pcs) == 10 and not z_sliders(at)
    shares = [float(s.label.split("· ")[1].rstrip("%")) for s in pcs]
    assert pcs[0].label.startswith("PC1 · ") and shares == sorted(shares, reverse=True) and sum(shares) <= 100
    # Keras numbers auto-named layers per process (dense_3 when three were built before): not part of the message
    assert re.search(r"of the variance of dense(_\d+)? → batch_normalization(_\d+)? → leaky_re_lu(_\d+)?", texts(at))
    found = directions.load_or_compute(Generator.from_run(runs.list_runs(runs_dir)[0]))  # the app's, from its cache
    coords = found.coordinates(z)
    assert [s.value for s in pcs] == pytest.approx(np.clip(np.round(coords / 0.05) * 0.05, -3, 3), abs=1e-6)

    pcs[0].set_value(2.5).run()
    assert_clean(at)
    moved = at.session_state["latent_z"]
    assert found.coordinates(moved)[0] == pytest.approx(2.5, abs=1e-4)
    np.testing.assert_allclose(found.coordinates(moved)[1:], coords[1:], atol=1e-4)  # the others stay
    assert image_urls(at)[0] != before and "(edited)" in texts(at)

    # back on the dimension sliders, they show the moved z (not their old values), and a move there shows in PCs
    at.radio(key="latent_slider_mode").set_value("z dimensions").run()
    assert [s.value for s in z_sliders(at)] == pytest.approx(np.clip(moved[:10], -3, 3).tolist(), abs=1e-6)
    slider(at, "z[0]").set_value(-2.0).run()
    at.radio(key="latent_slider_mode").set_value("Principal directions").run()
    assert_clean(at)
    pcs = [s for s in at.slider if s.label.startswith("PC")]
    expected = np.clip(np.round(found.coordinates(at.session_state["latent_z"]) / 0.05) * 0.05, -3, 3)
    assert [s.value for s in pcs] == pytest.approx(expected, abs=1e-6)


def test_latent_arithmetic_shows_a_b_c_and_the_result_and_loads_it(runs_dir):
    from gan_core import latent_space

    at = open_page("latent")
    captions = [c for image in at.get("image") for c in image.captions]
    assert ["A: seed 1", "− B: seed 2", "+ C: seed 3", "= A − B + C"] == captions[-4:]
    at.text_input(key="latent_arith_A").set_value("1, 4, 7").run()
    assert_clean(at)
    assert "A: mean of 3 seeds" in texts(at)
    urls = image_urls(at)
    assert len(set(urls[-4:])) == 4  # four different pictures
    next(b for b in at.button if b.label == "Load A − B + C into the editor").click().run()
    assert_clean(at)
    a = latent_space.mean_z_of_seeds([1, 4, 7], 100)
    expected = a - latent_space.z_from_seed(2, 100) + latent_space.z_from_seed(3, 100)
    np.testing.assert_allclose(at.session_state["latent_z"], expected, atol=1e-6)
    assert "A − B + C (1,4,7 − 2 + 3)" in plain(texts(at)) and image_urls(at)[0] == urls[-1]  # the editor shows it
    at.text_input(key="latent_arith_B").set_value("two").run()
    assert any("'two' is not a seed" in e.value for e in at.error)


def test_latent_interpolation_gif_has_every_step(runs_dir):
    at = open_page("latent")
    (download,) = at.download_button
    download.click().run()
    (gif,) = only_run(runs_dir).exports_dir.glob("*.gif")
    assert gif.name == "00000-tiny_epoch0002_slerp_seed0-seed2_8steps.gif"  # from the current z: seed 0
    frames = iio.imread(gif, index=None)
    assert frames.shape[0] == 14  # 8 steps forth and 6 back
    assert not np.array_equal(frames[0], frames[7])


def test_latent_pretrained_and_a_bad_upload(runs_dir):
    at = open_page("latent")
    at.sidebar.radio[0].set_value("Pretrained").run()
    assert_clean(at)
    assert "tiny-pretrained_epoch0002" in texts(at) and image_urls(at)
    at.sidebar.radio[0].set_value("Upload .keras").run()
    at.get("file_uploader")[0].upload("broken.keras", b"this is not a keras file").run()
    assert not at.exception
    assert any("cannot load" in e.value for e in at.error)


def test_latent_a_five_channel_generator_upload_is_a_message_not_a_pillow_error(runs_dir, tmp_path):
    import keras

    z = keras.Input((8,))
    x = keras.layers.Reshape((4, 4, 5))(keras.layers.Dense(80, activation="tanh")(z))
    path = tmp_path / "five.keras"
    keras.Model(z, x).save(path)
    at = open_page("latent")
    at.sidebar.radio[0].set_value("Upload .keras").run()
    at.get("file_uploader")[0].upload("five.keras", path.read_bytes()).run()
    assert not at.exception, [e.value for e in at.exception]  # before: TypeError from Pillow's fromarray
    assert any("makes 5-channel images; the explorer draws gray (1 channel) or RGB (3 channels)" in plain(e.value)
               for e in at.error)
