"""The Home page through streamlit's AppTest, against a copy of a real (tiny) training run."""
import pytest
from apptest_helpers import image_urls, open_page, texts

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


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
