"""The linter CI enforces: `ruff check .` with pyproject.toml's rules (pycodestyle, pyflakes, blind excepts), so a
`# noqa` names a rule that is really checked, and an unused import or a stray long line fails the suite."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "No module named ruff" not in proc.stderr, "ruff is not installed: pip install -r requirements-dev.txt"
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
