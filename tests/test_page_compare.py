"""The Compare runs page through streamlit's AppTest."""
import json
from pathlib import Path

import pytest
from apptest_helpers import assert_clean, open_page, plain, record_quality, texts

from gan_core import runs

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


def changed_copy(tiny_run, copy_run, tmp_path, runs_dir: Path, name: str, **changes) -> runs.RunDir:
    """A copy of the tiny run as `name` in the runs folder, with config fields changed as if it trained so."""
    run = runs.RunDir(copy_run(tiny_run, tmp_path).rename(runs_dir / name))
    run.config_path.write_text(json.dumps({**run.config_dict(), **changes}))
    return run


def test_compare_two_runs_curves_quality_grids_on_one_slider_and_what_differs(runs_dir, tiny_run, copy_run,
                                                                              tmp_path):
    smooth = changed_copy(tiny_run, copy_run, tmp_path, runs_dir, "00001-smooth", real_label=0.9, beta_1=0.5)
    (smooth.samples_dir / "epoch_0001.png").unlink()  # its grids: epochs 0 and 2
    record_quality(smooth, 2, 50.0)
    at = open_page("compare")
    assert [r.name for r in at.multiselect(key="compare_runs").value] == ["00001-smooth", "00000-tiny"]

    summary, differences = (d.value for d in at.dataframe)
    assert list(summary.columns) == ["measure", "00001-smooth", "00000-tiny"]
    rows = summary.set_index("measure")
    assert rows.loc["epochs"].tolist() == ["2", "2"]
    assert rows.loc["classifier-FID ↓"].tolist() == ["50", "—"]  # only the smoothed run was evaluated
    assert {"G loss", "D loss", "D(x)", "D(G(z))", "images/s", "training time (min)"} <= set(rows.index)
    assert differences.to_dict("records") == [
        {"field": "beta_1", "00001-smooth": "0.5", "00000-tiny": "0.9"},  # what every run has, then the task's
        {"field": "real_label", "00001-smooth": "0.9", "00000-tiny": "1"}]

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
