"""Issue 31, findings 8 and 9: "Score this grid with the checkpoint's D" scores with the checkpoint's D or says why
it cannot: a checkpoint without D, one whose D has another shape than config.json's, and a cut-short data file
were read partially before (an untrained D's noise, different on every click) or raised IndexError."""
import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import models, runs
from gan_core.errors import RunError
from gan_core.inference import grid_scores_from_checkpoint

pytestmark = pytest.mark.slow  # they use the session's tiny_run (about 20 s)
APP = Path(__file__).resolve().parents[1] / "app.py"


def copied(tiny_run: runs.RunDir, root: Path) -> runs.RunDir:
    """A copy of the run with its checkpoints, and without the trainer's records of D (an older version's run)."""
    shutil.copytree(tiny_run.path, root / tiny_run.name, ignore=shutil.ignore_patterns(".lock", "tb"))
    run = runs.RunDir(root / tiny_run.name)
    lines = run.metrics_path.read_text().splitlines()
    run.metrics_path.write_text("".join(line + "\n" for line in lines if '"discriminator"' not in line))
    return run


def without_d(run: runs.RunDir) -> None:
    """Its newest checkpoint rewritten to hold G alone."""
    import tensorflow as tf

    newest = run.checkpoints()[0][0]
    for old in newest.path.parent.glob("ckpt.*"):
        old.unlink()
    cfg = run.config()
    tf.train.Checkpoint(generator=models.get(cfg.architecture).build_generator(cfg)).write(str(newest.path))


def other_d(run: runs.RunDir) -> None:
    """config.json edited after training: its D (an MLP) is not the one in the checkpoint."""
    values = json.loads(run.config_path.read_text())
    run.config_path.write_text(json.dumps({**values, "architecture": "mnist_dense"}))


def cut_short(run: runs.RunDir) -> None:
    (data,) = run.checkpoints()[0][0].path.parent.glob("ckpt.data-*")
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])


@pytest.mark.parametrize("damage, says", [(without_d, "holds no D of this run's architecture"),
                                          (other_d, "cannot (score with|read D from) checkpoint"),
                                          (cut_short, "cannot read D from checkpoint")])
def test_a_checkpoint_that_cannot_give_d_says_why_in_one_line(tiny_run, tmp_path, damage, says):
    run = copied(tiny_run, tmp_path)
    grid_scores_from_checkpoint(run, 2)  # the intact copy scores
    damage(run)
    with pytest.raises(RunError, match=says) as caught:
        grid_scores_from_checkpoint(run, 2)
    assert "\n" not in str(caught.value)


def test_the_snapshots_button_says_why_it_cannot_score(tiny_run, tmp_path, monkeypatch):
    root = tmp_path / "runs"
    run = copied(tiny_run, root)
    cut_short(run)
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(tmp_path / "none"))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("pages/snapshots.py").run()
    next(b for b in at.button if b.label == "Score this grid with the checkpoint's D").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    assert "cannot read D from checkpoint" in error and "Something went wrong" not in error
    assert not any("Scored by" in c.value for c in at.caption)
