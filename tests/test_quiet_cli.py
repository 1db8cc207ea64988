"""The CLI's stderr holds the tool's own words: TensorFlow's C++ start-up lines only with --verbose."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

START_UP = ("All log messages before absl::InitializeLog()", "Could not find cuda drivers", "failed call to cuInit")


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_core", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def tensorflow_prints_start_up_lines() -> bool:
    """Whether importing TensorFlow writes them at all on this machine (a GPU machine has no "no cuda" line)."""
    out = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, timeout=300)
    return any(line in out.stderr for line in START_UP)


@pytest.mark.slow
def test_a_cli_command_prints_no_tensorflow_start_up_lines_unless_verbose(tmp_path):
    model = Path(__file__).parents[1] / "pretrained" / "mnist_dense"
    quiet = cli("sample", str(model), "--grid", "1x2", "--out", str(tmp_path / "grid.png"))
    assert quiet.returncode == 0 and (tmp_path / "grid.png").is_file(), quiet.stderr
    assert not [line for line in quiet.stderr.splitlines() if any(s in line for s in START_UP)], quiet.stderr
    for loud in (cli("presets", "--verbose"), cli("presets", GAN_EXPLORER_VERBOSE="1")):
        assert loud.returncode == 0 and "mnist_dcgan" in loud.stdout
        assert any(s in loud.stderr for s in START_UP) or not tensorflow_prints_start_up_lines(), loud.stderr


def test_a_user_error_still_reaches_stderr_after_the_quiet_import():
    out = cli("train", "--resume", "/nonexistent/run")
    assert out.returncode == 2 and out.stderr.startswith("error: "), out.stderr
