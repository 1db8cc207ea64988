"""Image-to-image end to end: config checks, paired/unpaired data, one real epoch of Pix2Pix and of CycleGAN writing
the run contract, resume, quality figures, the Translator, and the CLI's translate/evaluate."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core import config, data, runs, tasks
from gan_core.errors import ConfigError, DataError, RunError
from gan_core.evaluation import translation_quality
from gan_core.files import pictures
from gan_core.inference import Generator, Translator, examples, translate_image
from gan_core.tasks import load as load_translators
from gan_core.tasks import train
from gan_core.train import translation_trainer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))


# --- config -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset,values,needle", [
    ("pix2pix_edges_digits", {"pairing": "sketch"}, "pairing must be one of edges, grayscale, masked, side_by_side"),
    ("pix2pix_edges_digits", {"pairing": "grayscale"}, "it needs channels=3"),
    ("pix2pix_edges_digits", {"pairing": "side_by_side"}, "reads a folder of A|B images"),
    ("pix2pix_edges_digits", {"image_size": 28}, "power of two"),
    ("pix2pix_edges_digits", {"dataset_b": "mnist"}, "dataset_b is for CycleGAN (unpaired image <-> image) only"),
    ("pix2pix_edges_digits", {"direction": "up"}, "direction must be one of AtoB, BtoA"),
    ("pix2pix_edges_digits", {"pixel_range": "sigmoid"}, "pixel_range must be tanh"),
    ("cyclegan_mnist_fashion", {"dataset_b": ""}, "dataset_b must be one of mnist, fashion_mnist, folder (domain B"),
    ("cyclegan_mnist_fashion", {"dataset_b": "mnist"}, "both mnist"),
    ("cyclegan_mnist_fashion", {"dataset_b": "folder"}, "--set data_b="),
    ("cyclegan_mnist_fashion", {"pool_size": -1}, "pool_size must be 0 (none) or a positive"),
    ("cyclegan_mnist_fashion", {"cycle_weight": -1.0}, "cycle_weight must be 0 or more"),
    ("mnist_dcgan", {"pairing": "edges"}, "pairing is for Pix2Pix (paired image -> image) only; mnist_dcgan trains "
                                          "latent GANs"),
])
def test_bad_image_to_image_configs_say_what_to_change(preset, values, needle):
    with pytest.raises(ConfigError, match=None) as caught:
        config.from_preset(preset, values)
    assert needle in str(caught.value)


def test_presets_resolve_and_round_trip_through_json():
    for preset, task in (("pix2pix_edges_digits", "pix2pix"), ("cyclegan_mnist_fashion", "cyclegan")):
        cfg = config.from_preset(preset)
        assert cfg.task == task
        again = config.TrainConfig.from_dict(json.loads(cfg.to_json()))
        assert again == cfg and cfg.to_dict()["task"] == task  # config.json records the task for its readers
    assert config.from_preset("pix2pix_colour_faces", {"data": "x"}).pairing == "grayscale"


def test_domain_names_for_captions():
    pix2pix, cyclegan = tasks.get("pix2pix"), tasks.get("cyclegan")
    assert pix2pix.domain_names({"pairing": "edges"}) == ("edge map", "image")
    assert pix2pix.domain_names({"pairing": "side_by_side", "direction": "BtoA"}) == \
        ("B (right half)", "A (left half)")
    assert tasks.get("latent").domain_names({}) == ("noise", "image")
    assert cyclegan.domain_names({ "dataset": "mnist", "dataset_b": "folder",
                         "data_b": "/data/olivetti"}) == ("MNIST digits", "olivetti")


# --- data ---------------------------------------------------------------------------------------------------------

def side_by_side_folder(folder: Path, n: int = 40, size: int = 24) -> Path:
    """A|B files: A a white square on black at a place, B the same square in red on blue, twice as wide as tall."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        a = np.zeros((size, size, 3), np.uint8)
        b = np.zeros((size, size, 3), np.uint8)
        b[..., 2] = 255
        y, x = rng.integers(0, size - 8, 2)
        a[y:y + 8, x:x + 8] = 255
        b[y:y + 8, x:x + 8] = (255, 0, 0)
        Image.fromarray(np.concatenate([a, b], axis=1)).save(folder / f"{i:03d}.png")
    return folder


def test_side_by_side_folder_splits_into_aligned_pairs_both_ways(tmp_path):
    folder = side_by_side_folder(tmp_path / "ab")
    cfg = config.from_preset("pix2pix", {"data": str(folder), "image_size": 16, "holdout": 8})
    pairs = data.load_pairs(cfg)
    assert pairs.inputs.shape == (32, 16, 16, 3) and pairs.test_inputs.shape == (8, 16, 16, 3)
    assert pairs.inputs.max() > 0.9 and np.all(pairs.inputs[..., 0] == pairs.inputs[..., 2])  # A: white on black
    assert pairs.targets[..., 2].mean() > 0.5  # B: mostly blue
    bright_a = pairs.inputs[..., 0] > 0
    red_b = (pairs.targets[..., 0] > 0) & (pairs.targets[..., 2] < 0)
    assert (bright_a == red_b).mean() > 0.95, "A and B must be the same picture's halves"
    flipped = data.load_pairs(config.from_preset("pix2pix", {"data": str(folder), "image_size": 16,
                                                                    "holdout": 8, "direction": "BtoA"}))
    np.testing.assert_array_equal(flipped.inputs, pairs.targets)


def test_a_folder_too_small_for_its_holdout_says_so(tmp_path):
    folder = side_by_side_folder(tmp_path / "ab", n=6)
    cfg = config.from_preset("pix2pix", {"data": str(folder), "image_size": 16, "holdout": 10})
    with pytest.raises(DataError, match="lower holdout"):
        data.load_pairs(cfg)
    with pytest.raises(ConfigError, match="holdout=N"):
        data.load_pairs(config.from_preset("pix2pix", {"data": str(folder), "image_size": 16, "holdout": 0}))


def test_digit_pairs_hold_out_the_test_split(shared_data):
    cfg = config.from_preset("pix2pix_edges_digits", {"data": str(shared_data / "mnist.npz"), "limit": 100})
    pairs = data.load_pairs(cfg)
    assert pairs.inputs.shape == pairs.targets.shape == (100, 32, 32, 1)
    assert pairs.test_inputs.shape == (10000, 32, 32, 1)
    assert pairs.inputs.min() >= -1 and pairs.inputs.max() <= 1
    assert (pairs.inputs > 0).mean() < (pairs.targets > 0).mean() * 3  # edges, not noise


def test_triplet_grid_layout():
    x = np.zeros((4, 8, 8, 1), np.float32)
    y = np.ones((4, 8, 8, 3), np.float32)
    picture = pictures.triplet_grid([x, y, x], rows=2)  # 2 rows of 2 groups of 3; gray shown as RGB beside RGB
    assert picture.shape == (2 * 8 + 3 * 2, 6 * 8 + 7 * 2, 3)
    assert picture[2:10, 12:20].min() == 255 and picture[2:10, 2:10].max() == 0


# --- training end to end (the session's tiny runs) ---------------------------------------------------------------

pytest_slow = pytest.mark.slow


@pytest_slow
@pytest.mark.parametrize("task", ["pix2pix", "cyclegan"])
def test_one_epoch_writes_the_run_contract(task, tiny_translation_runs):
    run = tiny_translation_runs[task]
    cfg, status = run.config(), run.status()
    assert status["state"] == "done" and status["epoch"] == 2 and status["step"] == status["total_steps"] == 8
    keys = {"pix2pix": {"g_loss", "d_loss", "g_gan", "g_l1", "d_real", "d_fake"},
            "cyclegan": {"g_loss", "d_loss", "g_gan", "cycle", "identity", "d_real", "d_fake"}}[task]
    for rec in run.metrics("window") + run.metrics("epoch"):
        assert keys <= set(rec) and all(np.isfinite(rec[k]) for k in keys)
    assert run.sample_epochs() == [0, 1, 2] and run.generator_epochs() == [1, 2]
    columns = {"pix2pix": 3 * translation_trainer.PER_ROW, "cyclegan": 6}[task]
    rows = cfg.grid
    grid = pictures.read_png(run.latest_sample())
    assert grid.shape[:2] == (rows * 32 + (rows + 1) * 2, columns * 32 + (columns + 1) * 2)
    saved = examples(run)
    assert set(saved) == ({"inputs", "targets"} if task == "pix2pix" else {"a", "b"})
    assert all(v.shape == (translation_trainer.EXAMPLES, 32, 32, 1) for v in saved.values())
    assert not run.fixed_z_path.exists()
    if task == "cyclegan":
        assert run.generator_path(2, "BtoA").is_file()
    translators = load_translators(run)
    assert set(translators) == ({"AtoB"} if task == "pix2pix" else {"AtoB", "BtoA"})
    for t in translators.values():
        out = t(np.zeros((2, 32, 32, 1), np.float32))
        assert out.shape == (2, 32, 32, 1) and 0 <= out.min() and out.max() <= 1
    quality = runs.read_quality(run)
    names = {"pix2pix": {"l1", "ssim"}, "cyclegan": {"cycle_l1", "fid_ab", "fid_ba", "cycle_agreement"}}[task]
    assert {r["metric"] for r in quality} == names and {r["epoch"] for r in quality} == {1, 2}
    assert any("quality at epoch 2" in e["message"] for e in run.metrics("event"))
    with pytest.raises(RunError, match="Translate page"):
        Generator.from_run(run)


@pytest_slow
def test_pix2pix_quality_beats_nothing_only_if_it_learned(tiny_translation_runs):
    """The figures are measured, not asserted good: L1 in [0, 1], SSIM in [-1, 1], the baselines' own values, and
    the identity baseline of edges -> digit really is the edge map's L1 to the digit."""
    run = tiny_translation_runs["pix2pix"]
    result = tasks.evaluate(run, n=50)
    l1, ssim = result["metrics"]["l1"], result["metrics"]["ssim"]
    assert 0 <= l1["value"] <= 1 and -1 <= ssim["value"] <= 1 and l1["n"] == ssim["n"] == 50
    assert set(l1["baselines"]) == {"identity", "blurred"} and l1["baseline"] == min(l1["baselines"].values())
    pairs = data.load_pairs(run.config())

    inputs, targets = pairs.test_inputs[:50], pairs.test_targets[:50]
    identity = translation_quality.l1_error(translation_quality.baseline(inputs, targets), (targets + 1) / 2)
    assert l1["baselines"]["identity"] == pytest.approx(identity, abs=1e-5)


@pytest_slow
def test_cyclegan_quality_has_floors_and_untranslated_baselines(tiny_translation_runs):
    run = tiny_translation_runs["cyclegan"]
    result = tasks.evaluate(run, n=64)
    fid = result["metrics"]["fid_ab"]
    assert fid["dataset"] == "fashion_mnist" and fid["floor"] < fid["baseline"]  # real vs real << digits vs garments
    assert fid["floor_label"] == "real-data floor"
    agreement = result["metrics"]["cycle_agreement"]
    assert 0 <= agreement["value"] <= 1 and agreement["evaluator_accuracy"] > 0.9


@pytest_slow
def test_resume_continues_and_restores_the_image_pools(tiny_translation_runs, copy_run, tmp_path):
    source = tiny_translation_runs["cyclegan"]
    root = tmp_path / "runs"
    root.mkdir()
    import shutil

    path = root / source.name
    shutil.copytree(source.path, path)  # with its checkpoints, to resume from
    run = runs.RunDir(path)
    cfg = run.config()
    cfg.epochs = 3
    run.write_config(cfg)
    assert train(run) == "done"
    assert run.status()["step"] == 12 and run.generator_epochs() == [1, 2, 3]
    windows = run.metrics("window")
    assert [w["step"] for w in windows][-2:] == [10, 12]
    events = " ".join(e["message"] for e in run.metrics("event"))
    assert "resumed from step_00000008" in events
    # the pools are in the checkpoint: after 12 steps of 16 fakes each, both are full
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(run.latest_checkpoint()))
    counts = [reader.get_tensor(k) for k in reader.get_variable_to_shape_map() if k.startswith("pools/") and
              "count" in k]
    assert counts and all(int(c) == cfg.pool_size for c in counts)


@pytest_slow
def test_translate_image_from_a_picture_and_as_an_input(tiny_translation_runs, shared_data):
    translators = load_translators(tiny_translation_runs["pix2pix"])
    digit = np.load(shared_data / "mnist.npz")["x_test"][0]
    done = translate_image(translators, digit)
    assert [c for c, _ in done.columns()] == ["edge map", "image", "original"]
    assert done.input.shape == done.output.shape == done.target.shape == (32, 32, 1)
    assert done.target_l1 is not None and done.cycle_l1 is None
    assert done.panel(scale=2).shape[:2] == (2 * 36, 2 * (3 * 32 + 4 * 2))
    as_is = translate_image(translators, digit, as_input=True)
    assert as_is.target is None and np.abs(as_is.input - done.target).max() < 1e-6  # the picture went in itself
    cycle = translate_image(load_translators(tiny_translation_runs["cyclegan"]), digit, "BtoA")
    assert [c for c, _ in cycle.columns()] == ["Fashion-MNIST garments", "MNIST digits", "back to Fashion-MNIST "
                                                                                         "garments"]
    with pytest.raises(DataError, match="translates AtoB"):
        translate_image(translators, digit, "BtoA")


@pytest_slow
def test_translator_refuses_a_latent_generator_file(tiny_run):
    with pytest.raises(Exception, match="not an image-to-image model"):
        Translator.load(tiny_run.generator_path())


def cli(*args):
    return subprocess.run([sys.executable, "-m", "gan_core", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest_slow
def test_cli_translate_sample_and_evaluate_on_an_image_to_image_run(tiny_translation_runs, shared_data, tmp_path):
    run = tiny_translation_runs["pix2pix"]
    picture = tmp_path / "digit.png"
    Image.fromarray(255 - np.load(shared_data / "mnist.npz")["x_test"][3]).save(picture)  # dark on light
    out = tmp_path / "panel.png"
    done = cli("translate", run.path, picture, "--invert", "--out", out, "--scale", "3")
    assert done.returncode == 0, done.stderr
    assert "edge map | image | original" in done.stdout and "L1 to the original" in done.stdout
    assert pictures.read_png(out).shape[:2] == (3 * 36, 3 * 104)
    wrong = cli("sample", run.path, "--out", tmp_path / "g.png")
    assert wrong.returncode == 2 and "Translate page" in wrong.stderr
    scored = cli("evaluate", run.path, "--n", "40", "--no-record")
    assert scored.returncode == 0, scored.stderr
    assert "l1" in scored.stdout and "no-learning baseline" in scored.stdout
    refused = cli("evaluate", run.path, "--metrics", "swd")
    assert refused.returncode == 2 and "image-to-image model" in refused.stderr
