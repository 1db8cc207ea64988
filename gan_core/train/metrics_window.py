"""A metrics window: the steps between two host syncs of the shared loop (:meth:`.loop.Trainer.run_epochs`), whose
metrics stay on the device until the window closes and are then read back together, with each step's time."""
from __future__ import annotations

import time
from typing import Any

import numpy as np


class Window:
    """The compiled calls' metrics since the last record, the steps they ran, when the window opened and each step's
    milliseconds (a call's steps share its time)."""

    def __init__(self):
        self.outputs: list[dict[str, Any]] = []
        self.steps, self.start, self.ms = 0, time.perf_counter(), []

    def add(self, outputs: dict[str, Any], n: int, call_seconds: float) -> None:
        self.outputs.append(outputs)
        self.ms += [round(1000 * call_seconds / n, 1)] * n  # one per step: a call's steps share its time
        self.steps += n

    def means(self) -> dict[str, float]:
        """The one host sync of a window: its steps' metrics, read back together, each as its mean."""
        return {k: float(np.mean(np.concatenate([np.reshape(w[k].numpy(), [-1]) for w in self.outputs])))
                for k in self.outputs[0]}
