"""Issue 31, finding 9: a multiworker run whose TF_CONFIG gives this worker a port already in use is refused in one
line before a run folder exists (it printed TensorFlow's whole traceback and left a failed run)."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_worker_port_in_use_is_refused_before_a_run_folder_exists(tmp_path):
    with socket.socket() as busy, socket.socket() as other:
        busy.bind(("", 0))
        busy.listen()
        other.bind(("localhost", 0))
        ports = [busy.getsockname()[1], other.getsockname()[1]]
        other.close()
        tf_config = {"cluster": {"worker": [f"localhost:{p}" for p in ports]}, "task": {"type": "worker", "index": 0}}
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CONFIG": json.dumps(tf_config)}
        args = ["train", "--preset", "mnist_dcgan", "--strategy", "multiworker", "--epochs", "1", "--limit", "64",
                "--batch-size", "64", "--runs-dir", str(tmp_path / "runs")]
        done = subprocess.run([sys.executable, "-m", "gan_core", *args], capture_output=True, text=True, env=env,
                              timeout=180)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-1500:]
    assert len(errors) == 1 and f"cannot open port {ports[0]}" in errors[0] and "worker 0 of 2" in errors[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
