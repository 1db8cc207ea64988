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
