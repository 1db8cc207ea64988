"""A run's configuration: every field declared once as a :class:`Setting` in a section (what every run has, and
each task's own), one ``TrainConfig`` dataclass built from them and saved as the run's ``config.json``.

- ``settings``: the vocabulary (a field's type, default, range or choices, help, and the Train page's expander).
- ``sections``: the declarations: ``RUN`` (every run) and ``LATENT``, ``PIX2PIX``, ``CYCLEGAN`` (each task's own).
- ``train_config``: ``TrainConfig`` with its validation, ``from_preset`` and ``--set`` parsing, derived from them.
"""
from __future__ import annotations

from .sections import CYCLEGAN, LATENT, MAX_SEED, PIX2PIX, RUN, TASK_SECTIONS
from .settings import DATA, FIXED, GROUPS, MAIN, Section, Setting
from .train_config import (FIELD_NAMES, SETTINGS, TrainConfig, from_preset, parse_value, preset_config, presets,
                           set_field, setting)

# the choices of the fields the CLI offers as flags (argparse's choices=), read off their settings
DATASETS = SETTINGS["dataset"].allowed()
PRECISIONS = SETTINGS["precision"].allowed()
STRATEGIES = SETTINGS["strategy"].allowed()
DIRECTIONS = SETTINGS["direction"].allowed()

__all__ = ["CYCLEGAN", "DATA", "DATASETS", "DIRECTIONS", "FIELD_NAMES", "FIXED", "GROUPS", "LATENT", "MAIN", "MAX_SEED",
           "PIX2PIX", "PRECISIONS", "RUN", "SETTINGS", "STRATEGIES", "Section", "Setting", "TASK_SECTIONS",
           "TrainConfig", "from_preset", "parse_value", "preset_config", "presets", "set_field", "setting"]
