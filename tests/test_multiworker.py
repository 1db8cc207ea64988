"""Several machines (strategy multiworker): TF_CONFIG is checked with messages that name the fix, and two worker
processes on localhost (CPU, ring all-reduce) train one run together -- worker 0 alone writes the run folder, the
other writes nothing there, a resume picks up the chief's checkpoint, and the weights are those of one process
trained on the same global batches."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import multiworker_tiny  # noqa: F401  (registers the test-only mw_mlp architecture in this process too)
from gan_core import cli, runs
from gan_core.devices import cluster_worker
from gan_core.errors import ClusterError
from gan_core.train import joins_as_worker
from gan_core.train.session import cluster_lost

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(multiworker_tiny.__file__)
GOOD = {"cluster": {"worker": ["localhost:2222", "localhost:2223"]}, "task": {"type": "worker", "index": 1}}


# --- TF_CONFIG: fast ---------------------------------------------------------------------------------------------

def test_tf_config_gives_this_workers_place():
    worker = cluster_worker({"TF_CONFIG": json.dumps(GOOD)})
    assert (worker.index, worker.count, worker.chief) == (1, 2, False)
    assert worker.describe() == "worker 1 of 2"
    assert cluster_worker({"TF_CONFIG": json.dumps({**GOOD, "task": {"type": "worker", "index": 0}})}).describe() \
        == "worker 0 of 2 (the chief)"


@pytest.mark.parametrize("tf_config,needle", [
    (None, "needs TF_CONFIG in each worker's environment"),
    ("", "needs TF_CONFIG"),
    ("{cluster: 1}", "TF_CONFIG is not JSON"),
    ('["a"]', "no cluster.worker list"),
    ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "no cluster.worker list"),
    ('{"cluster": {"worker": ["h:1"], "chief": ["h:2"]}, "task": {"type": "worker", "index": 0}}',
     "names the job(s) chief"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', "not host:port"),
    ('{"cluster": {"worker": ["h:99999"]}, "task": {"type": "worker", "index": 0}}', "not host:port"),
    ('{"cluster": {"worker": ["h:1", "h:1"]}, "task": {"type": "worker", "index": 0}}', "an address twice"),
    ('{"cluster": {"worker": ["h:1", "h:2"]}}', 'needs task.type "worker"'),
    ('{"cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "ps", "index": 0}}', 'needs task.type "worker"'),
    ('{"cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "worker", "index": 2}}', "index 0..1"),
    ('{"cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "worker", "index": "1"}}', "index 0..1"),
])
def test_a_bad_tf_config_says_what_to_set(tf_config, needle):
    env = {} if tf_config is None else {"TF_CONFIG": tf_config}
    with pytest.raises(ClusterError) as info:
        cluster_worker(env)
    assert needle in str(info.value)
    if "needs TF_CONFIG" in needle or "not JSON" in needle or "cluster.worker list" in needle:
        assert '"task": {"type": "worker", "index": 0}' in str(info.value)  # the fix, spelled out


def test_a_multiworker_run_without_tf_config_is_refused_before_a_folder_exists(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    code = cli.main(["train", "--preset", "mnist_dcgan", "--strategy", "multiworker", "--runs-dir",
                     str(tmp_path / "runs")])
    assert code == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert "strategy multiworker needs TF_CONFIG" in line and "README: Several machines" in line
    assert not (tmp_path / "runs").exists()


def test_which_processes_join_as_non_chief_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(GOOD))
    assert joins_as_worker("multiworker", None).index == 1
    assert joins_as_worker(None, None) is None and joins_as_worker("default", None) is None
    assert joins_as_worker(None, str(tmp_path / "not-on-this-machine")).index == 1  # per-worker folders
    monkeypatch.setenv("TF_CONFIG", json.dumps({**GOOD, "task": {"type": "worker", "index": 0}}))
    assert joins_as_worker("multiworker", None) is None  # the chief trains the run folder itself
    monkeypatch.delenv("TF_CONFIG")
    assert joins_as_worker(None, str(tmp_path / "missing")) is None  # a plain resume: its own error later


def test_a_lost_peer_is_one_line_that_says_how_to_go_on():
    unavailable = type("UnavailableError", (Exception,), {})
    lost = cluster_lost(unavailable("{{function_node x}} Collective ops is aborted by: Socket closed Additional GRPC"))
    assert isinstance(lost, ClusterError)
    assert "another worker of the cluster went away (UnavailableError: Socket closed" in str(lost)
    assert "--resume RUN" in str(lost)
    assert cluster_lost(ValueError("a bug")) is None  # anything else keeps its traceback


# --- two workers on localhost: slow ------------------------------------------------------------------------------

def free_ports(n: int) -> list[int]:
    """n ports free on localhost now (held together while chosen, so they differ)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def launch(args: list[str], log: Path, *, ports: list[int] | None = None, index: int | None = None,
           tmpdir: Path | None = None) -> subprocess.Popen:
    """`python -m gan_core` (with mw_mlp registered) in its own process; a worker of `ports` when index is given."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    if index is not None:
        env["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                       "task": {"type": "worker", "index": index}})
    if tmpdir is not None:
        tmpdir.mkdir(parents=True, exist_ok=True)
        env["TMPDIR"] = str(tmpdir)
    return subprocess.Popen([sys.executable, str(TINY), *args, "--quiet"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))


def finish(procs: dict[str, subprocess.Popen], logs: Path, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    try:
        for name, proc in procs.items():
            proc.wait(timeout=max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        for proc in procs.values():
            proc.kill()
        raise AssertionError("a worker hung:\n" + "\n".join(
            f"--- {n}\n{(logs / f'{n}.log').read_text()[-1500:]}" for n in procs)) from None
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{(logs / f'{name}.log').read_text()[-3000:]}"


def checkpoint(run: runs.RunDir, step: int) -> dict[str, np.ndarray]:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(run.checkpoints_dir / f"step_{step:08d}" / "ckpt"))
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if "save_counter" not in k and k != "_CHECKPOINTABLE_OBJECT_GRAPH"}


@pytest.mark.slow
@pytest.mark.usefixtures("private_cache")
def test_two_workers_train_and_resume_the_run_one_process_would(tmp_path, mnist_npz):
    """Worker 0 and worker 1 each with its own runs folder (as on two machines without a shared disk): epoch 1,
    then a resume to epoch 2 -- worker 1 resumes a run folder that is not on its 'machine' at all. One process
    trains the same config (default strategy, the same global batch of 64) the same way. 4 steps per epoch."""
    started = time.perf_counter()
    new = ["train", "--preset", "mw_mlp", "--data", str(mnist_npz), "--limit", "256", "--batch-size", "64",
           "--epochs", "1", "--precision", "float32", "--name", "pair", "--set", "grid=2", "--set", "log_every=2"]
    logs = tmp_path / "logs"
    logs.mkdir()
    folders = {name: tmp_path / name for name in ("w0", "w1", "single")}
    scratch = tmp_path / "tmp1"  # worker 1's TMPDIR: where its scratch run folder lives while it trains
    for attempt, extra in (("new", []), ("resume", ["--epochs", "2"])):
        ports = free_ports(2)
        if attempt == "new":
            args = {n: [*new, "--runs-dir", str(f)] + (["--strategy", "multiworker"] if n != "single" else [])
                    for n, f in folders.items()}
        else:  # every process names its own folder's run; only the chief's and the single one exist
            args = {n: ["train", "--resume", str(f / "00000-pair"), *extra] for n, f in folders.items()}
        procs = {"w0": launch(args["w0"], logs / "w0.log", ports=ports, index=0),
                 "w1": launch(args["w1"], logs / "w1.log", ports=ports, index=1, tmpdir=scratch),
                 "single": launch(args["single"], logs / "single.log")}
        finish(procs, logs)
        log1 = (logs / "w1.log").read_text()
        assert "worker 1 of 2: joining worker 0's run" in log1 and "worker 1 of 2: done" in log1
        if attempt == "resume":
            assert "resumed from the chief's checkpoint: epoch 1, step 4" in log1
            assert "resumed from step_00000004: epoch 1, step 4" in (logs / "w0.log").read_text()
    seconds = time.perf_counter() - started

    # worker 0 alone wrote: the whole run folder; worker 1 nothing in its runs folder, and its scratch is gone
    assert not folders["w1"].exists()
    assert list(scratch.iterdir()) == []
    chief, single = runs.RunDir(folders["w0"] / "00000-pair"), runs.RunDir(folders["single"] / "00000-pair")
    status = chief.status()
    assert (status["state"], status["epoch"], status["step"], status["total_steps"]) == ("done", 2, 8, 8)
    assert status["device"].startswith("worker 0 of 2 (the chief): ")
    assert chief.config().strategy == "multiworker" and chief.config().batch_size == 64
    assert [r["epoch"] for r in chief.metrics("epoch")] == [1, 2]
    assert [r["step"] for r in chief.metrics("window")] == [2, 4, 6, 8]
    assert chief.sample_epochs() == [0, 1, 2] and chief.generator_epochs() == [1, 2]
    assert json.loads((chief.checkpoints_dir / "latest.json").read_text())["step"] == 8
    assert any(chief.tb_dir.iterdir()) and chief.fixed_z().shape == (4, 16)
    assert sorted(p.name for p in chief.path.iterdir()) == sorted(p.name for p in single.path.iterdir())

    # the same losses, window by window, as one process on the same global batches
    records = zip(chief.metrics("window") + chief.metrics("epoch"), single.metrics("window") + single.metrics("epoch"))
    for a, b in records:
        for key in ("g_loss", "d_loss", "d_real", "d_fake"):
            assert abs(a[key] - b[key]) <= 1e-4, (key, a, b)

    # and the same weights, Adam moments and step counters
    two, one, one_before = checkpoint(chief, 8), checkpoint(single, 8), checkpoint(single, 4)
    assert two.keys() == one.keys() and any(k.startswith("g_opt/") for k in one) and any("d_opt" in k for k in one)
    weights = [k for k in one if "/_trainable_variables/" in k]
    assert weights
    diff = max(float(np.max(np.abs(two[k].astype(np.float64) - one[k]))) for k in one)
    moved = max(float(np.max(np.abs(one[k].astype(np.float64) - one_before[k]))) for k in weights)
    scale = max(float(np.max(np.abs(one[k]))) for k in weights)
    print(f"\ntwo workers vs one process: {seconds:.1f} s for both launches; weights, moments and counters agree to "
          f"max |diff| {diff:.2e} (largest weight {scale:.3f}, largest move in epoch 2 {moved:.2e}, "
          f"diff/move {diff / moved:.1e})")
    # Float32 sums taken in another order (two half-batch gradients added by the all-reduce instead of one
    # 64-row matmul) differ by a few ulps per step; over 8 Adam steps that stays far below the step size.
    assert diff < 1e-5 and diff / moved < 1e-3
    for k in one:
        if "iter" in k:
            assert int(two[k]) == int(one[k]) == 8, k


@pytest.mark.slow
@pytest.mark.usefixtures("private_cache")
def test_a_stop_asked_of_the_chief_stops_both_workers_and_both_resume_from_a_shared_folder(tmp_path, mnist_npz):
    """One runs folder both workers see (as an NFS mount would be): Stop (the STOP file) reaches worker 0 only, yet
    both stop at the same step; started again with the same `--resume`, both finish the run."""
    shared, logs = tmp_path / "runs", tmp_path / "logs"
    logs.mkdir()
    args = ["train", "--preset", "mw_mlp", "--data", str(mnist_npz), "--limit", "128", "--batch-size", "32",
            "--epochs", "2", "--precision", "float32", "--name", "stop", "--strategy", "multiworker",
            "--runs-dir", str(shared), "--set", "ema_decay=0.9"]  # the EMA of G is shared on resume too
    ports = free_ports(2)
    procs = {f"w{i}": launch(args, logs / f"w{i}.log", ports=ports, index=i, tmpdir=tmp_path / f"tmp{i}")
             for i in (0, 1)}
    run, deadline = runs.RunDir(shared / "00000-stop"), time.time() + 120
    while not run.config_path.is_file() and time.time() < deadline:
        time.sleep(0.05)
    run.request_stop()  # long before the first step: the workers are still starting TensorFlow
    finish(procs, logs)
    assert [p.name for p in shared.iterdir()] == ["00000-stop"]  # worker 1 made no run folder of its own
    assert (run.status()["state"], run.status()["step"]) == ("stopped", 0) and not run.stop_requested()
    assert "worker 1 of 2: stopped" in (logs / "w1.log").read_text()

    ports = free_ports(2)
    procs = {f"w{i}": launch(["train", "--resume", str(run.path)], logs / f"w{i}.log", ports=ports, index=i)
             for i in (0, 1)}
    finish(procs, logs)
    status = run.status()
    assert (status["state"], status["epoch"], status["step"]) == ("done", 2, 8)
    assert [r["epoch"] for r in run.metrics("epoch")] == [1, 2] and run.generator_epochs() == [1, 2]
    assert "resumed from the chief's checkpoint: epoch 0, step 0" in (logs / "w1.log").read_text()
