"""Training progress on a terminal: tqdm's bar per epoch, a plain line per epoch where output is a log."""
from __future__ import annotations

import sys


class ProgressBar:
    """tqdm's bar over each epoch's steps on a terminal, and a line per finished epoch either way (logs, the app's
    train.log, a pipe: there `quiet`, so no carriage-return frames end up in a file)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None  # the tqdm bar of the epoch in progress
        self.bar_epoch: int | None = None

    def __call__(self, r: dict) -> None:
        if r["kind"] == "epoch":
            self.close()
            print(f"epoch {r['epoch']}/{r['epochs']}  {r['seconds']:.1f}s  g_loss {r['g_loss']:.3f}  "
                  f"d_loss {r['d_loss']:.3f}  D(x) {r['d_real']:.2f}  D(G(z)) {r['d_fake']:.2f}", file=sys.stderr)
            return
        if self.quiet:
            return
        done = r["step_in_epoch"]
        stats = (f"g {r['g_loss']:.3f} d {r['d_loss']:.3f}  {r['images_per_sec']:.0f} img/s  "
                 f"run ETA {format_seconds(r['eta_s'])}")
        if self.bar is None or self.bar_epoch != r["epoch"]:
            from tqdm import tqdm

            self.close()
            # initial=done: a resumed epoch starts where it was, and tqdm's rate counts only steps taken here
            self.bar = tqdm(total=r["steps_per_epoch"], initial=done, desc=f"epoch {r['epoch']}/{r['epochs']}",
                            unit="step", postfix=stats, file=sys.stderr, leave=False, dynamic_ncols=True)
            self.bar_epoch = r["epoch"]
            return
        self.bar.set_postfix_str(stats, refresh=False)
        self.bar.n = done  # a record comes once per metrics window (log_every steps): draw each one
        self.bar.refresh()

    def write(self, message: str) -> None:
        """A line of the trainer's (or Ctrl-C's) above the bar, not through it."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def close(self) -> None:
        """End the epoch's bar (it clears itself: the epoch's line takes its place)."""
        if self.bar is not None:
            self.bar.close()
            self.bar, self.bar_epoch = None, None


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
