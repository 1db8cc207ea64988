"""Issue 31, findings 7 and 12: a refusal leaves nothing behind, and says what it met.

- A refused `train --resume RUN --epochs N` (another trainer holds RUN) used to write N into RUN's config.json.
- `export-model --out` a link to an empty folder exported fully, then said the folder "was filled by someone else";
  a dangling link was reported as "a file".
- `--device gpu:99` left a failed run folder.
- A run folder named with U+202E (right-to-left override) displayed reversed.
"""
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from gan_core import runs
from cli_helpers import run_cli

DENSE = Path(__file__).resolve().parents[1] / "pretrained" / "mnist_dense"  # a small shipped latent GAN




def folder_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def dense_run(tmp_path) -> runs.RunDir:
    """A run of one's own: a copy of the shipped mnist_dense in a runs folder (80 epochs, no checkpoints)."""
    target = tmp_path / "runs" / "00000-dense"
    shutil.copytree(DENSE, target)
    return runs.RunDir(target)


# --- finding 7: a refused resume edits nothing ---------------------------------------------------------------------

def test_a_resume_refused_because_the_run_trains_leaves_its_config_alone(capsys, dense_run, pretend_training):
    pretend_training(dense_run)
    before = folder_hashes(dense_run.path)
    code, output = run_cli(capsys, "train", "--resume", dense_run.path, "--epochs", 500)
    assert code == 2 and "is already being trained" in output
    assert dense_run.config().epochs == 80  # was 500: the refused resume had raised the target
    assert folder_hashes(dense_run.path) == before


def test_a_resume_refused_for_lost_checkpoints_leaves_the_run_alone(capsys, dense_run):
    before = folder_hashes(dense_run.path)
    code, output = run_cli(capsys, "train", "--resume", dense_run.path, "--epochs", 500)
    assert code == 2 and "no readable checkpoint" in output and "--restart" in output
    assert folder_hashes(dense_run.path) == before  # no .lock, no 'failed' status, no 500 in config.json


# --- finding 12: small ones ----------------------------------------------------------------------------------------

def test_export_model_into_a_link_to_an_empty_folder_fills_that_folder(capsys, tmp_path):
    """The user named a folder (by a link): the export lands in it, as in any empty folder, and the link stays."""
    (tmp_path / "empty").mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "empty", target_is_directory=True)
    code, output = run_cli(capsys, "export-model", DENSE, "--formats", "tflite", "--n", 1, "--out", link)
    assert code == 0, output
    assert link.is_symlink() and (tmp_path / "empty" / "generator.tflite").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "link"]  # no staging folder left behind


def test_export_model_into_a_dangling_link_says_so(capsys, tmp_path):
    dangling = tmp_path / "gone"
    dangling.symlink_to(tmp_path / "nowhere")
    code, output = run_cli(capsys, "export-model", DENSE, "--out", dangling)
    assert code == 2 and "is a file" not in output
    assert "link" in output and str(tmp_path / "nowhere") in output and "does not exist" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone"]


def test_a_gpu_that_is_not_there_is_refused_before_the_run_folder(capsys, tmp_path, mnist_npz):
    code, output = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", mnist_npz, "--limit", 512,
                           "--epochs", 1, "--device", "gpu:99", "--runs-dir", tmp_path / "runs", "--quiet")
    assert code == 2 and "device gpu:99" in output and "\n" not in output.strip().split("error: ")[-1]
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it displays reversed


def test_a_run_name_with_bidi_controls_is_made_without_them(capsys, tmp_path, mnist_npz, monkeypatch):
    from gan_core.train import loop

    monkeypatch.setattr(loop.Trainer, "run_epochs", lambda self: "done")
    code, output = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", mnist_npz, "--limit", 512,
                           "--epochs", 1, "--name", f"gnp{BIDI}.exe\u2066x\u200f", "--runs-dir", tmp_path, "--quiet")
    (run,) = runs.list_runs(tmp_path)
    assert code == 0 and run.path.name == "00000-gnp.exex" and run.config().name == "gnp.exex"


@pytest.mark.parametrize("control", [BIDI, "\u2067", "\u200f", "\u061c", "\x1b[2J"])
def test_an_older_run_named_with_bidi_or_terminal_controls_displays_without_them(capsys, dense_run, control):
    odd = dense_run.path.rename(dense_run.path.with_name(f"00007-{control}exe.png"))
    (run,) = runs.list_runs(odd.parent)
    shown = "00007-" + "".join(c for c in control if c.isprintable()) + "exe.png"
    assert run.name == shown and run.path == odd  # shown plainly; the folder itself is left as it is
    code, output = run_cli(capsys, "runs", "--runs-dir", odd.parent)
    assert code == 0 and shown in output and control not in output
    assert os.path.isdir(run.path)
