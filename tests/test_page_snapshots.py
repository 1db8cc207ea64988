"""The Snapshots page through streamlit's AppTest: the epoch slider, the charts, the GIF and what D sees."""
import json
from pathlib import Path

import imageio.v3 as iio
import pytest
from apptest_helpers import assert_clean, image_urls, labels, only_run, open_page, plain, record_quality, texts

from gan_core import runs

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


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


def only_run_named(runs_dir: Path, name: str) -> runs.RunDir:
    (run,) = [r for r in runs.list_runs(runs_dir) if r.name == name]
    return run


def test_snapshots_quality_chart_marks_the_epoch_or_says_how_to_measure_it(runs_dir, tiny_run, copy_run, tmp_path):
    evaluated = runs.RunDir(copy_run(tiny_run, tmp_path).rename(runs_dir / "00001-evaluated"))
    record_quality(evaluated, 1, 80.0)
    record_quality(evaluated, 2, 50.0)
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
