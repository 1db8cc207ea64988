"""Issue 31, finding 7: a refused `train --resume RUN --epochs N` (another trainer holds RUN) used to write N
into RUN's config.json. A refusal leaves nothing behind."""
import hashlib
import shutil
from pathlib import Path

import pytest

from gan_core import cli, runs

DENSE = Path(__file__).resolve().parents[1] / "pretrained" / "mnist_dense"  # a small shipped latent GAN


def run_cli(capsys, *argv) -> tuple[int, str]:
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err, out.err
    return code, out.out + out.err


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
