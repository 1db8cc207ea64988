"""Class-conditional generation (mnist_cdcgan): labels in, the right class out; the digit picker and class walks."""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_core import config, evaluation, latent_space, models
from gan_core.errors import ConfigError, GanError
from gan_core.explore import grids_and_gifs, picture_projection
from gan_core.files import pictures
from gan_core.inference import Generator

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PRETRAINED = ROOT / "pretrained" / "mnist_cdcgan"


@pytest.fixture(scope="module")
def mnist(mnist_npz: Path) -> Path:
    return mnist_npz


# --- labels ------------------------------------------------------------------------------------------------------

def test_labels_for_cycles_repeats_lists_and_blends():
    assert latent_space.labels_for(12, 10).argmax(axis=1).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert latent_space.labels_for(3, 10, 7).argmax(axis=1).tolist() == [7, 7, 7]
    assert latent_space.labels_for(3, 10, [2, 0, 9]).argmax(axis=1).tolist() == [2, 0, 9]
    one_hot = latent_space.labels_for(4, 10, [1, 1, 1, 1])
    assert one_hot.dtype == np.float32 and one_hot.sum(axis=1).tolist() == [1, 1, 1, 1]
    blend = latent_space.class_blend(3, 8, 5, 10)
    assert latent_space.labels_for(5, 10, blend) is not None
    assert blend[0].argmax() == 3 and blend[-1].argmax() == 8 and blend[2, 3] == blend[2, 8] == 0.5
    assert np.allclose(blend.sum(axis=1), 1.0)
    for bad in (10, -1, [1, 2]):
        with pytest.raises(ValueError):
            latent_space.labels_for(3, 10, bad)
    with pytest.raises(ConfigError):
        latent_space.class_blend(1, 2, 1, 10)


def test_config_ties_num_classes_to_a_conditional_architecture_and_labelled_data():
    cfg = config.from_preset("mnist_cdcgan", {})
    assert cfg.num_classes == 10 and cfg.validate() is cfg
    with pytest.raises(ConfigError, match="class-conditional: set num_classes"):
        config.from_preset("mnist_cdcgan", {"num_classes": 0}).validate()
    with pytest.raises(ConfigError, match="takes no class label.*mnist_cdcgan"):
        config.from_preset("mnist_dcgan", {"num_classes": 10}).validate()
    with pytest.raises(ConfigError, match="needs labelled data"):
        config.from_preset("mnist_cdcgan", {"dataset": "folder", "data": "/tmp"}).validate()
    assert models.conditional_names() == ["mnist_cdcgan"]


def test_the_networks_take_the_label_as_a_second_input():
    cfg = config.from_preset("mnist_cdcgan", {})
    arch = models.get("mnist_cdcgan")
    G, D = arch.build_generator(cfg), arch.build_discriminator(cfg)
    assert [tuple(i.shape) for i in G.inputs] == [(None, 100), (None, 10)]
    assert tuple(G.output.shape) == (None, 28, 28, 1)
    assert [tuple(i.shape) for i in D.inputs] == [(None, 28, 28, 1), (None, 10)]
    z = latent_space.z_from_seeds([0, 0], 100)
    images = np.asarray(G([z, latent_space.labels_for(2, 10, [1, 7])], training=False))
    assert not np.allclose(images[0], images[1])  # same z, another class: another image


# --- a duck-typed conditional "generator" made of real test digits: metrics on known cases --------------------

class RealDigits:
    """Draws the real test digit of each requested class (or always `only`): agreement is known in advance."""

    noise_dim, noise, num_classes = 4, "normal", 10

    def __init__(self, images: np.ndarray, labels: np.ndarray, only: int | None = None):
        self.by_class = [images[labels == c] for c in range(10)]
        self.only = only

    def __call__(self, z, labels=None):
        classes = latent_space.labels_for(len(z), 10, labels).argmax(axis=1)
        picks = [self.by_class[self.only if self.only is not None else c][i % 50] for i, c in enumerate(classes)]
        return np.stack(picks).astype(np.float32)[..., None] / 255.0


@pytest.fixture(scope="module")
def test_digits(mnist):
    from gan_core.data import load_labelled

    return load_labelled("mnist", "test", mnist, limit=2000)


def test_class_agreement_is_high_for_the_right_class_and_a_tenth_for_one_class(test_digits, shared_data, tmp_path):
    images, labels = test_digits
    good = evaluation.compute("class_agreement", RealDigits(images, labels), n=500, dataset="mnist",
                           data_path=str(shared_data / "mnist.npz"), cache_dir=tmp_path)
    assert good["value"] >= 0.97 and good["floor"] >= 0.98 and good["better"] == "higher"
    assert set(good["per_class"]) == {str(c) for c in range(10)}
    stuck = evaluation.compute("class_agreement", RealDigits(images, labels, only=3), n=500, dataset="mnist",
                            data_path=str(shared_data / "mnist.npz"), cache_dir=tmp_path)
    assert stuck["value"] == pytest.approx(0.1, abs=0.02) and stuck["per_class"]["3"] >= 0.95
    report = evaluation.evaluate(RealDigits(images, labels), dataset="mnist", n=500,
                              data_path=str(shared_data / "mnist.npz"), cache_dir=tmp_path)
    assert "class_agreement" in report["metrics"] and "swd" not in report["metrics"]


def test_class_agreement_refuses_an_unconditional_generator(shared_data, tmp_path):
    class Plain:
        noise_dim, noise = 4, "normal"

        def __call__(self, z):
            return np.zeros((len(z), 28, 28, 1), np.float32)

    with pytest.raises(GanError, match="needs a class-conditional generator"):
        evaluation.evaluate(Plain(), dataset="mnist", n=100, metrics=["class_agreement"],
                         data_path=str(shared_data / "mnist.npz"), cache_dir=tmp_path)
    assert "class_agreement" not in evaluation.names("digits", conditional=False)


# --- training and the Generator wrapper, on a tiny real run -------------------------------------------------------

@pytest.fixture(scope="module")
def cond_run(tmp_path_factory, mnist):
    from gan_core import runs
    from gan_core.tasks import train

    cfg = config.from_preset("mnist_cdcgan", {"data": str(mnist), "epochs": 1, "limit": 256,
                                              "batch_size": 64, "log_every": 2, "name": "tiny-cond"})
    run = runs.create_run(tmp_path_factory.mktemp("cond-runs"), cfg)
    assert train(run) == "done"
    return run


@pytest.mark.slow
def test_a_conditional_run_trains_writes_the_contract_and_loads_as_conditional(cond_run):
    status = cond_run.status()
    assert status["state"] == "done" and status["step"] == status["total_steps"] == 4
    events = " ".join(r["message"] for r in cond_run.metrics("event"))
    assert "labels: 10 classes" in events
    grid = pictures.read_png(cond_run.latest_sample())
    assert grid.shape[:2] == (10 * 28 + 11 * 2,) * 2  # the preset's 10x10 grid: one class per column
    g = Generator.from_run(cond_run)
    assert g.conditional and g.num_classes == 10 and g.class_names[7] == "7"
    z = latent_space.z_from_seeds([5, 5, 5], 100)
    a, b, c = g(z, [2, 2, 8])
    assert np.array_equal(a, b) and not np.allclose(a, c)
    assert np.array_equal(g(z[:1], 4), g(z[:1], latent_space.labels_for(1, 10, 4)))
    assert g(z).shape == (3, 28, 28, 1)  # no labels: the classes in turn


@pytest.mark.slow
def test_grids_and_class_walks_draw_the_classes_asked_for(cond_run):
    g = Generator.from_run(cond_run)
    z = latent_space.z_from_seed(3, 100)
    frames = grids_and_gifs.class_interpolation_frames(g, z, 1, 6, 4)
    assert len(frames) == 4
    assert np.array_equal(frames[0], g.images_uint8(z[None], 1)[0])
    assert np.array_equal(frames[-1], g.images_uint8(z[None], 6)[0])
    sevens = grids_and_gifs.sample_grid(g, 1, 2, seed=3, label=7, pad=0)
    assert np.array_equal(sevens[:, :28], g.images_uint8(z[None], 7)[0])
    with pytest.raises(ValueError, match="must be 0..9"):
        grids_and_gifs.class_interpolation_frames(g, z, 1, 10, 4)
    with pytest.raises(ValueError, match="not class-conditional"):
        fake = type("G", (), {"noise_dim": 4, "noise": "normal", "num_classes": 0, "image_shape": (4, 4, 1)})()
        grids_and_gifs.sample_grid(fake, 1, 1, label=3)


@pytest.mark.slow
def test_projecting_a_generated_image_with_its_class_recovers_it(cond_run):
    g = Generator.from_run(cond_run)
    target = g.images_uint8(latent_space.z_from_seed(11, 100)[None], 4)[0]
    found = picture_projection.project(g, target, steps=60, restarts=2, label=4, evaluator=None)
    assert found.label == 4 and found.pixel_mse < 0.01
    with pytest.raises(GanError, match="the class must be 0..9"):
        picture_projection.project(g, target, steps=5, restarts=1, label=12, evaluator=None)
    searched = picture_projection.project(g, target, steps=5, restarts=3, evaluator=None)
    assert searched.label is not None and 0 <= searched.label < 10


# --- the shipped model ----------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not PRETRAINED.is_dir(), reason="pretrained/mnist_cdcgan is not shipped in this checkout")
def test_pretrained_cdcgan_draws_the_requested_digit_95_percent_of_the_time(shared_data, tmp_path):
    from gan_core.runs import RunDir

    model = RunDir(PRETRAINED)
    g = Generator.from_run(model)
    result = evaluation.compute("class_agreement", g, n=2000, dataset="mnist", data_path=str(shared_data / "mnist.npz"),
                             cache_dir=tmp_path)
    assert result["value"] >= 0.95, result["per_class"]


# --- the app --------------------------------------------------------------------------------------------------------

@pytest.fixture
def cond_app(cond_run, tmp_path, monkeypatch):
    """The app with the tiny conditional run as its only run."""
    import shutil

    root = tmp_path / "runs"
    root.mkdir()
    shutil.copytree(cond_run.path, root / cond_run.name, ignore=shutil.ignore_patterns("checkpoints", "tb", ".lock"))
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(root))
    return root


def open_page(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    return at


def image_urls(at: AppTest) -> list[str]:
    return [url for image in at.get("image") for url in image.value]


def captions(at: AppTest) -> list[str]:
    return [c for image in at.get("image") for c in image.captions]


@pytest.mark.slow
def test_latent_page_digit_picker_and_walk_between_classes(cond_app):
    at = open_page("latent")
    (picker,) = [r for r in at.radio if r.label == "Digit"]
    assert picker.options == [str(d) for d in range(10)] and picker.value == 0
    before, z = image_urls(at)[0], at.session_state["latent_z"].copy()
    picker.set_value(7).run()
    assert not at.exception and not at.error
    assert image_urls(at)[0] != before and captions(at)[0].startswith("7 · seed 0")
    assert np.array_equal(at.session_state["latent_z"], z)  # the class changes, the style (z) stays
    assert "7" in captions(at)[1]  # the seed walk draws the picked digit too

    next(r for r in at.radio if r.label == "Walk").set_value("Between classes").run()
    assert not at.exception and not at.error
    assert {"From class", "To class"} <= {s.label for s in at.selectbox}
    assert any("7 → 8 with the same z" in c for c in captions(at))
    next(s for s in at.selectbox if s.label == "To class").set_value(2).run()
    assert any("7 → 2 with the same z, 8 steps" in c for c in captions(at))


@pytest.mark.slow
def test_export_page_draws_one_class_or_each_in_turn(cond_app):
    at = open_page("export")
    (cls,) = [s for s in at.selectbox if s.label == "Class"]
    assert cls.value is None and next(n for n in at.number_input if n.label == "Columns").value == 10
    in_turn = image_urls(at)[0]
    cls.set_value(5).run()
    assert not at.exception and not at.error
    assert image_urls(at)[0] != in_turn and "· 5" in captions(at)[0]
