"""The run directory contract, without training: naming, atomic files, torn logs, states, the lock."""
import contextlib
import json
import os
import re
import subprocess
import sys
import time

import pytest

from gan_core import config, runs
from gan_core.errors import RunError
from gan_core.files import disk


def make(tmp_path, name="demo"):
    cfg = config.from_preset("mnist_dcgan", {"name": name})
    return runs.create_run(tmp_path, cfg)


def test_runs_are_numbered_folders_with_config_before_training(tmp_path):
    a, b = make(tmp_path, "first"), make(tmp_path, "second")
    assert (a.name, b.name) == ("00000-first", "00001-second")
    assert a.config().name == "first"
    assert a.status()["state"] == "starting"
    for sub in ("samples", "generators", "checkpoints", "exports"):
        assert (a.path / sub).is_dir()
    assert runs.list_runs(tmp_path) == [a, b]
    assert runs.resolve_run("1", tmp_path) == b
    assert runs.resolve_run(str(b.path)) == b
    with pytest.raises(RunError, match="no run found"):
        runs.resolve_run("7", tmp_path)


@pytest.mark.parametrize("raw,clean", [
    ("../../etc/passwd", "etc-passwd"), ("a/b\\c", "a-b-c"), ("..", "run"), ("", "run"),
    ("tab\there\n", "tab-here"), ("ok_name-1.2", "ok_name-1.2"), ("x" * 100, "x" * 60),
])
def test_names_are_sanitised_to_one_safe_component(raw, clean):
    assert runs.sanitize_name(raw) == clean


def test_hostile_names_never_leave_the_runs_folder(tmp_path):
    run = make(tmp_path, "../../outside")
    assert run.path.parent == tmp_path and ".." not in run.name


def test_jsonl_reader_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "m.jsonl"
    disk.append_jsonl(path, {"kind": "window", "step": 1})
    disk.append_jsonl(path, {"kind": "epoch", "epoch": 1})
    with open(path, "a") as f:
        f.write('{"kind": "window", "st')  # a writer killed mid-line
    assert [r.get("step", r.get("epoch")) for r in disk.read_jsonl(path)] == [1, 1]
    assert disk.read_jsonl(tmp_path / "missing.jsonl") == []


def test_an_append_after_a_torn_line_starts_on_a_fresh_line(tmp_path):
    path = tmp_path / "m.jsonl"
    disk.append_jsonl(path, {"kind": "window", "step": 1})
    with open(path, "a") as f:
        f.write('{"kind": "window", "st')  # the trainer killed mid-line
    disk.append_jsonl(path, {"kind": "window", "step": 2})  # the resumed trainer's first record
    disk.append_jsonl(path, {"kind": "window", "step": 3})
    assert [r["step"] for r in disk.read_jsonl(path)] == [1, 2, 3]
    assert path.read_text().count("\n") == 4  # one extra newline closes the torn line, none added elsewhere


def window_record(step, epoch=1, **values):
    return {"kind": "window", "epoch": epoch, "step": step, "step_in_epoch": step, "steps_per_epoch": 10,
            "g_loss": 1.0, **values}


def test_a_resumed_run_replaces_the_steps_it_logs_again(tmp_path):
    """Killed at step 5 with a checkpoint at step 3: the resumed trainer logs steps 4 and 5 again; readers keep
    the later records, so the chart never runs backwards, and a re-logged epoch keeps its latest mean."""
    run = make(tmp_path)
    for step in (1, 2, 3, 4, 5):
        run.log_metrics(window_record(step, g_loss=float(step)))
    run.log_metrics({"kind": "epoch", "epoch": 1, "step": 5, "g_loss": 9.0})
    run.log_metrics({"kind": "event", "level": "info", "message": "resumed from step_00000003"})
    for step in (4, 5, 6):
        run.log_metrics(window_record(step, g_loss=step / 10))
    run.log_metrics({"kind": "epoch", "epoch": 1, "step": 5, "g_loss": 0.5})
    windows = run.metrics("window")
    assert [(r["step"], r["g_loss"]) for r in windows] == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 0.4), (5, 0.5),
                                                           (6, 0.6)]
    assert [r["g_loss"] for r in run.metrics("epoch")] == [0.5]
    assert [r["kind"] for r in run.metrics()].count("event") == 2  # events are kept (the precision note too)
    assert [r.get("step") for r in run.metrics() if r["kind"] == "window"] == [1, 2, 3, 4, 5, 6]


def test_a_rollback_past_unaligned_steps_drops_everything_after_it(tmp_path):
    records = [window_record(s) for s in (10, 20, 30, 40)] + [window_record(s) for s in (25, 35)]
    assert [r["step"] for r in runs.superseded_dropped(records)] == [10, 20, 25, 35]


@pytest.mark.parametrize("status,label", [
    ({"state": "starting", "epoch": 0, "epochs": 3}, "epoch 1/3"),
    ({"state": "running", "epoch": 0, "epochs": 3, "step": 4, "steps_per_epoch": 10}, "epoch 1/3"),
    ({"state": "running", "epoch": 2, "epochs": 3, "step": 20, "steps_per_epoch": 10}, "epoch 3/3"),
    ({"state": "done", "epoch": 3, "epochs": 3}, "epoch 3/3"),
    ({"state": "stopped", "epoch": 1, "epochs": 3, "step": 14, "steps_per_epoch": 10}, "epoch 2/3"),
    ({"state": "stopped", "epoch": 1, "epochs": 3, "step": 10, "steps_per_epoch": 10}, "epoch 1/3"),
    ({"state": "interrupted", "epoch": 0, "epochs": 3, "step": 0}, "epoch 0/3"),
    ({"state": "failed", "epoch": "x", "epochs": None}, "epoch 0/?"),
])
def test_the_progress_label_names_the_epoch_in_progress(status, label):
    assert runs.epoch_label(status) == label


def test_temporary_files_of_dead_or_long_gone_writers_are_removed_and_live_ones_kept(tmp_path):
    run = make(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    long_ago = time.time() - 3600
    try:
        checkpoint = run.checkpoints_dir / f".tmp-step_00000010-{dead.pid}"
        (checkpoint / "ckpt").mkdir(parents=True)
        (checkpoint / "ckpt" / "data").write_bytes(b"x" * 1000)
        stale = [run.generators_dir / f".tmp-{dead.pid}-epoch_0001.keras",  # a save killed (or disk full)
                 run.generators_dir / f".tmp-{live.pid}-epoch_0003.ba.keras",  # that pid now names another process
                 run.path / ".status.json.abcd_123.tmp", run.samples_dir / ".epoch_0001.png.k2j3h4g5.tmp",
                 run.checkpoints_dir / ".latest.json.0a1b2c3d.tmp"]
        kept = [run.generators_dir / f".tmp-{live.pid}-epoch_0002.keras",  # being written by a live process
                run.path / ".status.json.zz9y8x7w.tmp",  # the app writing status.json as the trainer starts
                run.generators_dir / "epoch_0001.keras", run.path / "notes.tmp", run.exports_dir / ".hidden"]
        for path in stale + kept:
            path.write_bytes(b"partial")
        for path in stale[1:]:
            os.utime(path, (long_ago, long_ago))
        assert runs.stale_temp_files(run, time.time()) == sorted(stale[:1] + [checkpoint] + stale[1:])
        removed = runs.clean_temp_files(run)
        assert sorted(removed) == sorted(stale + [checkpoint])
        assert not any(p.exists() for p in stale + [checkpoint]) and all(p.exists() for p in kept)
        assert run.config_path.is_file() and run.status_path.is_file()
    finally:
        live.kill()
        live.wait()


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    disk.atomic_write_json(tmp_path / "s.json", {"a": 1})
    disk.atomic_write_json(tmp_path / "s.json", {"a": 2})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o666 & ~disk._UMASK  # like a plain open()


def test_a_running_run_is_alive_exactly_while_its_lock_is_held(tmp_path):
    run = make(tmp_path)
    run.write_status(state="running", pid=os.getpid())  # a live pid is not enough: nobody holds the lock
    assert run.state == "interrupted"
    with run.lock():
        assert run.state == "running" and run.is_active()
    assert run.state == "interrupted" and not run.is_active()


def test_liveness_ignores_the_host_a_run_was_started_on(tmp_path):
    # After a container restart the hostname differs; a pid+hostname check never looked, so Start stayed refused.
    run = make(tmp_path)
    run.write_status(state="running", pid=1, host="another-container")
    assert run.state == "interrupted"
    disk.atomic_write_json(run.status_path, {"state": "starting", "pid": None, "updated_at": time.time() - 3600})
    assert run.state == "interrupted"  # a 'starting' run nobody took up


def test_a_new_run_is_starting_for_a_moment_before_its_trainer_locks_it(tmp_path):
    run = make(tmp_path)
    assert run.state == "starting"  # create_run's status: the trainer takes the lock within seconds


def test_a_trainer_inherits_its_launchers_lock_through_the_environment(tmp_path, monkeypatch):
    run = make(tmp_path)
    fd = os.open(run.lock_path, os.O_RDWR | os.O_CREAT)
    try:
        assert disk.try_lock(fd)
        monkeypatch.setenv(runs.LOCK_FD_ENV, str(fd))
        with run.lock():  # no "already being trained": the descriptor handed down is used, not a second lock
            assert run.is_locked()
        assert runs.LOCK_FD_ENV not in os.environ
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    assert not run.is_locked()


def test_epochs_are_read_from_file_names(tmp_path):
    run = make(tmp_path)
    for e in (0, 2, 1, 10):
        (run.samples_dir / runs.epoch_file(e, "png")).write_bytes(b"")
    (run.samples_dir / ".epoch_0003.png.tmp").write_bytes(b"")  # a write in flight is not an epoch
    assert run.sample_epochs() == [0, 1, 2, 10]
    assert run.latest_sample().name == "epoch_0010.png"
    with pytest.raises(RunError, match="no saved generator"):
        run.generator_path()


def test_only_one_trainer_holds_a_run_and_a_dead_one_releases_it(tmp_path):
    run = make(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from gan_core.runs import RunDir\n"
        f"with RunDir({str(run.path)!r}).lock():\n"
        "    print('locked', flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert run.is_locked()
        with pytest.raises(RunError, match="already being trained"):
            with run.lock():
                pass
    finally:
        holder.kill()
        holder.wait()
    assert not run.is_locked()  # the kernel dropped the lock with the process
    with run.lock():
        assert run.is_locked()


def test_stop_request_is_a_file_any_process_can_make(tmp_path):
    run = make(tmp_path)
    assert not run.stop_requested()
    run.request_stop()
    assert run.stop_requested()


# --- issue 15: names a folder cannot keep, and folders whose JSON is not an object ---------------------------

@pytest.mark.parametrize("raw,clean", [("Café crème", "Cafe-creme"), ("naïve_Øre", "naive_Ore"), ("Straße", "Strasse"),
                                      ("ﬁne", "fine")])
def test_accented_names_keep_a_readable_transliteration(raw, clean):
    assert runs.sanitize_name(raw) == clean


def test_accented_run_names_are_transliterated(tmp_path):
    assert make(tmp_path, "Über-Lauf").name == "00000-Uber-Lauf"


@pytest.mark.parametrize("name", ["тест", "数字", "тест-1", "!!!", ".."])
def test_a_run_name_a_folder_cannot_keep_is_refused_before_any_folder_exists(tmp_path, name):
    # before: every one of these silently became a folder named NNNNN-run (or lost most of its name)
    root = tmp_path / "runs"
    with pytest.raises(RunError, match="run name .* (has no letters or digits|has letters a folder name cannot keep)"):
        make(root, name)
    assert not root.exists() or not any(root.iterdir())


@pytest.mark.parametrize("file,text,reason", [
    ("config.json", "[1, 2]", "config.json is not a JSON object (it holds a list)"),
    ("config.json", "{garbage", "config.json is not valid JSON"),
    ("config.json", '"text"', "config.json is not a JSON object (it holds text)"),
    ("status.json", "[]", "status.json is not a JSON object (it holds a list)"),
    ("status.json", "7", "status.json is not a JSON object (it holds a number)"),
])
def test_a_folder_whose_json_is_not_an_object_is_skipped_with_the_reason(tmp_path, file, text, reason):
    good, bad = make(tmp_path, "good"), make(tmp_path, "bad")
    (bad.path / file).write_text(text)
    assert bad.problem() == reason and good.problem() is None
    assert runs.list_runs(tmp_path) == [good]
    listed, skipped = runs.scan_runs(tmp_path)
    assert listed == [good] and skipped == [(bad, reason)]
    with pytest.raises(RunError, match=re.escape(f"run 00001-bad cannot be used: {reason}")):
        runs.resolve_run(str(bad.path))
    assert bad.config_dict() == ({} if file == "config.json" else bad.config_dict())
    assert isinstance(bad.config_dict(), dict)


def test_a_listing_notices_a_folder_broken_or_mended_since_the_last_one(tmp_path):
    """scan_runs reads a folder's JSON again only when a file changed (Home lists a thousand runs each rerun)."""
    good, bad = make(tmp_path, "good"), make(tmp_path, "bad")
    assert runs.scan_runs(tmp_path) == ([good, bad], [])
    kept = bad.config_path.read_text()
    bad.config_path.write_text("[1, 2]")  # rewritten in place
    assert runs.scan_runs(tmp_path) == ([good], [(bad, "config.json is not a JSON object (it holds a list)")])
    bad.config_path.unlink()
    assert runs.scan_runs(tmp_path) == ([good], [])  # no config.json: not a run folder
    bad.config_path.write_text(kept)
    bad.status_path.write_text("7")
    assert runs.scan_runs(tmp_path) == ([good], [(bad, "status.json is not a JSON object (it holds a number)")])
    bad.status_path.unlink()
    assert runs.scan_runs(tmp_path) == ([good, bad], [])

def test_pretrained_models_whose_json_is_not_an_object_are_skipped(tmp_path):
    good, bad = make(tmp_path, "good"), make(tmp_path, "bad")
    for run in (good, bad):
        (run.generators_dir / "epoch_0001.keras").write_bytes(b"")
    bad.status_path.write_text("[]")
    assert runs.list_pretrained(tmp_path) == [good]
    assert runs.scan_pretrained(tmp_path) == ([good], [(bad, "status.json is not a JSON object (it holds a list)")])


def test_writing_status_over_a_non_object_status_file_starts_a_fresh_object(tmp_path):
    run = make(tmp_path)
    run.status_path.write_text("[1]")
    assert run.write_status(state="stopped")["state"] == "stopped"
    assert json.loads(run.status_path.read_text())["state"] == "stopped"


def test_read_json_object_is_empty_for_anything_but_an_object(tmp_path):
    path = tmp_path / "x.json"
    for text, expected in (("[1]", {}), ("3", {}), ("{bad", {}), ('{"a": 1}', {"a": 1})):
        path.write_text(text)
        assert disk.read_json_object(path) == expected
    assert disk.read_json_object(tmp_path / "missing.json") == {}


def test_status_of_a_run_whose_status_json_is_a_list_does_not_raise(tmp_path):
    run = make(tmp_path)
    run.status_path.write_text('["running"]')  # ([] happens to read as empty: it is falsy)
    assert run.status()["state"] in ("starting", "interrupted")


@pytest.mark.parametrize("content", [b"garbage", b"", b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, "
                                     b"'shape': (2,), }" + b" " * 60 + b"\n" + b"\x80\x04N."])
def test_a_garbage_fixed_z_is_a_clear_error_that_never_advises_allow_pickle(tmp_path, content):
    run = make(tmp_path)
    run.fixed_z_path.write_bytes(content)
    with pytest.raises(RunError, match="fixed_z.npy is not a saved array of latents") as caught:
        run.fixed_z()
    assert "pickle" not in str(caught.value)


def test_the_trainer_remakes_a_garbage_or_wrong_shaped_fixed_z_from_the_same_seeds(tmp_path):
    import numpy as np

    from gan_core import latent_space
    from gan_core.train import LatentTrainer as Trainer

    run = make(tmp_path)
    cfg = run.config()
    made = latent_space.z_from_seeds(range(cfg.grid ** 2), cfg.noise_dim, cfg.noise)
    for content in (b"garbage", None):
        if content is None:
            np.save(run.fixed_z_path, np.zeros((3, 7), np.float32))
        else:
            run.fixed_z_path.write_bytes(content)
        messages = []
        z = Trainer(cfg, run, log=messages.append).fixed_z()
        np.testing.assert_array_equal(z, made)
        np.testing.assert_array_equal(run.fixed_z(), made)
        assert any("fixed_z.npy" in m and "made it again from seeds 0..15" in m for m in messages)
