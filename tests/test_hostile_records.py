"""Issue 31, finding 9: a run folder's records are read through one validating reader (gan_core.runs.record_schema,
used by gan_core.runs and the live view's tail): a hand-edited or damaged record is skipped with a note, never a crash.
The hostile run folders are copies of the shipped mnist_dense with one thing changed each."""
import json
import math
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import runs
from gan_core.runs import RunDir, comparison, read_records
from gan_core.runs.metrics_tail import MetricsTail
from gan_core.runs.record_schema import record_problem

APP = Path(__file__).resolve().parents[1] / "app.py"
SHIPPED = runs.default_pretrained_dir() / "mnist_dense"
QUALITY = {"kind": "quality", "metric": "classifier_fid", "n": 10000, "floor": 0.4, "better": "lower"}
HOSTILE = {  # name -> (config.json changes, a quality record appended, epoch records' changes)
    "lossdict": ({"loss": {"x": 1}}, None, None),
    "nanspeed": (None, None, {"images_per_sec": math.nan}),
    "valuex": (None, {**QUALITY, "epoch": 80, "value": "x"}, None),
    "epochtext": (None, {**QUALITY, "epoch": "2", "value": 3.0}, None),
    "epochlist": (None, {**QUALITY, "epoch": [1], "value": 3.0}, None),
}


def hostile_run(root: Path, index: int, name: str) -> RunDir:
    config, quality, epochs = HOSTILE.get(name, (None, None, None))
    folder = root / f"{index:05d}-{name}"
    shutil.copytree(SHIPPED, folder)
    if config:
        (folder / "config.json").write_text(json.dumps({**json.loads((folder / "config.json").read_text()), **config}))
    if quality:
        with open(folder / "quality.jsonl", "a") as f:
            f.write(json.dumps(quality) + "\n")
    if epochs:
        lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        lines = [{**r, **epochs} if r.get("kind") == "epoch" else r for r in lines]
        (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return RunDir(folder)


@pytest.fixture
def hostile_runs(tmp_path, monkeypatch) -> list[RunDir]:
    if not SHIPPED.is_dir():
        pytest.skip("the shipped mnist_dense is absent")
    root = tmp_path / "runs"
    root.mkdir()
    made = [hostile_run(root, i, name) for i, name in enumerate([*HOSTILE, "good"])]
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(tmp_path / "no-pretrained"))
    return made


# --- the reader ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("record, says", [
    ({**QUALITY, "epoch": 2, "value": "x"}, "its value is 'x', not a finite number"),
    ({**QUALITY, "epoch": "2", "value": 1.0}, "its epoch is '2', not a whole number"),
    ({**QUALITY, "epoch": [1], "value": 1.0}, "its epoch is '[1]', not a whole number"),
    ({**QUALITY, "epoch": 2, "value": math.nan}, "its value is 'nan', not a finite number"),
    ({"kind": "epoch", "epoch": 3, "images_per_sec": math.nan}, "its images_per_sec is 'nan'"),
    ({"kind": "epoch", "epoch": 3, "g_loss": "low"}, "its g_loss is 'low', not a number"),
    ({"kind": "window", "epoch": 1}, "its step is missing"),
    ({"kind": {"x": 1}}, "its kind is"),
    ({"kind": "side_work", "epoch": 1, "seconds": {"snapshot": "slow"}}, "its seconds is"),
])
def test_a_bad_record_is_skipped_with_a_note_naming_its_line(tmp_path, record, says):
    good = {"kind": "epoch", "epoch": 1, "g_loss": math.nan, "images_per_sec": 10.0}  # a diverged loss is data
    assert record_problem(good) is None and says in record_problem(record)
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps(good) + "\n{torn\n" + json.dumps(record) + "\n" + json.dumps(good) + "\n")
    records, notes = read_records(path)
    assert len(records) == 2 and all(r["epoch"] == 1 for r in records)
    assert notes == [f"metrics.jsonl line 3: {record_problem(record)}; skipped"]


def test_every_record_the_trainer_writes_reads_back():
    """The kinds the loop writes (gan_core/train/loop.py), each as it writes it: a side_work record's seconds are
    seconds by part, which the field of every kind (a number) must not refuse."""
    written = [{"kind": "window", "epoch": 0.5, "step": 4, "step_ms": [3.1], "g_loss": 0.7, "d_reading": "critic"},
               {"kind": "epoch", "epoch": 1, "step": 8, "seconds": 2.0, "train_images_per_sec": None},
               {"kind": "side_work", "epoch": 1, "step": 8, "seconds": {"snapshot": 0.1, "checkpoint": 0.25}},
               {"kind": "side_work", "epoch": 2, "step": 16, "seconds": {}},
               {"kind": "event", "message": "started", "time": 1.0}]
    assert [record_problem(r) for r in written] == [None] * len(written)


def test_every_reader_uses_it(hostile_runs):
    by_name = {run.name.split("-", 1)[1]: run for run in hostile_runs}
    assert all(isinstance(r["epoch"], int) for run in hostile_runs for r in runs.read_quality(run))
    nanspeed = by_name["nanspeed"]
    assert not nanspeed.metrics("epoch") and nanspeed.record_notes()
    tail = MetricsTail(nanspeed.metrics_path)
    tail.refresh()
    assert not tail.epochs() and tail.n_windows > 0  # the live view's tail skips the same records
    assert not by_name["good"].record_notes()


def test_compare_reads_every_hostile_run_without_a_crash(hostile_runs):
    good = hostile_runs[-1]
    for run in hostile_runs[:-1]:
        compared = comparison.load([run, good])
        for n in comparison.quality_sizes(compared) or [None]:
            comparison.summary_table(compared, n)
        comparison.config_diff(compared), comparison.run_lines(compared)
    assert good.balance_point() is not None and hostile_runs[0].balance_point() is None  # loss {"x": 1}


# --- the pages -----------------------------------------------------------------------------------------------------

def test_the_compare_page_shows_them_all_with_a_note(hostile_runs):
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="compare_runs").set_value(list(reversed(hostile_runs))).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    (warning,) = [w.value for w in at.warning if "unreadable record" in w.value]
    assert "Skipped 83 unreadable record" in warning  # 80 epoch records with NaN images/s, 3 quality records


def test_the_snapshots_page_shows_each_hostile_run(hostile_runs):
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("pages/snapshots.py").run()
    for run in hostile_runs:
        at.selectbox(key="snapshots_run").set_value(run).run()
        assert not at.exception, (run.name, [e.value for e in at.exception])
        tabs_text = " ".join(str(e.value) for e in at.error)
        assert "Something went wrong" not in tabs_text, (run.name, tabs_text)
