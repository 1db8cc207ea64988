"""Shared fixtures for the test suite."""

import os
import socket
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, start_app, stop_app, stop_trainers

from gan_core import evaluation, runs, tasks
from gan_core.files import disk


DATA_ENV = "GAN_EXPLORER_DATA"


def real_data_folder() -> Path:
    """Where the real data sets are: $GAN_EXPLORER_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[2] / "shared" / "data"


REAL_DATA = real_data_folder()  # read once, as the run starts: tests that set or clear the variable don't move it
FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist (.ci/run installs it)


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_data(path: Path, what: str) -> Path:
    """`path` where it exists. Otherwise the test skips, except under CI (CI=true), where every data set is meant
    to be there: a missing one fails rather than turning the test into a silent skip."""
    if path.exists():
        return path
    message = (f"{what} {path} is absent (the real data sets are read from ${DATA_ENV}, by default ../shared/data "
               "beside the checkout)")
    if under_ci():
        pytest.fail(f"{message}; under CI a missing data set fails the test", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets' folder (see `require_data`)."""
    return require_data(REAL_DATA, "the real data folder")


@pytest.fixture(scope="session")
def mnist_npz(shared_data: Path) -> Path:
    """Keras's MNIST file in the real data folder."""
    return require_data(shared_data / "mnist.npz", "real MNIST")


@pytest.fixture(scope="session")
def celeba(shared_data: Path) -> Path:
    """The CelebA folder (aligned 89x109 JPEGs) in the real data folder."""
    return require_data(shared_data / "celeba_align_89x109", "the CelebA folder")


@pytest.fixture(scope="session")
def fashion_mnist() -> Path:
    """Debian's Fashion-MNIST IDX files."""
    return require_data(FASHION / "t10k-labels-idx1-ubyte.gz", "Debian's Fashion-MNIST").parent


def _copy_run(run, dest_root: Path) -> Path:
    """Copy what readers use (not checkpoints or TensorBoard files) into `dest_root`; returns the copy's path."""
    import shutil

    target = dest_root / run.name
    shutil.copytree(run.path, target, ignore=shutil.ignore_patterns("checkpoints", "tb", ".lock"))
    return target


@pytest.fixture(scope="session")
def copy_run():
    """`copy_run(run, dest_root)`: a copy of a run that a test may change or serve (tiny_run stays untouched)."""
    return _copy_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, mnist_npz: Path):
    """A real mnist_dcgan run, 2 epochs of 256 MNIST images (about 20 s), trained in-process once per session.

    Treat it as read-only: tests that change a run work on a copy (the `runs_dir` fixture).
    """
    from gan_core import config, runs

    cfg = config.from_preset("mnist_dcgan", {"epochs": 2, "limit": 256, "batch_size": 64, "data": str(mnist_npz),
                                             "name": "tiny"})
    run = runs.create_run(tmp_path_factory.mktemp("tiny-runs"), cfg)
    assert tasks.train(run) == "done"
    return run


@pytest.fixture
def runs_dir(tiny_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh runs folder holding a copy of `tiny_run`, with the app (GAN_EXPLORER_RUNS) pointed at it, and a
    pretrained folder holding the same generators as a model named 'tiny-pretrained'."""
    root = tmp_path / "runs"
    root.mkdir()
    _copy_run(tiny_run, root)
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    _copy_run(tiny_run, pretrained).rename(pretrained / "tiny-pretrained")
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(pretrained))
    return root


@pytest.fixture(scope="session")
def tiny_translation_runs(tmp_path_factory: pytest.TempPathFactory, mnist_npz: Path, fashion_mnist: Path) -> dict:
    """Real image-to-image runs, trained in-process once per session on 64 images with narrow networks (about a
    minute together): {'pix2pix': edges -> MNIST digits, 'cyclegan': MNIST <-> Fashion-MNIST}. Read-only."""
    from gan_core import config, runs

    root = tmp_path_factory.mktemp("translation-runs")
    common = {"data": str(mnist_npz), "epochs": 2, "limit": 64, "batch_size": 16, "grid": 2, "filters": 8,
              "log_every": 2, "eval_every": 1, "eval_n": 64}
    made = {}
    for task, preset, extra in (("pix2pix", "pix2pix_edges_digits", {}),
                                ("cyclegan", "cyclegan_mnist_fashion", {"res_blocks": 1, "pool_size": 8})):
        cfg = config.from_preset(preset, {**common, **extra, "name": f"tiny-{task}"})
        run = runs.create_run(root, cfg)
        assert tasks.train(run) == "done"
        made[task] = run
    return made


@pytest.fixture
def translation_runs_dir(tiny_translation_runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runs folder holding copies of both tiny image-to-image runs, the app pointed at it, and a pretrained folder
    holding the Pix2Pix one under the shipped default's name, pix2pix_edges_digits."""
    root = tmp_path / "runs"
    root.mkdir()
    for run in tiny_translation_runs.values():
        _copy_run(run, root)
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    _copy_run(tiny_translation_runs["pix2pix"], pretrained).rename(pretrained / "pix2pix_edges_digits")
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(pretrained))
    return root


@pytest.fixture
def pretend_training():
    """`pretend_training(run)`: the run reads as training, as a live trainer makes it: its lock held, its status
    'running'. Released when the test ends (as the kernel releases a trainer's lock when it exits)."""
    held = []

    def claim(run: runs.RunDir, lock_fd: int | None = None) -> None:
        """`lock_fd`: the lock its launcher took and handed down (the child's copy of it, as pass_fds gives)."""
        if lock_fd is not None:
            fd = os.dup(lock_fd)
        else:
            fd = os.open(run.lock_path, os.O_RDWR | os.O_CREAT)
            assert disk.try_lock(fd)
        held.append(fd)
        run.write_status(state="running", pid=os.getpid(), host=socket.gethostname())

    yield claim
    for fd in held:
        os.close(fd)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """This test's own data and metrics cache (nothing decoded or measured leaks between tests), and no reference
    from an earlier test kept in this process's memory."""
    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(tmp_path / "cache"))
    evaluation.clear_memory_cache()


@pytest.fixture
def sgd(monkeypatch):
    """Every trainer's optimizer becomes SGD at its learning rate, so an update is the gradient times the rate: tests
    that compare two trainings weight by weight use it. Adam divides each gradient by its own running size, so it
    hides a wrong scale, and its first steps are nearly sign(gradient), which rounding flips for the smallest
    components."""
    import keras

    monkeypatch.setattr(keras.optimizers, "Adam", lambda learning_rate, **_: keras.optimizers.SGD(learning_rate))


@pytest.fixture(autouse=True)
def server_side_latent_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest runs no JavaScript: the Latent page starts on its server-side editor in every test. The browser's
    editor has its own tests (test_latent_morph.py, test_browser_morph.py), which set it back to 1."""
    monkeypatch.setenv("GAN_EXPLORER_BROWSER_MORPH", "0")


@pytest.fixture
def app_url(tiny_run, copy_run, shared_data, tmp_path):
    """`streamlit run app.py` on a free localhost port, over a runs folder holding a copy of tiny_run."""
    if not CHROMIUM.is_file():
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium package (bash .ci/run does)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    copy_run(tiny_run, runs_dir)
    env = {**os.environ, "GAN_EXPLORER_RUNS": str(runs_dir), "GAN_EXPLORER_DATA": str(shared_data),
           "GAN_EXPLORER_PRETRAINED": str(tmp_path / "no-pretrained"), "GAN_EXPLORER_CACHE": str(tmp_path / "cache"),
           "GAN_EXPLORER_BROWSER_MORPH": "0"}  # the server's editor; test_browser_morph.py drives the browser's
    proc, url = start_app(env, tmp_path / "streamlit.log")
    try:
        yield url, runs_dir
    finally:
        stop_app(proc)
        stop_trainers(runs_dir)


@pytest.fixture
def shipped_models(tmp_path, monkeypatch):
    """No runs: the pages open on the shipped pretrained models (pix2pix_edges_digits, mnist_dcgan)."""
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("GAN_EXPLORER_PRETRAINED", raising=False)
    for name in ("pix2pix_edges_digits", "mnist_dcgan"):
        if not (runs.default_pretrained_dir() / name / "generators").is_dir():
            pytest.skip(f"the shipped model {name} is absent")
