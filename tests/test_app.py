"""Every page of the explorer app through streamlit's AppTest, against a copy of a real (tiny) training run."""
import io
import json
import re
import socket
import zipfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_core import models, runs
from gan_core.explore import directions
from gan_core.inference import Generator

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 90  # the first page in a session imports TensorFlow and traces a generator

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


def open_page(name: str, *, errors_expected: bool = False) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if name != "home":
        at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    if not errors_expected:
        assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    """Everything the page wrote as text, to search for a message wherever it is."""
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning", "error", "code")
             for e in at.get(kind)]
    parts += [caption for image in at.get("image") for caption in image.captions]
    return "\n".join(str(p) for p in parts)


def plain(markdown: str) -> str:
    """A message as it reads on screen: without the escapes that keep names and paths from becoming markup."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def image_urls(at: AppTest) -> list[str]:
    """Media URLs of every st.image: the file id is a hash of the bytes, so equal URLs mean equal images."""
    return [url for image in at.get("image") for url in image.value]


def only_run(runs_dir: Path) -> runs.RunDir:
    (run,) = runs.list_runs(runs_dir)
    return run


def labels(widgets) -> list[str]:
    return [w.label for w in widgets]


# --- Home -----------------------------------------------------------------------------------------

def test_home_lists_runs_pretrained_models_and_devices(runs_dir):
    at = open_page("home")
    page = texts(at)
    assert "00000-tiny" in page and "tiny-pretrained" in page
    assert "mnist_dcgan" in page and "TensorFlow sees" in page and "CPU" in page
    assert "epoch 2/2" in [p.proto.text for p in at.get("progress")][0]
    assert len(image_urls(at)) == 2  # the latest grid of the run and of the pretrained model


def test_home_says_how_to_start_when_there_is_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(tmp_path / "pretrained"))
    at = open_page("home")
    (info,) = at.info
    assert "Nothing to explore yet" in info.value
    assert "python -m gan_core train --preset mnist_dcgan --epochs 5" in info.value


# --- Train ----------------------------------------------------------------------------------------

def test_train_page_has_the_form_and_streams_the_selected_run(runs_dir):
    at = open_page("train")
    assert {"Preset", "Run", "Precision"} <= set(labels(at.selectbox))
    (preset_box,) = [s for s in at.selectbox if s.label == "Preset"]
    assert preset_box.options == models.preset_names() and preset_box.value == "mnist_dcgan"
    assert {"Epochs", "Batch size", "G learning rate", "D learning rate", "Noise dimensions",
            "Snapshot grid every (epochs)", "Checkpoint every (epochs)", "Use only the first N images"} \
        <= set(labels(at.number_input))
    assert {"Data file or folder (optional)", "Run name"} <= set(labels(at.text_input))
    assert labels(at.radio) == ["Training images"]
    assert at.radio[0].options == ["MNIST", "Fashion-MNIST", "Image folder", "Zip of images"]
    assert {"Start training", "Train more"} <= set(labels(at.button))
    # the live view: state, progress, numbers, curves and the latest grid of the (only) run
    assert "00000-tiny" in texts(at) and "done" in texts(at)
    assert at.get("progress")[0].proto.text.startswith("epoch 2/2")
    assert len(at.get("plotly_chart")) == 1
    assert "after epoch 2" in texts(at) and image_urls(at)
    assert {"Images/s", "ETA", "G loss", "D loss"} <= set(labels(at.metric))


def test_train_refuses_a_second_start_while_a_run_is_training(runs_dir, pretend_training):
    busy = only_run(runs_dir)
    pretend_training(busy)
    at = open_page("train")
    assert "running" in texts(at) and "Stop" in labels(at.button)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("still training" in e.value for e in at.error)
    assert runs.list_runs(runs_dir) == [busy]  # nothing was created, no trainer was started

    next(b for b in at.button if b.label == "Stop").click().run()
    assert busy.stop_requested() and "Stop requested" in texts(at)


def test_train_refuses_to_resume_a_run_while_another_trains(runs_dir, tiny_run, copy_run, tmp_path,
                                                            pretend_training):
    stopped = runs.RunDir(copy_run(tiny_run, tmp_path).rename(runs_dir / "00001-stopped"))
    stopped.write_status(state="stopped")
    only_run_before = runs.list_runs(runs_dir)[0]
    pretend_training(only_run_before)
    at = open_page("train")
    at.selectbox(key="train_run").set_value(stopped).run()
    assert "stopped" in texts(at)
    next(b for b in at.button if b.label == "Resume").click().run()
    assert any("00000-tiny is still training" in e.value for e in at.error)
    assert stopped.state == "stopped"  # no trainer was spawned


def test_train_start_with_a_zip_without_images_says_why(runs_dir):
    at = open_page("train")
    at.radio[0].set_value("Zip of images").run()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes.txt", "no pictures here")
    at.get("file_uploader")[0].upload("notes.zip", archive.getvalue(), "application/zip")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    assert any("no image files" in e.value for e in at.error)
    assert len(runs.list_runs(runs_dir)) == 1


def test_train_failed_run_shows_the_error_and_the_log(runs_dir):
    run = only_run(runs_dir)
    run.write_status(state="failed", error="the generator produced NaN/Inf images at epoch 2")
    run.log_path.write_text("epoch 1/2  0.5s  g_loss 0.7\nTraceback: something went wrong here\n")
    at = open_page("train", errors_expected=True)
    assert any("NaN/Inf" in e.value for e in at.error)
    assert "something went wrong here" in texts(at)
    assert "Resume" in labels(at.button)


# --- Snapshots --------------------------------------------------------------------------------------

def test_snapshots_slider_chart_and_gif(runs_dir):
    at = open_page("snapshots")
    (slider,) = at.select_slider
    assert slider.options == ["0 (untrained)", "1", "2"] and slider.value == 2
    assert len(at.get("plotly_chart")) == 3  # the losses; what D sees over epochs and at this epoch
    vline = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["shapes"][0]
    assert vline["x0"] == 2
    latest = image_urls(at)[0]
    slider.set_value(0).run()
    assert image_urls(at)[0] != latest and "before training" in texts(at)

    next(b for b in at.button if b.label == "Play").click().run()  # each rerun while playing moves one epoch
    assert "Pause" in labels(at.button) and at.select_slider[0].value == 1

    next(b for b in at.button if b.label == "Make GIF").click().run()
    assert_clean(at)
    at.download_button[0].click().run()
    (gif,) = only_run(runs_dir).exports_dir.glob("*.gif")
    assert gif.name == "00000-tiny_snapshots_4fps_loop0.gif"
    assert iio.imread(gif, index=None).shape[0] == 3  # epochs 0, 1 and 2
    assert "Saved a copy to" in texts(at)


def _record_quality(run: runs.RunDir, epoch: int, fid: float, n: int = 500) -> None:
    """What `python -m gan_core evaluate RUN --epochs all` appends for one epoch (metrics.evaluate's result shape)."""
    runs.append_quality(run, {"dataset": "mnist", "kind": "digits", "n": n, "epoch": epoch, "metrics": {
        "classifier_fid": {"metric": "classifier_fid", "value": fid, "floor": 0.6, "n": n, "better": "lower",
                           "dataset": "mnist", "evaluator": "mnist.keras@0123456789ab", "seconds": 0.5},
        "classifier_score": {"metric": "classifier_score", "value": 2.0 + epoch, "floor": 9.7, "n": n,
                             "better": "higher", "dataset": "mnist", "max": 10, "seconds": 0.1},
        "mode_coverage": {"metric": "mode_coverage", "value": 0.4 / epoch, "floor": 0.003, "n": n, "better": "lower",
                          "dataset": "mnist", "classes_covered": 7 + epoch, "num_classes": 10,
                          "histogram": [n // 10] * 10, "floor_classes_covered": 10, "class_names": list("0123456789"),
                          "coverage_rule": "a class is covered with >= 10% of its expected count", "seconds": 0.1}}})


def only_run_named(runs_dir: Path, name: str) -> runs.RunDir:
    (run,) = [r for r in runs.list_runs(runs_dir) if r.name == name]
    return run


def test_snapshots_quality_chart_marks_the_epoch_or_says_how_to_measure_it(runs_dir, tiny_run, copy_run, tmp_path):
    evaluated = runs.RunDir(copy_run(tiny_run, tmp_path).rename(runs_dir / "00001-evaluated"))
    _record_quality(evaluated, 1, 80.0)
    _record_quality(evaluated, 2, 50.0)
    assert len(runs.read_quality(evaluated)) == 6
    at = open_page("snapshots")
    assert at.selectbox(key="snapshots_run").value == evaluated  # the newest run
    assert [t.label for t in at.tabs] == ["Losses", "Quality", "What D sees"]
    loss_chart, quality_chart = (json.loads(c.proto.spec) for c in at.get("plotly_chart")[:2])
    assert [t["name"] for t in quality_chart["data"]] == ["classifier-FID", "classifier score", "mode coverage KL"]
    assert quality_chart["data"][0]["x"] == [1, 2] and quality_chart["data"][0]["y"] == [80.0, 50.0]
    assert loss_chart["layout"]["shapes"][0]["x0"] == 2
    assert [a["text"] for a in quality_chart["layout"]["annotations"]].count("real-data floor") == 3
    floors = [s["y0"] for s in quality_chart["layout"]["shapes"] if s["y0"] == s["y1"]]
    assert floors == [0.6, 9.7, 0.003]
    marks = [s["x0"] for s in quality_chart["layout"]["shapes"] if s["x0"] == s["x1"]]
    assert marks == [2, 2, 2]  # the selected epoch, in every panel

    at.select_slider[0].set_value(1).run()
    assert_clean(at)
    quality_chart = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert [s["x0"] for s in quality_chart["layout"]["shapes"] if s["x0"] == s["x1"]] == [1, 1, 1]

    unevaluated = only_run_named(runs_dir, "00000-tiny")
    at.selectbox(key="snapshots_run").set_value(unevaluated).run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 3  # the losses and what D sees; no quality chart
    assert f"python -m gan_core evaluate {unevaluated.path} --epochs all" in texts(at)


def test_snapshots_loss_chart_has_the_balance_lines_and_the_architecture_of_g_and_d(runs_dir):
    at = open_page("snapshots")
    loss_chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    balance = [s["y0"] for s in loss_chart["layout"]["shapes"] if s["y0"] == s["y1"]]
    assert balance == pytest.approx([0.6931, 1.3863, 0.5], abs=1e-4)  # bce: ln 2, 2 ln 2, D(x) = D(G(z)) = 0.5
    assert "G loss ln 2 ≈ 0.69" in texts(at)
    (box,) = [e for e in at.expander if e.label == "Architecture: the layers of G and D"]
    assert not at.dataframe  # closed: nothing loaded or built
    at.session_state["snapshots_architecture"] = True  # what opening the expander does
    at.run()
    assert_clean(at)
    generator, discriminator = (d.value for d in at.dataframe)
    assert list(generator.columns) == ["layer (type)", "output shape", "parameters"]
    assert generator["layer (type)"].iloc[0] == "z (InputLayer)"
    assert generator["output shape"].iloc[-1] == "(None, 28, 28, 1)"
    assert discriminator["output shape"].iloc[-1] == "(None, 1)"
    assert (generator["parameters"].sum(), discriminator["parameters"].sum()) == (2_330_944, 212_865)
    page = plain(texts(at))
    assert "**Generator** · 2,330,944 parameters" in page and "**Discriminator** · 212,865 parameters" in page
    assert "generators/epoch_0002.keras" in page


# --- Compare runs -------------------------------------------------------------------------------------

def changed_copy(tiny_run, copy_run, tmp_path, runs_dir: Path, name: str, **changes) -> runs.RunDir:
    """A copy of the tiny run as `name` in the runs folder, with config fields changed as if it trained so."""
    run = runs.RunDir(copy_run(tiny_run, tmp_path).rename(runs_dir / name))
    run.config_path.write_text(json.dumps({**run.config_dict(), **changes}))
    return run


def test_compare_two_runs_curves_quality_grids_on_one_slider_and_what_differs(runs_dir, tiny_run, copy_run,
                                                                              tmp_path):
    smooth = changed_copy(tiny_run, copy_run, tmp_path, runs_dir, "00001-smooth", real_label=0.9, beta_1=0.5)
    (smooth.samples_dir / "epoch_0001.png").unlink()  # its grids: epochs 0 and 2
    _record_quality(smooth, 2, 50.0)
    at = open_page("compare")
    assert [r.name for r in at.multiselect(key="compare_runs").value] == ["00001-smooth", "00000-tiny"]

    summary, differences = (d.value for d in at.dataframe)
    assert list(summary.columns) == ["measure", "00001-smooth", "00000-tiny"]
    rows = summary.set_index("measure")
    assert rows.loc["epochs"].tolist() == ["2", "2"]
    assert rows.loc["classifier-FID ↓"].tolist() == ["50", "—"]  # only the smoothed run was evaluated
    assert {"G loss", "D loss", "D(x)", "D(G(z))", "images/s", "training time (min)"} <= set(rows.index)
    assert differences.to_dict("records") == [
        {"field": "real_label", "00001-smooth": "0.9", "00000-tiny": "1"},
        {"field": "beta_1", "00001-smooth": "0.5", "00000-tiny": "0.9"}]

    curves, quality = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    assert [t["name"] for t in curves["data"] if t.get("showlegend") is not False] == \
        ["00001-smooth", "00000-tiny", "balance"]
    assert curves["layout"]["annotations"][0]["text"] == "G loss · balance 0.80 / 0.69"  # smoothing moves it
    assert {t["name"] for t in quality["data"]} == {"00001-smooth"}
    assert "each run's balance" in texts(at)

    def grid_captions():
        return [caption for image in at.get("image") for caption in image.captions]

    (slider,) = at.select_slider  # one slider: the epochs both runs have a grid for
    assert slider.options == ["0 (untrained)", "2"] and slider.value == 2
    assert grid_captions() == ["00001-smooth · epoch 2", "00000-tiny · epoch 2"]
    assert "each grid is at exactly the chosen epoch" in texts(at)
    at.toggle(key="compare_every_epoch").set_value(True).run()
    assert at.select_slider[0].options == ["0 (untrained)", "1", "2"]
    at.select_slider[0].set_value(1).run()
    assert_clean(at)
    assert grid_captions() == ["00001-smooth · epoch 0 (nearest to 1)", "00000-tiny · epoch 1"]
    assert "shows its nearest" in texts(at)

    at.toggle(key="compare_by_time").set_value(True).run()
    assert_clean(at)
    curves = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert curves["layout"]["xaxis3"]["title"]["text"] == "training time (minutes)"


def test_compare_with_one_run_chosen_asks_for_a_second_and_with_one_candidate_says_so(runs_dir, tmp_path,
                                                                                      monkeypatch):
    at = open_page("compare")  # one training run and one pretrained model: only the run is picked at first
    chosen = at.multiselect(key="compare_runs")
    assert [r.name for r in chosen.value] == ["00000-tiny"]
    (info,) = at.info
    assert "Pick at least two runs" in info.value and "00000-tiny is the only one" in plain(info.value)
    assert not at.get("plotly_chart") and not at.dataframe and not at.select_slider

    (pretrained,) = runs.list_pretrained(tmp_path / "pretrained")
    chosen.select(pretrained).run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 1 and len(at.get("image")) == 2
    assert "Their configs are the same" in texts(at)  # the pretrained model is a copy of the run

    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(tmp_path / "none"))
    at = open_page("compare")
    (info,) = at.info
    assert "Comparing needs two runs" in info.value and not at.multiselect


# --- Latent space --------------------------------------------------------------------------------------

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
    from gan_core import latent

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
    a = latent.mean_z_of_seeds([1, 4, 7], 100)
    expected = a - latent.z_from_seed(2, 100) + latent.z_from_seed(3, 100)
    np.testing.assert_allclose(at.session_state["latent_z"], expected, atol=1e-6)
    assert "A − B + C (1,4,7 − 2 + 3)" in texts(at) and image_urls(at)[0] == urls[-1]  # the editor shows it
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


# --- Export ------------------------------------------------------------------------------------------

def test_export_grid_png_and_interpolation_gif(runs_dir):
    at = open_page("export")
    run = only_run(runs_dir)
    assert str(run.exports_dir) in texts(at)
    for label, value in (("Rows", 2), ("Columns", 3), ("First seed", 10), ("Pixel scale", 2), ("Steps", 5)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    at.run()
    assert_clean(at)
    png_button, gif_button = at.download_button
    png_button.click().run()
    png = run.exports_dir / "00000-tiny_epoch0002_grid2x3_seed10_x2.png"
    assert iio.imread(png).shape[:2] == (2 * (2 * 28 + 3 * 2), 2 * (3 * 28 + 4 * 2))  # pad 2, scale 2
    gif_button.click().run()
    (gif,) = run.exports_dir.glob("*.gif")
    assert iio.imread(gif, index=None).shape[0] == 8  # 5 steps forth and 3 back

    grid_before = image_urls(at)[0]
    (psi,) = at.slider
    assert psi.label == "Truncation ψ" and psi.value == 1
    psi.set_value(0.5).run()
    assert_clean(at)
    assert image_urls(at)[0] != grid_before and "seeds 10…15 · ψ = 0.50" in texts(at)
    png_button, gif_button = at.download_button
    png_button.click().run()
    assert (run.exports_dir / "00000-tiny_epoch0002_grid2x3_seed10_x2_psi0.50.png").is_file()
    assert "ψ = 0.50" in [c for image in at.get("image") for c in image.captions][1]  # the GIF too

    for label, value in (("Rows", 32), ("Columns", 32), ("Pixel scale", 16)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    at.run()
    assert not at.exception and any("the most is 4096 a side" in e.value for e in at.error)


def test_a_run_whose_trainer_was_killed_shows_interrupted_with_resume(runs_dir):
    import subprocess
    import sys

    run = only_run(runs_dir)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run.write_status(state="running", pid=dead.pid, host=socket.gethostname())
    at = open_page("train")
    assert "interrupted" in texts(at)
    assert "Resume" in labels(at.button) and "Stop" not in labels(at.button)


# --- Translate (image-to-image models) ----------------------------------------------------------------

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


def test_train_form_follows_the_task_of_the_preset(translation_runs_dir):
    at = open_page("train")
    preset = next(s for s in at.selectbox if s.label == "Preset")
    preset.set_value("pix2pix_edges_digits").run()
    assert_clean(at)
    pairing = next(s for s in at.selectbox if s.label.startswith("Pairing"))
    assert pairing.value == "edges" and "Noise dimensions" not in labels(at.number_input)
    next(s for s in at.selectbox if s.label == "Preset").set_value("cyclegan_mnist_fashion").run()
    assert_clean(at)
    assert labels(at.radio)[:2] == ["Domain A images", "Domain B images"]
    assert next(r for r in at.radio if r.label == "Domain B images").value == "Fashion-MNIST"
    assert "Domain B data file or folder (optional)" in labels(at.text_input)
    run = next(s for s in at.selectbox if s.label == "Run")  # the live view of an image-to-image run
    run.set_value(next(o for o in run.options if "cyclegan" in str(o))).run()
    assert_clean(at)
    assert "held-out A → B → A | B → A → B after epoch 2" in texts(at)


# --- hostile names and files (hostile-user sweep, item 4) -----------------------------------------------------------

XSS_NAME = "00001-<iframe srcdoc=\"&lt;script&gt;top.document.title=1&lt;&#47;script&gt;\">[x](http:example.com)"


def hostile_run(runs_dir) -> runs.RunDir:
    """A copy of the tiny run whose folder name and status.json carry markup, as anyone with the runs folder can."""
    run = runs.RunDir(only_run(runs_dir).path.rename(runs_dir / XSS_NAME))
    run.write_status(device="<img src=x onerror=alert(1)> ![tracker](http://example.com/pixel.png)")
    return run


def test_markup_in_a_run_folder_name_or_status_renders_as_text(runs_dir):
    hostile_run(runs_dir)
    for page in ("home", "train"):
        at = open_page(page)
        shown = [e for kind in ("markdown", "caption") for e in at.get(kind)]
        assert not any(e.proto.allow_html for e in shown)  # no value from disk is ever rendered as HTML
        text = texts(at)
        assert "\\<iframe srcdoc=" in text and "\\[x\\]\\(http\\:example.com\\)" in text  # literal, escaped
        assert "<iframe" not in text.replace("\\<iframe", "")
    assert "\\<img src=x onerror=alert\\(1\\)\\>" in text and "\\!\\[tracker\\]" in text


def test_compare_shows_a_markup_run_name_as_text_under_its_grid(runs_dir, tmp_path):
    hostile_run(runs_dir)
    at = open_page("compare")  # one training run and one pretrained model: pick the model too
    (pretrained,) = runs.list_pretrained(tmp_path / "pretrained")
    at.multiselect(key="compare_runs").select(pretrained).run()
    assert_clean(at)
    caption = next(c for image in at.get("image") for c in image.captions if "iframe" in c)
    assert caption.startswith("00001-\\<iframe srcdoc=") and "\\[x\\]\\(http\\:example.com\\)" in caption
    assert XSS_NAME in at.dataframe[0].value.columns  # tables show it as it is: plain text


def test_a_zip_member_name_in_an_error_is_shown_as_text(runs_dir):
    at = open_page("train")
    at.radio[0].set_value("Zip of images").run()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../[click](http://example.com)![i](http://example.com/p.png).png", b"x")
    at.get("file_uploader")[0].upload("![u](http://example.com/u.png).zip", archive.getvalue(), "application/zip")
    next(b for b in at.button if b.label == "Start training").click().run()
    (error,) = at.error
    assert "points outside the folder" in error.value
    assert "](" not in error.value.replace("\\](", "") and "![" not in error.value.replace("\\!\\[", "")
    assert len(runs.list_runs(runs_dir)) == 1


def test_resume_without_a_readable_checkpoint_is_refused_and_start_over_keeps_the_old_epochs(runs_dir, monkeypatch):
    from gan_core import launch

    run = only_run(runs_dir)  # a copy without checkpoints, as if they were deleted
    run.write_status(state="stopped")
    spawned = []
    monkeypatch.setattr(launch, "spawn", lambda run, restart=False: spawned.append(restart))
    at = open_page("train")
    next(b for b in at.button if b.label == "Resume").click().run()
    assert any("no readable checkpoint" in e.value and "Start over" in e.value for e in at.error)
    assert spawned == [] and run.generator_epochs() == [1, 2]
    next(b for b in at.button if b.label == "Start over from epoch 0").click().run()
    assert spawned == [True]  # the trainer is told to restart; it moves the old epochs aside itself


# --- issue 15: one bad folder never breaks a page; a generator the explorer cannot draw is a message ----------------

BAD_NAME = "00009-![i](x.png)*e*"  # markup in a folder name: the note shows it as code, never as an image


def add_bad_folders(runs_dir: Path, source: runs.RunDir) -> None:
    """Copies of a good run whose config.json, or status.json, is a JSON list (hand-edited, or another tool's)."""
    import shutil

    for name, file in ((BAD_NAME, "config.json"), ("00008-bad-status", "status.json")):
        target = runs_dir / name
        shutil.copytree(source.path, target, ignore=shutil.ignore_patterns("checkpoints", "tb", ".lock"))
        (target / file).write_text('["not", "an", "object"]')


def assert_notes_name_the_bad_folders(at: AppTest) -> None:
    captions = [plain(c.value) for c in at.caption]  # the reason is escaped: it may quote config.json
    assert any("Skipped `00008-bad-status`: status.json is not a JSON object (it holds a list)" in c
               for c in captions), captions
    assert any(f"Skipped `{BAD_NAME}`: config.json is not a JSON object (it holds a list)" in c for c in captions)


@pytest.mark.parametrize("page", ["home", "train", "latent", "export", "snapshots", "compare"])
def test_a_run_folder_whose_json_is_a_list_is_skipped_with_a_note(runs_dir, page):
    good = only_run(runs_dir)
    add_bad_folders(runs_dir, good)
    at = open_page(page)  # before: AttributeError: 'list' object has no attribute 'get' on every one of these
    assert_clean(at)
    assert_notes_name_the_bad_folders(at)
    if page in ("home", "train"):
        assert "00000-tiny" in texts(at)
    if page in ("latent", "export"):
        assert image_urls(at)  # the good run still draws


def test_translate_skips_a_bad_folder_with_a_note(translation_runs_dir):
    good = next(r for r in runs.list_runs(translation_runs_dir) if r.task == "pix2pix")
    add_bad_folders(translation_runs_dir, good)
    at = open_page("translate")
    assert_clean(at)
    assert_notes_name_the_bad_folders(at)
    assert image_urls(at)


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


def test_train_device_strategy_and_xla_reach_the_new_runs_config(runs_dir, monkeypatch):
    from gan_core import launch

    spawned = []
    monkeypatch.setattr(launch, "spawn", lambda run, restart=False: spawned.append(run))
    at = open_page("train")
    assert "TensorFlow sees: **CPU (" in plain(texts(at))
    train_on = next(s for s in at.selectbox if s.label == "Train on")
    assert train_on.options == ["auto (TensorFlow's first GPU, else the CPU)", "CPU only"]  # no GPU here
    train_on.set_value("cpu")
    next(s for s in at.selectbox if s.label == "Strategy (tf.distribute)").set_value("mirrored")
    xla = next(s for s in at.selectbox if s.label == "XLA (jit_compile)")
    assert "0.55x" in xla.help
    xla.set_value("on")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    (run,) = spawned
    cfg = run.config()
    assert (cfg.device, cfg.strategy, cfg.jit_compile) == ("cpu", "mirrored", "on")


def test_train_gan_options_from_the_notes_reach_the_new_runs_config(runs_dir, monkeypatch):
    from gan_core import launch

    spawned = []
    monkeypatch.setattr(launch, "spawn", lambda run, restart=False: spawned.append(run))
    at = open_page("train")

    def field(kind, label):
        return next(w for w in at.get(kind) if w.label == label)

    assert field("selectbox", "Loss").value == "bce" and field("number_input", "Adam β1").value == 0.9
    field("selectbox", "Loss").set_value("lsgan")
    field("number_input", "Real label (label smoothing)").set_value(0.9)
    field("number_input", "Adam β1").set_value(0.5)
    field("selectbox", "Noise distribution").set_value("uniform")
    field("number_input", "D steps per G step").set_value(2)
    field("selectbox", "Update order").set_value("alternating")
    field("number_input", "Gradient clipping (global norm, 0 = off)").set_value(1.0)
    field("number_input", "EMA of G (decay, 0 = off)").set_value(0.99)
    field("multiselect", "DiffAugment (before D)").set_value(["translation", "cutout"])
    field("number_input", "Snapshot grid (n x n)").set_value(6)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    (run,) = spawned
    cfg = run.config()
    assert (cfg.loss, cfg.real_label, cfg.beta_1, cfg.noise, cfg.d_steps, cfg.update, cfg.clip_norm, cfg.ema_decay,
            cfg.augment, cfg.grid) == ("lsgan", 0.9, 0.5, "uniform", 2, "alternating", 1.0, 0.99,
                                       "translation,cutout", 6)


def test_train_gan_options_show_for_latent_gans_only(translation_runs_dir):
    at = open_page("train")
    assert "Loss" in labels(at.selectbox)
    at.selectbox[0].set_value("pix2pix_edges_digits").run()
    assert "Loss" not in labels(at.selectbox) and "Train on" in labels(at.selectbox)


def test_train_live_view_raises_the_mode_collapse_alarm(runs_dir):
    run = only_run(runs_dir)
    run.log_metrics({"kind": "discriminator", "epoch": 2, "diversity": 0.2, "d_accuracy": 0.7})
    at = open_page("train")
    assert any("Mode collapse likely at epoch 2" in w.value and "what to try" in w.value for w in at.warning)


def test_lab_steps_d_and_g_and_the_grid_and_scores_change(runs_dir, mnist_npz, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(mnist_npz.parent))
    at = open_page("lab")
    assert "Press **D step**" in texts(at)
    grids = [image_urls(at)]

    def click(label):
        next(b for b in at.button if b.label == label).click().run()
        assert_clean(at)
        grids.append(image_urls(at))

    click("D step")
    assert "Last update: **D**" in texts(at) and {"G loss", "D loss", "D(x)", "D(G(z))"} <= set(labels(at.metric))
    d_only = {m.label: m.value for m in at.metric}
    click("G step")
    assert "Last update: **G**" in texts(at)
    click("10 steps")
    assert "after 22 updates" in texts(at)  # 1 + 1 + 10 x (1 D + 1 G)
    next(s for s in at.selectbox if s.label == "Loss").set_value("hinge").run()
    next(n for n in at.number_input if n.label == "D steps per G step").set_value(2).run()
    click("Full step")
    assert "after 25 updates" in texts(at)  # + 2 D + 1 G
    assert {m.label: m.value for m in at.metric} != d_only
    next(n for n in at.number_input if n.label == "Real label").set_value(0.9).run()
    assert any("label smoothing means nothing to the hinge loss" in e.value for e in at.error)


def test_snapshots_shows_what_d_sees_with_the_grids_best_and_worst_cells(runs_dir):
    at = open_page("snapshots")
    text = texts(at)
    assert "D's score is its probability that an image is real" in text
    assert "Most real-looking to D" in text and "Least real-looking" in text
    captions = [c for image in at.get("image") for c in image.captions]
    scores = [float(c.split(": ")[1]) for c in captions if c.startswith("seed ")]
    assert len(scores) == 8 and scores[:4] == sorted(scores[:4], reverse=True) and min(scores[:4]) >= max(scores[4:])



def test_snapshots_scores_an_older_runs_grid_with_its_checkpoints_d(runs_dir, tiny_run):
    run = only_run(runs_dir)
    if not run.checkpoints()[0]:  # the runs_dir copy may leave checkpoints out: bring tiny_run's along
        import shutil

        shutil.copytree(tiny_run.checkpoints_dir, run.checkpoints_dir, dirs_exist_ok=True)
    kept = [line for line in run.metrics_path.read_text().splitlines() if '"discriminator"' not in line]
    run.metrics_path.write_text("\n".join(kept) + "\n")  # as a run trained before D's verdicts were logged
    at = open_page("snapshots")
    assert "no record of D's verdicts" in texts(at)
    next(b for b in at.button if b.label == "Score this grid with the checkpoint's D").click().run()
    assert_clean(at)
    assert "Scored by the D of checkpoint step_" in texts(at) and "Most real-looking to D" in texts(at)
