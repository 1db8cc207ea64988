"""pyproject.toml against the tree it packages: what `pip install -e .` (and the Docker image) would leave out."""
import importlib
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_folder_of_python_modules_is_a_package_that_is_found():
    """A new gan_core subfolder without __init__.py would import from the checkout but be missing from an install."""
    found = set(find_packages(ROOT, **PYPROJECT["tool"]["setuptools"]["packages"]["find"]))
    for top in ("gan_core", "explorer_ui"):
        folders = {p.parent for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts}
        for folder in folders:
            name = ".".join(folder.relative_to(ROOT).parts)
            assert (folder / "__init__.py").is_file(), f"{name} has modules but no __init__.py"
            assert name in found, f"{name} is not packaged"
    assert not {p for p in found if p.split(".")[0] not in ("gan_core", "explorer_ui")}, found


def test_the_runtime_dependencies_are_requirements_txt_and_setuptools_can_read_it():
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    names = {Requirement(line).name for line in lines if line}  # an -r or URL line would break the build
    assert {"tensorflow", "keras", "streamlit", "tqdm"} <= names


def test_the_test_requirements_install_the_package_itself():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    assert "-e .[export,canvas]" in lines  # the package, with the extras the ONNX export and drawing tests need


def test_converting_to_onnx_is_a_runtime_requirement_and_checking_an_export_the_extra():
    """The Latent space page converts every generator for the browser (tf2onnx, onnx: in requirements.txt, so in
    `pip install -e .` and the Docker image); running an export back on the server (onnxruntime) stays the extra."""
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    base = {Requirement(line).name for line in lines if line}
    extra = {Requirement(r).name for r in PYPROJECT["project"]["optional-dependencies"]["export"]}
    assert {"tf2onnx", "onnx"} <= base and "onnxruntime" not in base
    assert extra == {"onnxruntime"}


def test_the_vendored_browser_runtime_is_package_data():
    """onnxruntime-web's files (and the component's frontend) are installed with explorer_ui: the app works
    offline from an install, not only from the checkout."""
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["explorer_ui"]
    packaged = {p for pattern in patterns for p in (ROOT / "explorer_ui").glob(pattern) if p.is_file()}
    vendor = ROOT / "explorer_ui/components/latent_morph/frontend/vendor/onnxruntime-web"
    needed = {vendor / name for name in ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs",
                                         "ort-wasm-simd-threaded.wasm", "LICENSE", "VERSION", "CHECKSUMS")}
    assert needed <= packaged, sorted(str(p.relative_to(ROOT)) for p in needed - packaged)


def test_the_canvas_extra_is_optional():
    """streamlit-drawable-canvas comes with `pip install ".[canvas]"` only; explorer_ui.canvas alone imports it."""
    extra = {Requirement(r).name for r in PYPROJECT["project"]["optional-dependencies"]["canvas"]}
    assert extra == {"streamlit-drawable-canvas"}
    assert "streamlit-drawable-canvas" not in (ROOT / "requirements.txt").read_text()
    users = {str(p.relative_to(ROOT)) for folder in ("gan_core", "explorer_ui", "pages") for p in
             (ROOT / folder).rglob("*.py") if "streamlit_drawable_canvas" in p.read_text()}
    assert users == {"explorer_ui/canvas.py"}


def test_the_console_script_is_the_cli_and_returns_an_exit_code(capsys):
    module, _, name = PYPROJECT["project"]["scripts"]["gan-explorer"].partition(":")
    main = getattr(importlib.import_module(module), name)
    assert main(["presets"]) == 0
    assert "mnist_dcgan" in capsys.readouterr().out


def test_no_source_file_is_git_ignored():
    """A .gitignore pattern meant for the runs folder once matched the gan_core.runs package: every test passed in
    the working tree and the package was missing from every clean checkout. No project source may be ignored."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    sources = [str(p.relative_to(ROOT)) for folder in ("gan_core", "explorer_ui", "pages", "tests", "bench", "scripts")
               for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *sources], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    assert ignored == []
