"""Home with many runs: the newest page of cards, pages and a filter reaching the rest (a card per run of a
thousand took 30 s)."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import config, runs

APP = Path(__file__).resolve().parents[1] / "app.py"
PRESETS = ("mnist_dcgan", "fashion_dcgan", "mnist_dense")
STATES = ("done", "stopped", "failed")


@pytest.fixture
def many_runs(tmp_path, monkeypatch):
    """45 valid run folders (numbered 0..44, names '<preset>-<i>', presets and states in turn), no pretrained."""
    root = tmp_path / "runs"
    template = runs.create_run(tmp_path / "template", config.from_preset("mnist_dcgan", {"name": "t",
                                                                                          "precision": "float32"}))
    base = json.loads(template.config_path.read_text())
    for i in range(45):
        preset, state = PRESETS[i % 3], STATES[i % 3]
        run = root / f"{i:05d}-{preset}-{i}"
        (run / "samples").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({**base, "name": f"{preset}-{i}", "preset": preset}))
        (run / "status.json").write_text(json.dumps({"state": state, "epoch": 1, "epochs": 1}))
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(tmp_path / "no-pretrained"))
    return root


def cards(at: AppTest) -> list[str]:
    """The run names on the page's cards, newest first (the two columns' cards read in AppTest column by column)."""
    names = [m.value.strip("*").replace("\\", "") for m in at.markdown if m.value.startswith("**000")]
    return sorted(names, reverse=True)


def test_home_shows_the_newest_runs_and_pages_and_a_filter_reach_the_others(many_runs):
    # the second run: AppTest's first one is app.py's, whose widget ids the next (in its pages mode) does not share
    at = AppTest.from_file(str(APP), default_timeout=120).run().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value == "Training runs (45)" for s in at.subheader)
    assert cards(at) == [f"{i:05d}-{PRESETS[i % 3]}-{i}" for i in range(44, 24, -1)]  # 20, newest first

    at.number_input(key="home_page").set_value(3).run()
    assert cards(at) == [f"{i:05d}-{PRESETS[i % 3]}-{i}" for i in range(4, -1, -1)]
    assert any("Runs 41–45 of 45" in c.value for c in at.caption)

    at.text_input(key="home_filter").input("fashion STOPPED").run()  # every word, any case: name, preset, state
    shown = cards(at)
    assert shown == [f"{i:05d}-fashion_dcgan-{i}" for i in range(43, -1, -3)]  # 15 runs: one page
    assert not at.exception and any("holding" in c.value for c in at.caption)

    at.text_input(key="home_filter").input("cyclegan").run()
    assert cards(at) == [] and any("No run's name, preset or state holds" in c.value for c in at.caption)
