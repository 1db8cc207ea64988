"""Errors a user can act on: the message names the problem and the fix.

Only these are shown as one line (the CLI's `error:`, the app's message); anything else is a bug and keeps its
traceback. Where a system error is the user's situation (a full disk, too little memory for what they asked),
the code that meets it raises a ResourceError from it (see `resource_errors`).
"""
import contextlib
from collections.abc import Iterator


class GanError(Exception):
    """Base class: the CLI prints the message alone (no traceback) and exits non-zero."""


class ConfigError(GanError, ValueError):
    """A config, preset or command-line value that cannot work (a ValueError too, for callers that catch those)."""


class DataError(GanError):
    """Training data that is missing, unreadable or too small."""


class RunError(GanError):
    """A run directory that is missing, locked by another trainer, or unreadable."""


class ModelError(GanError):
    """A generator file that cannot be loaded safely."""


class DependencyError(GanError):
    """An optional package that a feature needs is not installed (or does not import): the message names the
    `pip install` that brings it."""


class ClusterError(ConfigError):
    """Several machines (strategy multiworker): TF_CONFIG missing or malformed, or a worker that cannot take part;
    the message names the fix."""


class ResourceError(GanError):
    """The machine cannot do what was asked: out of memory or disk space, or a path that cannot be read or written."""


@contextlib.contextmanager
def resource_errors(doing: str, hint: str = "") -> Iterator[None]:
    """Raise a ResourceError for running out of memory (Python's or TensorFlow's) or an OSError while `doing`
    (e.g. "writing x.png"): the user's situation, not a bug, so it becomes one line. `hint` says what to ask for
    instead. Anything else passes through with its traceback."""
    advice = f"; {hint}" if hint else ""
    try:
        yield
    except MemoryError as exc:
        raise ResourceError(f"out of memory while {doing} ({exc or 'no detail'}){advice}") from exc
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise ResourceError(f"{where}{exc.strerror or exc} (while {doing})") from exc
    except Exception as exc:
        if type(exc).__name__ != "ResourceExhaustedError":  # TensorFlow's out-of-memory, without importing it
            raise
        raise ResourceError(f"TensorFlow ran out of memory while {doing}: {first_line(exc, 200)}{advice}") from exc


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first non-empty line of an exception's message, or its type's name when it has none (a bare assert)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0][:limit] if lines else type(exc).__name__
