"""The Dockerfile, read statically (no Docker engine here): what `docker build` and `docker run` rely on."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def args_of(instructions, name: str) -> list[str]:
    return [arguments for instruction, arguments in instructions if instruction == name]


def test_base_image_is_a_build_arg_defaulting_to_python_slim(instructions):
    assert instructions[0] == ("ARG", "BASE_IMAGE=python:3.11-slim")
    assert args_of(instructions, "FROM") == ["${BASE_IMAGE}"]
    assert "--build-arg BASE_IMAGE=tensorflow/tensorflow:2.21.0-gpu" in (ROOT / "Dockerfile").read_text()


def test_installs_requirements_before_copying_the_code(instructions):
    runs = args_of(instructions, "RUN")
    assert any(re.search(r"pip install (.* )?-r requirements\.txt", r) for r in runs)
    order = [i for i, (name, arguments) in enumerate(instructions)
             if (name, arguments.split()[0] if arguments else "") in {("RUN", "pip"), ("COPY", "gan_core/")}]
    assert len(order) == 2 and order[0] < order[1]  # a code change does not reinstall TensorFlow


def test_copies_the_app_and_the_pretrained_models(instructions):
    sources = {arguments.split()[0] for arguments in args_of(instructions, "COPY")}
    assert {"gan_core/", "app.py", "pages/", "explorer_ui/", "pretrained/", ".streamlit/"} <= sources
    for source in sources - {"requirements.txt"}:
        assert (ROOT / source).exists(), f"COPY {source} names a path missing from the repository"


def test_runs_streamlit_on_all_interfaces_with_a_runs_volume(instructions):
    assert args_of(instructions, "EXPOSE") == ["8501"]
    assert args_of(instructions, "VOLUME") == ["/app/runs"]
    assert any("GAN_EXPLORER_RUNS=/app/runs" in e for e in args_of(instructions, "ENV"))
    (cmd,) = args_of(instructions, "CMD")
    command = json.loads(cmd)
    assert command[:3] == ["streamlit", "run", "app.py"]
    assert "--server.address=0.0.0.0" in command and "--server.port=8501" in command


def test_healthcheck_asks_streamlit(instructions):
    (check,) = args_of(instructions, "HEALTHCHECK")
    assert "http://localhost:8501/_stcore/health" in check


def test_dockerignore_keeps_runs_and_git_out_but_not_what_is_copied():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", "runs/", "**/__pycache__", ".pytest_cache/", "tests/artifacts/"} <= ignored
    assert not ignored & {"pretrained/", "gan_core/", "pages/", "explorer_ui/", "app.py", ".streamlit/"}
