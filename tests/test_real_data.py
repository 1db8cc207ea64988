"""conftest's real-data fixtures: where they look ($GAN_EXPLORER_DATA, else ../shared/data), and that under CI a
missing data set fails the test instead of skipping it (a CI that skips every real-data test is green and empty)."""
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")
USES_DATA = """
def test_digits(mnist_npz):
    assert mnist_npz.name == "mnist.npz"

def test_faces(celeba):
    assert celeba.is_dir()
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A copy of this suite's conftest beside two tests that need real data, $GAN_EXPLORER_DATA at an empty folder."""
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_uses_data=USES_DATA)
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(data))
    return data


def test_a_missing_data_set_skips_outside_ci(pytester, suite, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines([f"*real MNIST {suite / 'mnist.npz'} is absent*GAN_EXPLORER_DATA*"])


def test_under_ci_a_missing_data_set_fails_naming_the_variable_and_the_folder(pytester, suite, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)  # the fixture fails: neither test runs, neither is skipped
    result.stdout.fnmatch_lines([f"*real MNIST {suite / 'mnist.npz'} is absent*GAN_EXPLORER_DATA*under CI*",
                                 f"*the CelebA folder {suite / 'celeba_align_89x109'} is absent*"])


def test_the_data_folder_comes_from_gan_explorer_data(pytester, suite, monkeypatch):
    monkeypatch.setenv("CI", "true")
    (suite / "mnist.npz").write_bytes(b"")
    (suite / "celeba_align_89x109").mkdir()
    pytester.runpytest().assert_outcomes(passed=2)


def test_without_the_variable_the_data_is_beside_the_checkout(monkeypatch):
    import conftest

    monkeypatch.delenv("GAN_EXPLORER_DATA", raising=False)
    assert conftest.real_data_folder() == Path(__file__).resolve().parents[2] / "shared" / "data"
