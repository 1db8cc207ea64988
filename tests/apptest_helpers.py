"""What the AppTest page tests (tests/test_page_*.py) share: open a page of the app over streamlit's AppTest,
read what it shows, and record quality figures for a run as `gan_core evaluate` does."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_core import runs

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 90  # the first page in a session imports TensorFlow and traces a generator


def open_page(name: str, *, errors_expected: bool = False) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if name != "home":
        at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    if not errors_expected:
        assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    """Everything the page wrote as text, to search for a message wherever it is."""
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning", "error", "code")
             for e in at.get(kind)]
    parts += [caption for image in at.get("image") for caption in image.captions]
    return "\n".join(str(p) for p in parts)


def plain(markdown: str) -> str:
    """A message as it reads on screen: without the escapes that keep names and paths from becoming markup."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def image_urls(at: AppTest) -> list[str]:
    """Media URLs of every st.image: the file id is a hash of the bytes, so equal URLs mean equal images."""
    return [url for image in at.get("image") for url in image.value]


def only_run(runs_dir: Path) -> runs.RunDir:
    (run,) = runs.list_runs(runs_dir)
    return run


def labels(widgets) -> list[str]:
    return [w.label for w in widgets]


def record_quality(run: runs.RunDir, epoch: int, fid: float, n: int = 500) -> None:
    """What `python -m gan_core evaluate RUN --epochs all` appends for one epoch (metrics.evaluate's result shape)."""
    runs.append_quality(run, {"dataset": "mnist", "kind": "digits", "n": n, "epoch": epoch, "metrics": {
        "classifier_fid": {"metric": "classifier_fid", "value": fid, "floor": 0.6, "n": n, "better": "lower",
                           "dataset": "mnist", "evaluator": "mnist.keras@0123456789ab", "seconds": 0.5},
        "classifier_score": {"metric": "classifier_score", "value": 2.0 + epoch, "floor": 9.7, "n": n,
                             "better": "higher", "dataset": "mnist", "max": 10, "seconds": 0.1},
        "mode_coverage": {"metric": "mode_coverage", "value": 0.4 / epoch, "floor": 0.003, "n": n, "better": "lower",
                          "dataset": "mnist", "classes_covered": 7 + epoch, "num_classes": 10,
                          "histogram": [n // 10] * 10, "floor_classes_covered": 10, "class_names": list("0123456789"),
                          "coverage_rule": "a class is covered with >= 10% of its expected count", "seconds": 0.1}}})
