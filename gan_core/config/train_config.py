"""One config object per run: a preset's defaults, overridden field by field, saved as JSON in the run.

``TrainConfig``'s fields are the settings of every section (:mod:`.sections`), in their order; its validation asks the
run's own sections (everything a run has, then its task's) what is wrong with each value, requires the fields of
other tasks' sections to stay at their defaults, then applies the sections' rules over several fields.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterable

from .. import models
from ..errors import ConfigError
from .sections import LAST_RULES, RUN, TASK_SECTIONS
from .settings import FIXED, Section, Setting, show


def _every_setting() -> dict[str, Setting]:
    """Each field once, in declaration order; a setting two tasks share (holdout) is one object in both."""
    found: dict[str, Setting] = {}
    for section in (RUN, *TASK_SECTIONS.values()):
        for setting in section.settings:
            if found.setdefault(setting.name, setting) is not setting:
                raise ValueError(f"config field {setting.name!r} is declared twice, differently")
    return found


SETTINGS = _every_setting()


class _ConfigMethods:
    """What a config does; its fields are declared in gan_core/config/sections.py."""

    def validate(self) -> "TrainConfig":
        """The config itself if every field fits its setting and the fields fit together; else one ConfigError."""
        for setting in SETTINGS.values():  # types first: a hand-edited config.json is refused by field name
            problem = setting.type_problem(getattr(self, setting.name))
            if problem:
                raise ConfigError(problem)
        models.get(self.architecture)  # an unknown architecture: the message lists the known ones
        own = self.sections()
        for section in own:
            for setting in section.settings:
                value = getattr(self, setting.name)
                problem = setting.problem(value)
                if problem:
                    raise ConfigError(problem)
                if setting.check and value is not None:
                    setting.check(value)
        self._check_other_tasks_fields(own)
        for rule in (*(rule for section in own for rule in section.rules), *LAST_RULES):
            problem = rule(self)
            if problem:
                raise ConfigError(problem)
        return self

    def sections(self) -> tuple[Section, ...]:
        """What this run's config is made of: what every run has, then its task's own section."""
        return RUN, TASK_SECTIONS[self.task]

    def _check_other_tasks_fields(self, own: tuple[Section, ...]) -> None:
        """A field only other tasks read must stay at its default: a knob that would do nothing is refused."""
        mine = {name for section in own for name in section.names()}
        for section in TASK_SECTIONS.values():
            for setting in section.settings:
                if setting.name not in mine and getattr(self, setting.name) != setting.default:
                    owners = " and ".join(s.title for s in TASK_SECTIONS.values() if setting.name in s.names())
                    raise ConfigError(f"{setting.name} is for {owners} only; {self.architecture} trains "
                                      f"{TASK_SECTIONS[self.task].title}: leave {setting.name} at "
                                      f"{json.dumps(setting.default)}")

    @property
    def task(self) -> str:
        return models.task_of(self.architecture)

    def to_dict(self) -> dict[str, Any]:
        """The fields, and the task for readers of config.json (derived from the architecture, so not a field)."""
        values = dataclasses.asdict(self)
        try:
            values["task"] = self.task
        except ConfigError:  # an architecture this version does not know: validate() says so
            pass
        return values

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """A config from saved values, each checked against its field's type (ranges are :meth:`validate`'s)."""
        if not isinstance(values, dict):
            raise ConfigError(f"a config is a JSON object of fields; got {show(values)}")
        values = {k: v for k, v in values.items() if k != "task"}  # recorded for readers; the architecture decides
        unknown = sorted(str(k) for k in set(values) - set(SETTINGS))
        if unknown:
            raise ConfigError(f"unknown config field(s) {', '.join(unknown)}; known fields: "
                              f"{', '.join(sorted(SETTINGS))}")
        for name, value in values.items():
            problem = SETTINGS[name].type_problem(value)
            if problem:
                raise ConfigError(problem)
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        """A run's config.json; ConfigError naming the file and the field for anything that is not a config."""
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path} is not a JSON object of config fields (it holds {show(values)}); restore "
                              "the run's config.json or start a new run")
        try:
            return cls.from_dict(values)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}; fix that field or start a new run") from None


TrainConfig = dataclasses.make_dataclass(
    "TrainConfig",
    [(s.name, s.annotation, dataclasses.field(default=s.default)) for s in SETTINGS.values()],
    bases=(_ConfigMethods,),
)
TrainConfig.__module__ = __name__  # make_dataclass's class would say "types" (pickling, reprs)
TrainConfig.__doc__ = ("Everything needed to rebuild a run's models and continue its training: one field per "
                       "setting of gan_core/config/sections.py, saved as the run's config.json.")


def presets() -> dict[str, dict[str, Any]]:
    return {name: dict(models.preset(name).values) for name in models.preset_names()}


def preset_config(preset: str) -> TrainConfig:
    """The preset's values over every field's default, not validated (a folder preset has no data path yet)."""
    recipe = models.preset(preset)
    return TrainConfig(preset=preset, architecture=recipe.architecture, **recipe.values)


def from_preset(preset: str, overrides: dict[str, Any] | None = None, sets: Iterable[str] = ()) -> TrainConfig:
    """The preset's defaults, then explicit overrides (None = keep), then `key=value` strings; validated."""
    cfg = preset_config(preset)
    for key, value in (overrides or {}).items():
        if value is not None:
            set_field(cfg, key, value)
    for item in sets:
        key, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(f"--set takes key=value (e.g. --set g_lr=2e-4); got {item!r}")
        set_field(cfg, key.strip(), parse_value(cfg, key.strip(), text.strip()))
    return cfg.validate()


def setting(key: str) -> Setting:
    """The declaration of field `key`; ConfigError with the closest names for a field that does not exist."""
    try:
        return SETTINGS[key]
    except KeyError:
        close = difflib.get_close_matches(key, list(SETTINGS), n=3)
        hint = f"did you mean {' or '.join(close)}?" if close else f"known fields: {', '.join(sorted(SETTINGS))}"
        raise ConfigError(f"unknown config field {key!r}; {hint}") from None


def set_field(cfg: TrainConfig, key: str, value: Any) -> None:
    if setting(key).group == FIXED:
        raise ConfigError(f"{key} cannot be overridden; choose it with --preset")
    setattr(cfg, key, value)


def parse_value(cfg: TrainConfig, key: str, text: str) -> Any:
    """Turn a --set string into the field's type, with a message that names the field when it does not fit."""
    try:
        return setting(key).parse(text)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


FIELD_NAMES = tuple(f.name for f in fields(TrainConfig))
