"""What pretrained/ ships: every model loads from its run-style folder and draws images of its configured shape."""
import json
from pathlib import Path

import numpy as np
import pytest

from gan_core import latent_space, tasks
from gan_core.inference import Generator, examples
from gan_core.runs import list_pretrained
from gan_core.tasks import load as load_translators

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"
MODELS = list_pretrained(PRETRAINED)
GENERATORS = [m for m in MODELS if tasks.of_run(m).draws_from_noise]
TRANSLATORS = [m for m in MODELS if not tasks.of_run(m).draws_from_noise]
EXPECTED = {"mnist_dcgan", "fashion_dcgan", "faces_gray64", "faces_rgb64", "mnist_dense", "mnist_cdcgan", "digits32",
            "pix2pix_edges_digits", "pix2pix_colour_faces", "cyclegan_mnist_fashion"}


def test_the_promised_models_are_shipped():
    assert EXPECTED <= {m.name for m in MODELS}


@pytest.mark.parametrize("model", GENERATORS, ids=[m.name for m in GENERATORS])
def test_each_model_loads_and_draws_its_configured_images(model):
    cfg = json.loads((model.path / "config.json").read_text())
    g = Generator.load(model.generator_path(model.generator_epochs()[-1]))
    assert g.noise_dim == cfg["noise_dim"] and g.noise == cfg["noise"] and g.pixel_range == cfg["pixel_range"]
    assert g.num_classes == cfg.get("num_classes", 0)
    images = g.images_uint8(latent_space.z_from_seeds(range(8), g.noise_dim, g.noise))
    assert images.shape == (8, cfg["image_size"], cfg["image_size"], cfg["channels"])
    assert images.std() > 20, "a shipped generator should draw something, not a flat image"
    assert np.abs(images[0].astype(int) - images[1]).mean() > 5, "different seeds should draw different images"


@pytest.mark.parametrize("model", TRANSLATORS, ids=[m.name for m in TRANSLATORS])
def test_each_translator_loads_and_translates_its_held_out_examples(model):
    cfg = json.loads((model.path / "config.json").read_text())
    translators = load_translators(model)
    assert set(translators) == set(tasks.of_run(model).directions)
    saved = examples(model)
    inputs = {"AtoB": saved.get("inputs", saved.get("a")), "BtoA": saved.get("b")}
    for direction, translator in translators.items():
        x = inputs[direction][:8]
        out = translator(x)
        assert out.shape == (8, cfg["image_size"], cfg["image_size"], cfg["channels"])
        assert (out * 255).std() > 20, "a shipped translator should draw something, not a flat image"
        if x.shape == out.shape:
            assert np.abs(out - x).mean() > 0.02, "a translator that returns its input learned nothing"


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_each_model_has_a_card_and_no_local_data_path(model):
    card = (model.path / "MODEL_CARD.md").read_text()
    assert "Licence" in card or "licence" in card
    config = json.loads((model.path / "config.json").read_text())
    assert config["data"] is None and config.get("data_b") is None
    assert not (model.path / "checkpoints").exists(), "no optimizer state in pretrained/"


def test_pretrained_stays_small():
    total = sum(f.stat().st_size for f in PRETRAINED.rglob("*") if f.is_file())
    # ten models and two evaluators: tens of MB, not the hundreds that optimizer state or checkpoints would add
    assert total < 100 * 2**20, f"pretrained/ is {total / 2**20:.0f} MB; ship generators only"
