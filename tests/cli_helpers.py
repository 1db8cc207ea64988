"""Running the CLI from tests: in this process (its exit code and everything it printed) or in a subprocess whose
heap is capped and whose own peak RSS is measured (the memory tests of hostile inputs)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gan_core import cli

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *argv) -> tuple[int, str]:
    """(exit code, stdout + stderr) of one command; argparse's own refusals exit through SystemExit(2)."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err, out.err
    return code, out.out + out.err


def peak_run(args: list[str], cap_mb: int = 3000) -> tuple[subprocess.CompletedProcess, float]:
    """The CLI in a subprocess whose heap is capped (so that a regression fails instead of filling the machine);
    returns the process and its peak RSS in MB."""
    script = ("import atexit, resource, sys\n"
              f"resource.setrlimit(resource.RLIMIT_DATA, ({cap_mb << 20}, {cap_mb << 20}))\n"
              # VmHWM, not getrusage's ru_maxrss: that one keeps the forking pytest worker's peak across exec
              "atexit.register(lambda: print('PEAK', [int(line.split()[1]) for line in open('/proc/self/status')"
              " if line.startswith('VmHWM:')][0], file=sys.stderr))\n"
              "from gan_core.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                          timeout=300)
    peak = [int(line.split()[1]) / 1024 for line in done.stderr.splitlines() if line.startswith("PEAK ")]
    return done, peak[-1] if peak else float("nan")
