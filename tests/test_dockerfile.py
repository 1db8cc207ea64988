"""The Dockerfile, read statically (no Docker engine here), checked against the project it builds: what `docker
build` and `docker run` need from the repository, rather than its text (rewording or reordering the file where it
does not matter must not fail these)."""
import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import pytest
from packaging.specifiers import SpecifierSet
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def args_of(instructions, name: str) -> list[str]:
    return [arguments for instruction, arguments in instructions if instruction == name]


def build_args(instructions) -> dict[str, str]:
    return dict(a.split("=", 1) for a in args_of(instructions, "ARG") if "=" in a)


def env_of(instructions) -> dict[str, str]:
    return dict(pair.split("=", 1) for e in args_of(instructions, "ENV") for pair in e.split())


def copied(instructions) -> list[str]:
    """Repository paths the COPY instructions take (sources; the last word is the destination)."""
    return [src.rstrip("/") for arguments in args_of(instructions, "COPY") for src in arguments.split()[:-1]]


def _pattern(glob: str) -> re.Pattern:
    """A .dockerignore pattern as Docker reads it: `*` and `?` within one path segment, `**` across segments."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        else:
            out, i = out + {"*": "[^/]*", "?": "[^/]"}.get(glob[i], re.escape(glob[i])), i + 1
    return re.compile(out)


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context: it or a folder above it matches (the last
    matching line decides, `!` lines re-include)."""
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    parts = Path(path).parts
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for line in lines:
        negate, glob = line.startswith("!"), line.lstrip("!").strip("/")
        if any(_pattern(glob).fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_the_default_base_image_runs_a_python_the_package_supports(instructions):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (base,) = args_of(instructions, "FROM")
    image = re.sub(r"\$\{?(\w+)\}?", lambda m: build_args(instructions)[m.group(1)], base)
    match = re.fullmatch(r"python:(\d+\.\d+)[\w.-]*", image)
    assert match, f"the default base image {image} is not an official python image"
    assert f"{match.group(1)}.0" in SpecifierSet(project["requires-python"]), (image, project["requires-python"])


def test_the_gpu_base_image_the_comments_name_runs_a_pinned_tensorflow():
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    (spec,) = [line.split("#")[0].strip()[len("tensorflow"):] for line in requirements
               if re.match(r"tensorflow\s*[<>=!~]", line)]
    for text in (DOCKERFILE.read_text(), (ROOT / "README.md").read_text()):
        versions = re.findall(r"BASE_IMAGE=tensorflow/tensorflow:(\d+\.\d+\.\d+)-gpu", text)
        assert versions, "the GPU build line is gone"
        for version in versions:
            assert version in SpecifierSet(spec), f"the GPU image's TensorFlow {version} is outside {spec}"


def test_the_runtime_requirements_install_before_any_code_is_copied(instructions):
    """requirements.txt alone first: a code change must not reinstall TensorFlow (the layer cache)."""
    steps = [(name, arguments) for name, arguments in instructions if name in ("RUN", "COPY")]
    first_code = min(i for i, (name, a) in enumerate(steps) if name == "COPY" and "requirements.txt" not in a)
    installs = [i for i, (name, a) in enumerate(steps) if name == "RUN" and re.search(r"-r requirements\.txt", a)]
    assert installs and installs[0] < first_code


def test_the_package_is_installed_from_everything_it_is_built_from(instructions):
    """`pip install ... .` runs after pyproject.toml and every package setuptools finds are copied in, and every
    file that pyproject reads (requirements.txt) too."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = find_packages(ROOT, **config["tool"]["setuptools"]["packages"]["find"])
    top_level = {p.split(".")[0] for p in packages}
    assert {"gan_core", "explorer_ui"} <= top_level
    needed = top_level | {"pyproject.toml"} | set(config["tool"]["setuptools"]["dynamic"]["dependencies"]["file"])
    sources, seen = set(), None
    for i, (name, arguments) in enumerate(instructions):
        if name == "COPY":
            sources |= {s.rstrip("/") for s in arguments.split()[:-1]}
        if name == "RUN" and re.search(r"pip install\b.*(\s|^)(-e\s+)?\.(\s|$)", arguments):
            seen = i
            break
    assert seen is not None, "the package itself is never installed (pip install -e .)"
    assert needed <= sources, f"copied only after the install, or never: {sorted(needed - sources)}"


def test_what_the_app_needs_is_copied_and_not_dockerignored(instructions):
    """app.py, each page of its menu (explorer_ui/navigation.py), the packages, the pretrained models (and
    evaluators) and Streamlit's config."""
    pages = re.findall(r"""["'](pages/[^"']+\.py)["']""", (ROOT / "explorer_ui" / "navigation.py").read_text())
    assert pages, "explorer_ui/navigation.py lists no pages"
    needed = ["app.py", ".streamlit/config.toml", "pretrained/evaluators", *pages,
              *(str(p.relative_to(ROOT)) for p in (ROOT / "pretrained").iterdir() if p.is_dir()),
              *(str(p.relative_to(ROOT)) for p in (ROOT / "gan_core").rglob("*.py")),
              *(str(p.relative_to(ROOT)) for p in (ROOT / "explorer_ui").rglob("*.py"))]
    sources = copied(instructions)
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source} names a path missing from the repository"
        assert not dockerignored(source), f"COPY {source}, but .dockerignore keeps it out of the build context"
    for path in needed:
        assert (ROOT / path).exists(), path
        assert any(path == s or path.startswith(f"{s}/") or s == "." for s in sources), f"{path} is not copied"
        assert not dockerignored(path), f"{path} is in .dockerignore: the image would lack it"


def test_the_vendored_browser_runtime_is_copied_and_not_dockerignored(instructions):
    """The in-browser morph needs onnxruntime-web's files in the image (no CDN: the app works offline)."""
    vendor = ROOT / "explorer_ui/components/latent_morph/frontend/vendor/onnxruntime-web"
    files = [str(p.relative_to(ROOT)) for p in vendor.iterdir()]
    assert any(f.endswith(".wasm") for f in files)
    sources = copied(instructions)
    for path in files:
        assert any(path.startswith(f"{s}/") or s == "." for s in sources), f"{path} is not copied"
        assert not dockerignored(path), f"{path} is in .dockerignore: the image would lack it"


def test_runs_and_the_repository_history_stay_out_of_the_build_context():
    """A user's runs (gigabytes, their data) and .git must never be sent to the Docker daemon or baked in."""
    for path in ("runs/00000-mnist_dcgan/checkpoints/ckpt-1.index", ".git/config", "gan_core/__pycache__/x.pyc",
                 "gan_explorer.egg-info/PKG-INFO"):
        assert dockerignored(path), path
    assert not dockerignored("gan_core/runs/rundir.py")  # the package, not the runs folder


def test_the_app_serves_on_every_interface_at_the_exposed_port_and_health_checks_there(instructions):
    """In a container, a server bound to localhost cannot be reached through `-p`; the port Streamlit listens on
    must be the one EXPOSEd, published in the docs and asked by the health check."""
    (cmd,) = args_of(instructions, "CMD")
    command = json.loads(cmd)
    assert command[:3] == ["streamlit", "run", "app.py"]
    flags = dict(a.split("=", 1) for a in command[3:] if a.startswith("--") and "=" in a)
    assert flags.get("--server.address") == "0.0.0.0"
    port = flags.get("--server.port", "8501")
    assert port in " ".join(args_of(instructions, "EXPOSE")).split()
    (check,) = args_of(instructions, "HEALTHCHECK")
    (url,) = re.findall(r"https?://[^'\"\s]+", check)
    assert urlparse(url).port == int(port) and urlparse(url).path == "/_stcore/health"


def test_every_documented_docker_run_publishes_the_app_port_on_this_machine_only(instructions):
    """The app has no login: a `docker run` in the docs that publishes on every interface hands it to the network."""
    port = dict(a.split("=", 1) for a in json.loads(args_of(instructions, "CMD")[0]) if "=" in a)["--server.port"]
    for text in (DOCKERFILE.read_text(), (ROOT / "README.md").read_text()):
        runs = [line for line in text.splitlines() if "docker run" in line]
        assert runs
        for line in runs:
            published = re.findall(r"-p\s+(\S+)", line)
            assert published and all(p == f"127.0.0.1:{port}:{port}" for p in published), line


def test_runs_are_written_to_the_volume_by_a_user_that_is_not_root(instructions):
    env = env_of(instructions)
    volumes = " ".join(args_of(instructions, "VOLUME")).split()
    assert env["GAN_EXPLORER_RUNS"] in volumes
    assert Path(env["GAN_EXPLORER_CACHE"]).is_relative_to(env["GAN_EXPLORER_RUNS"])  # the cache survives too
    users = args_of(instructions, "USER")
    assert users and users[-1] not in ("root", "0")
    assert any(env["GAN_EXPLORER_RUNS"] in r and "chown" in r and users[-1] in r for r in args_of(instructions, "RUN"))
