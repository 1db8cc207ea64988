"""The Train page's live view through AppTest, on a hand-made run folder (no training): the progress label names
the epoch in progress, and a long log with re-logged steps is drawn downsampled and never backwards."""
import base64
import json
import os
import socket
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from gan_core import config, runs
from gan_core.runs import metrics_tail

APP = Path(__file__).resolve().parents[1] / "app.py"


def window(step, steps_per_epoch, g_loss):
    return {"kind": "window", "epoch": (step - 1) // steps_per_epoch + 1, "step": step,
            "step_in_epoch": (step - 1) % steps_per_epoch + 1, "steps_per_epoch": steps_per_epoch,
            "g_loss": g_loss, "d_loss": 1.3, "d_real": 0.6, "d_fake": 0.4}


def test_live_view_names_the_epoch_in_progress_and_draws_a_long_log_downsampled_and_forwards(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(tmp_path / "pretrained"))
    run = runs.create_run(root, config.from_preset("mnist_dcgan", {"name": "long", "epochs": 3}))
    per_epoch = 20_000
    with open(run.metrics_path, "a") as f:
        f.writelines(json.dumps(window(s, per_epoch, 5.0)) + "\n" for s in range(1, 6001))  # killed at 6000
        f.writelines(json.dumps(window(s, per_epoch, 1.0)) + "\n" for s in range(4001, 8001))  # resumed at 4000
    run.write_status(state="running", epoch=0, epochs=3, step=8000, total_steps=3 * per_epoch,
                     steps_per_epoch=per_epoch, pid=os.getpid(), host=socket.gethostname())
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("progress")[0].proto.text == "epoch 1/3 · step 8000/60000"
    (chart,) = at.get("plotly_chart")
    traces = {t["name"]: t for t in json.loads(chart.proto.spec)["data"]}
    assert set(traces) == {"G loss", "D loss", "D(x)", "D(G(z))", "balance"}  # balance: bce's reference lines
    for name, trace in traces.items():
        if name == "balance":  # the legend's entry for the dotted lines (drawn as shapes): no points of its own
            continue
        x = np.asarray(decoded(trace["x"]), dtype=float)
        assert 2 <= len(x) <= metrics_tail.MAX_POINTS and np.all(np.diff(x) > 0)
        assert x[-1] == 8000 / per_epoch
    x, y = (np.asarray(decoded(traces["G loss"][k]), dtype=float) for k in ("x", "y"))
    assert set(y[x > 4000 / per_epoch]) == {1.0} and set(y[x <= 4000 / per_epoch]) == {5.0}


def decoded(values):
    """Plotly writes numpy arrays as {"dtype", "bdata"} (base64) and lists as lists."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return values
