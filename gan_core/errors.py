"""Errors a user can act on: the message names the problem and the fix."""


class GanError(Exception):
    """Base class: the CLI prints the message alone (no traceback) and exits non-zero."""


class ConfigError(GanError):
    """A config, preset or command-line value that cannot work."""


class DataError(GanError):
    """Training data that is missing, unreadable or too small."""


class RunError(GanError):
    """A run directory that is missing, locked by another trainer, or unreadable."""


class ModelError(GanError):
    """A generator file that cannot be loaded safely."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first non-empty line of an exception's message, or its type's name when it has none (a bare assert)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0][:limit] if lines else type(exc).__name__
