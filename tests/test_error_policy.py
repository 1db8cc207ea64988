"""Only GanError is a one-line message (the CLI's `error:` line, the app's st.error); anything else is a bug and
keeps its traceback: the CLI lets it propagate, the app shows it in an expander and logs it. A full disk or too
little memory is the user's situation: it is turned into a ResourceError where it happens."""
import errno
import logging
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import cli
from gan_core.errors import ConfigError, GanError, ResourceError, resource_errors
from gan_core.explore import grids_and_gifs
from gan_core.files import pictures

DENSE = Path(__file__).resolve().parents[1] / "pretrained" / "mnist_dense"


def test_a_bug_in_a_command_keeps_its_traceback(monkeypatch, tmp_path):
    def buggy(*args, **kwargs):
        raise ValueError("an internal bug, not the user's input")

    monkeypatch.setattr(grids_and_gifs, "sample_grid", buggy)
    with pytest.raises(ValueError, match="internal bug"):
        cli.main(["sample", str(DENSE), "--out", str(tmp_path / "x.png")])


def test_a_full_disk_while_writing_is_one_line(monkeypatch, tmp_path, capsys):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pictures, "atomic_write_bytes", full)
    assert cli.main(["sample", str(DENSE), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "No space left on device" in line and "while writing" in line


@pytest.mark.parametrize("exc,needle", [(MemoryError("125 GiB"), "out of memory while drawing the grid (125 GiB)"),
                                        (type("ResourceExhaustedError", (Exception,), {})("OOM when allocating"),
                                         "TensorFlow ran out of memory while drawing the grid: OOM when allocating")])
def test_running_out_of_memory_while_sampling_is_one_line(monkeypatch, tmp_path, capsys, exc, needle):
    def oom(*args, **kwargs):
        raise exc

    monkeypatch.setattr(grids_and_gifs, "sample_grid", oom)
    assert cli.main(["sample", str(DENSE), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert needle in err and "smaller --grid or --scale" in err and "Traceback" not in err


def test_resource_errors_passes_anything_else_through():
    with pytest.raises(KeyError):
        with resource_errors("doing something"):
            raise KeyError("a bug")
    with pytest.raises(ResourceError, match=r"^/x: Permission denied \(while doing something\)$") as info:
        with resource_errors("doing something"):
            raise PermissionError(errno.EACCES, "Permission denied", "/x")
    assert isinstance(info.value.__cause__, PermissionError)


def test_a_config_error_is_also_a_value_error():
    """Callers that caught ValueError from gan_core (and their tests) keep working."""
    assert issubclass(ConfigError, GanError) and issubclass(ConfigError, ValueError)
    assert issubclass(ResourceError, GanError) and not issubclass(ResourceError, OSError)


def _page(kind: str) -> None:
    import streamlit as st

    from explorer_ui import widgets
    from gan_core.errors import DataError

    with widgets.user_errors():
        if kind == "user":
            raise DataError("the zip holds no images")
        raise ZeroDivisionError("a bug in the page")
    st.write("the rest of the page")


def test_the_app_shows_a_gan_error_as_one_line():
    at = AppTest.from_function(_page, args=("user",)).run()
    assert [e.value for e in at.error] == ["the zip holds no images"]
    assert not at.exception
    assert "the rest of the page" in [m.value for m in at.markdown]


def test_the_app_shows_any_other_error_with_its_traceback_and_logs_it(caplog):
    with caplog.at_level(logging.ERROR, logger="explorer_ui.widgets"):
        at = AppTest.from_function(_page, args=("bug",)).run()
    (message,) = at.error
    assert "a bug, not your input" in message.value and "a bug in the page" in message.value
    (shown,) = at.exception
    assert "ZeroDivisionError" in shown.value or "a bug in the page" in shown.value
    assert any("ZeroDivisionError" in line for line in shown.stack_trace)
    (record,) = [r for r in caplog.records if r.name == "explorer_ui.widgets"]
    assert record.exc_info and record.exc_info[0] is ZeroDivisionError
    assert "the rest of the page" in [m.value for m in at.markdown]


def test_serving_others_the_traceback_stays_in_the_log(caplog):
    """client.showErrorDetails = none (README, Docker section): st.exception would ignore it, so it is not used."""
    from streamlit import config

    before = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "none")
    try:
        with caplog.at_level(logging.ERROR, logger="explorer_ui.widgets"):
            at = AppTest.from_function(_page, args=("bug",)).run()
    finally:
        config.set_option("client.showErrorDetails", before)
    (message,) = at.error
    assert "server's log" in message.value and "a bug in the page" not in message.value
    assert not at.exception
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)
