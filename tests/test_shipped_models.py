"""Issue 31, finding 1: the shipped models are read-only to every command and page.

`train --resume pretrained/mnist_dcgan --restart` used to train inside the shipped model (its generator, grids and
quality records moved into attempts/01); a refused resume still rewrote metrics.jsonl and status.json and made a
.lock; `evaluate` appended to its quality.jsonl. Here every CLI command that takes a model runs on each shipped
model (wherever the package finds them), in this one process, and the shipped folder must be byte-identical
afterwards: every file's hash, and no file more or less.
"""
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gan_core import launch, runs, storage, tasks
from gan_core.errors import RunError
from gan_core.explore import directions
from gan_core.files import pictures
from gan_core.inference import Generator
from gan_core.train import loop
from cli_helpers import run_cli

pytestmark = pytest.mark.slow  # about a minute: every command on every shipped model


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` (hidden ones and links included) with its sha256, and every folder."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root) + "/"] = "folder"
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return found


def stats(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under `root` with its size, modification time and inode: any write, replace or new file shows,
    at a fraction of hashing it all (checked after each command; the hashes after all of them)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            info = os.lstat(os.path.join(folder, name))
            found[os.path.relpath(os.path.join(folder, name), root)] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return found




def commands(model: runs.RunDir, picture: Path, tmp: Path, data: dict[str, Path]) -> list[list]:
    """Every CLI command that takes a model, with the cheapest arguments it accepts (`data`: small stand-ins for
    each dataset, so evaluate reads hundreds of images, not 60,000); outputs go to `tmp`, and once each into the
    model's own folder (refused)."""
    m, values = model.path, model.config_dict()
    source = ["--data", data[values["dataset"]], *(["--data-b", data[values["dataset_b"]]] if values.get("dataset_b")
                                                  else [])]
    every = [["train", "--resume", m], ["train", "--resume", m, "--restart"],
             ["train", "--resume", m, "--epochs", 99], ["train", "--resume", m, "--restart", "--epochs", 99],
             ["stop", m], ["gif", m, "--out", tmp / "a.gif"], ["gif", m, "--out", m / "a.gif"],
             ["evaluate", m, "--n", 16, *source], ["copy", m, "--runs-dir", tmp / "runs", "--data", source[1]]]
    if tasks.of_run(model).draws_from_noise:
        return every + [
            ["sample", m, "--grid", "1x1", "--scale", 1, "--out", tmp / "s.png"],
            ["sample", m, "--grid", "1x1", "--out", m / "samples" / "s.png"],
            ["directions", m, "--k", 1, "--n", 16],
            ["project", m, picture, "--steps", 1, "--restarts", 1, "--feature-weight", 0, "--out", tmp / "p.png",
             "--save-z", tmp / "z.npy"],
            ["project", m, picture, "--steps", 1, "--restarts", 1, "--out", m / "p.png"],
            ["export-model", m, "--formats", "tflite", "--n", 1, "--out", tmp / "export"],
            ["export-model", m, "--formats", "tflite", "--n", 1, "--out", m / "exports" / "x"],
        ]
    return every + [["translate", m, picture, "--out", tmp / "t.png"], ["translate", m, picture, "--out", m / "t.png"]]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory, mnist_npz, celeba) -> dict[str, Path]:
    """600 MNIST digits (train and test; Fashion-MNIST's stand-in too) and 600 CelebA faces: each held-out split
    (500 images) fits."""
    root = tmp_path_factory.mktemp("small-data")
    with np.load(mnist_npz) as full:
        np.savez(root / "mnist.npz", **{key: full[key][:600] for key in ("x_train", "y_train", "x_test", "y_test")})
    (root / "faces").mkdir()
    for face in sorted(celeba.rglob("*.jpg"))[:600]:
        (root / "faces" / face.name).symlink_to(face)
    return {"mnist": root / "mnist.npz", "fashion_mnist": root / "mnist.npz", "folder": root / "faces"}


@pytest.fixture(scope="module")
def shipped() -> list[runs.RunDir]:
    models = runs.list_pretrained()
    assert len(models) >= 10, runs.default_pretrained_dir()
    return models


@pytest.mark.parametrize("index", range(10))
def test_every_command_leaves_a_shipped_model_byte_identical(index, shipped, capsys, tmp_path, monkeypatch,
                                                             small_data):
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(loop.Trainer, "run_epochs", lambda self: "done")  # a slip-through must not train for long
    model = shipped[index]
    picture = tmp_path / "in.png"
    pictures.save_png(picture, np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8))
    root = runs.default_pretrained_dir()
    before, listed = snapshot(root), stats(root)
    for argv in commands(model, picture, tmp_path, small_data):
        start = time.perf_counter()
        code, output = run_cli(capsys, *argv)
        print(f"{model.name}: {argv[0]} -> {code} in {time.perf_counter() - start:.1f} s", file=sys.__stderr__)
        assert stats(root) == listed, (argv, output)
        if argv[0] == "train" or (argv[0] != "stop" and str(model.path) in str(argv[-1])):
            assert code == 2 and "read-only" in output and "\n" not in output.strip(), (argv, output)
    assert "python -m gan_core copy" in run_cli(capsys, "train", "--resume", model.path)[1]
    assert snapshot(root) == before
    (copy,) = runs.list_runs(tmp_path / "runs")
    assert copy.config().architecture == model.config().architecture and copy.generator_epochs()


def test_a_refused_shipped_model_names_the_copy_and_writes_nothing(shipped, tmp_path):
    model = shipped[0]
    before = snapshot(model.path)
    for restart in (False, True):
        with pytest.raises(RunError, match=f"python -m gan_core copy {model.path}"):
            tasks.train(model, restart=restart)
        with pytest.raises(RunError, match="read-only"):
            launch.resume(model, restart=restart)
    assert snapshot(model.path) == before


def test_a_link_to_a_shipped_model_is_read_only_too(shipped, tmp_path, capsys):
    """A shipped model linked into the runs folder is listed as a run; following the link, it is still refused."""
    (tmp_path / "runs").mkdir()
    link = tmp_path / "runs" / "00001-linked"
    link.symlink_to(shipped[0].path, target_is_directory=True)
    before = snapshot(shipped[0].path)
    code, output = run_cli(capsys, "train", "--resume", link, "--restart")
    assert code == 2 and "read-only" in output
    assert snapshot(shipped[0].path) == before


def test_directions_of_a_shipped_model_are_computed_but_never_cached_beside_it(shipped, tmp_path, monkeypatch):
    """...but in the cache folder, keyed by the generator's content, where the next process reads them and
    `storage` lists (and cleans) them."""
    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path))
    model = next(m for m in shipped if tasks.of_run(m).draws_from_noise)
    generator = Generator.from_run(model)
    before = snapshot(model.path)
    found = directions.load_or_compute(generator, k=2, n=32, seed=7)  # not what the shipped cache holds
    assert found.source == "computed" and found.k == 2
    assert snapshot(model.path) == before
    (cached, _), = directions.cached_files()
    assert cached.parent == tmp_path / "directions"
    monkeypatch.setattr(directions, "_memory", {})  # as a new process
    again = directions.load_or_compute(generator, k=2, n=32, seed=7)
    assert again.source == "disk" and np.array_equal(again.vectors, found.vectors)
    assert [item.path for item in storage.list_storage(tmp_path / "runs", tmp_path)] == [cached]
    storage.clean(tmp_path / "runs", tmp_path)
    assert directions.cached_files() == [] and snapshot(model.path) == before


def test_a_copy_is_a_run_of_ones_own(shipped, tmp_path, capsys):
    model = next(m for m in shipped if m.name == "mnist_dcgan")
    code, output = run_cli(capsys, "copy", model.path, "--runs-dir", tmp_path, "--name", "my-digits")
    (copy,) = runs.list_runs(tmp_path)
    assert code == 0 and copy.name == "00000-my-digits" and f"--resume {copy.path} --restart" in output
    assert copy.config().name == "my-digits" and copy.state == "done"
    assert copy.generator_epochs() == model.generator_epochs()
    assert (copy.generator_path().read_bytes() == model.generator_path().read_bytes())
    assert copy.metrics("event")[-1]["message"] == f"copied from {model.path}"
    code, output = run_cli(capsys, "train", "--resume", model.path)
    assert code == 2 and f"python -m gan_core copy {model.path}" in output and "--restart" in output


def test_no_runs_folder_inside_the_shipped_models(shipped, tmp_path, capsys, mnist_npz):
    root = runs.default_pretrained_dir()
    before = snapshot(root)
    code, output = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", mnist_npz, "--limit", 512,
                           "--epochs", 1, "--runs-dir", root)
    assert code == 2 and "read-only" in output
    code, output = run_cli(capsys, "copy", shipped[0].path, "--runs-dir", shipped[0].path)
    assert code == 2 and "read-only" in output
    assert snapshot(root) == before


def test_train_page_offers_no_resume_or_start_over_for_a_shipped_model(runs_dir, tmp_path):
    """A shipped model linked into the runs folder shows on Train as a run; it says it is read-only and how to copy
    it, instead of Train more and Start over (which would train inside it)."""
    from streamlit.testing.v1 import AppTest

    model = tmp_path / "pretrained" / "tiny-pretrained"  # runs_dir's pretrained folder (GAN_EXPLORER_PRETRAINED)
    (runs_dir / "00001-linked").symlink_to(model, target_is_directory=True)
    before = snapshot(model)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=90).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_run").set_value(runs.RunDir(runs_dir / "00001-linked")).run()
    assert not at.exception and not at.error
    buttons = [b.label for b in at.button]
    assert "Train more" not in buttons and "Resume" not in buttons and "Start over from epoch 0" not in buttons
    (note,) = [i.value for i in at.info if "read-only" in i.value]
    assert "python -m gan\\_core copy" in note or "python -m gan_core copy" in note
    assert snapshot(model) == before


def test_export_page_writes_a_linked_shipped_models_downloads_under_the_runs_folder(runs_dir, tmp_path):
    """The Export page also saves each download: for a shipped model listed through a link, never into the model."""
    from explorer_ui import widgets

    (runs_dir / "00001-linked").symlink_to(tmp_path / "pretrained" / "tiny-pretrained", target_is_directory=True)
    linked = runs.RunDir(runs_dir / "00001-linked")
    assert widgets.is_pretrained(linked)
    where = widgets.exports_dir(linked, linked.name)
    assert not runs.is_shipped(where) and where.parent == runs_dir / "_exports"
