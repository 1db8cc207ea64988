"""How a config field is declared: its type, default, allowed values, words for the form and which expander it sits in.

A :class:`Setting` is the one statement of a field. The run's config object is built from every section's settings
(:mod:`.train_config`), validation asks each setting what is wrong with a value (:meth:`Setting.problem`), ``--set``
parses through it (:meth:`Setting.parse`) and the Train page draws one widget from it (``explorer_ui.config_form``).
A :class:`Section` is the settings one task (or every run) owns, with the rules that tie several fields together.
"""
from __future__ import annotations

import json
import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

# Where a setting shows on the Train page. MAIN: the form's first fields; the others are expanders, in this order.
MAIN = "main"
GAN = "GAN options (the notes' knobs)"
REGULARISE = "Regularisation, augmentation and EMA"
TRANSLATION = "Image-to-image options"
IMAGES = "Images and networks"
OPTIMISER = "Optimiser and NaN roll-back"
SNAPSHOTS = "Snapshots, checkpoints and quality"
DEVICE = "Device and speed"
GROUPS = (MAIN, GAN, REGULARISE, TRANSLATION, IMAGES, OPTIMISER, SNAPSHOTS, DEVICE)
# Not form widgets: DATA is the data picker above the form (it changes which fields show); FIXED is chosen by
# the preset and cannot be overridden.
DATA = "data"
FIXED = "fixed"

_WANTED = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}
_TYPE_NAMES = {int: "int", float: "float", bool: "bool", str: "str"}
Rule = Callable[[Any], "str | None"]  # (a config) -> what is wrong with how its fields fit together, or None


@dataclass(frozen=True)
class Setting:
    """One config field: everything the config object, validation, ``--set`` and the Train form need to know."""

    name: str
    default: Any
    help: str  # what it does, in a sentence: the form's tooltip and the CLI's `settings` listing
    label: str = ""  # the form's label ("" = the name)
    group: str = MAIN  # MAIN, an expander (GROUPS), DATA or FIXED
    kind: type | None = None  # int, float, bool or str; None = the default's type
    optional: bool = False  # None is a value (e.g. limit: None = every image)
    low: float | None = None  # smallest allowed value (None: no floor)
    high: float | None = None  # largest allowed value
    open_low: bool = False  # low itself is not allowed: (low, ...
    open_high: bool = False  # high itself is not allowed: ..., high)
    high_why: str = ""  # why a value past `high` cannot train, for the message ("a run that would never end")
    zero: str = ""  # what 0 means when it is the floor of a whole number ("off", "TensorFlow's default")
    hint: str = ""  # appended to a range message: "(e.g. 2e-4)"
    choices: Sequence[Any] | Callable[[], Sequence[Any]] = ()  # allowed values (a callable: looked up when asked)
    form_choices: Callable[[], Sequence[Any]] | None = None  # what the form offers, if fewer (e.g. GPUs seen here)
    choice_labels: dict[Any, str] = field(default_factory=dict)  # a choice in words, for the form
    many: bool = False  # a comma-separated subset of `choices` (a multiselect): e.g. augment
    check: Callable[[Any], None] | None = None  # raises ConfigError for what a range cannot say (e.g. device)
    form_range: tuple[float, float] | None = None  # the widget's bounds, where they differ from low/high
    step: float | None = None  # the number widget's step
    format: str | None = None  # the number widget's format, e.g. "%.5f"

    @property
    def type(self) -> type:
        return self.kind or type(self.default)

    @property
    def annotation(self) -> str:
        """The dataclass annotation ("int", "str | None"), which is also what a saved value is checked against."""
        return _TYPE_NAMES[self.type] + (" | None" if self.optional else "")

    @property
    def title(self) -> str:
        return self.label or self.name

    def allowed(self) -> tuple[Any, ...]:
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def offered(self) -> tuple[Any, ...]:
        return tuple(self.form_choices()) if self.form_choices else self.allowed()

    def type_problem(self, value: Any) -> str | None:
        """The message for a value that is not this field's type ("epochs must be a whole number; got '3' (text)"),
        or None if it is (JSON's view: 1 fits a float)."""
        if value is None:
            wanted = None if self.optional else _WANTED[self.type]
        else:
            fits = {int: isinstance(value, numbers.Integral) and not isinstance(value, bool),
                    float: isinstance(value, numbers.Real) and not isinstance(value, bool),
                    bool: isinstance(value, bool), str: isinstance(value, str)}[self.type]
            wanted = None if fits else _WANTED[self.type] + (" or null" if self.optional else "")
        return f"{self.name} must be {wanted}; got {show(value)}" if wanted else None

    def problem(self, value: Any) -> str | None:
        """The whole message for a value this field cannot take ("epochs must be ...; got 0"), or None."""
        not_its_type = self.type_problem(value)
        if not_its_type or value is None:
            return not_its_type
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.name} must be a finite number; got {value}"
        allowed = self.allowed()
        if allowed and not self.many and value not in allowed:  # a subset (many) is its `check`'s to judge
            return f"{self.name} must be one of {', '.join(map(str, allowed))}{self._hint()}; got {value!r}"
        if self.type in (int, float):
            if self._below(value):
                return f"{self.name} must be {self.range_words()}{self._hint()}; got {value}"
            if self._above(value):
                if self.high_why:
                    return f"{self.name} must be at most {_number(self.high)} ({self.high_why}); got {value}"
                return f"{self.name} must be {self.range_words()}{self._hint()}; got {value}"
        return None

    def range_words(self) -> str:
        """The allowed numbers in words: "a positive whole number", "0 .. 4294967295", "in [0, 1)"."""
        low, high = self.low, None if self.high_why else self.high  # a ceiling with a reason is said when passed
        if self.type is int and low is not None and not self.open_low and high is None:
            if low == 1:
                return "a positive whole number"
            if low == 0:
                return f"0 ({self.zero}) or a positive whole number" if self.zero else "0 or a positive whole number"
        if self.type is int and low is not None and high is not None:
            return f"{_number(low)} .. {_number(high)}"
        if low is not None and high is not None:
            return f"in {'(' if self.open_low else '['}{_number(low)}, {_number(high)}{')' if self.open_high else ']'}"
        if low is not None:
            return f"more than {_number(low)}" if self.open_low else f"{_number(low)} or more"
        return f"less than {_number(high)}" if self.open_high else f"at most {_number(high)}"

    def allowed_words(self) -> str:
        """What the field takes, in a few words: its choices, its range, or its type."""
        if self.allowed():
            words = ", ".join(map(str, self.allowed()))
            return f"a comma-separated subset of {words}" if self.many else words
        if self.type in (int, float) and (self.low is not None or self.high is not None):
            words = self.range_words()
            return f"{words}, at most {_number(self.high)}" if self.high_why else words
        return _WANTED[self.type] + (" or empty" if self.optional else "")

    def parse(self, text: str) -> Any:
        """A ``--set`` string as this field's type; ValueError with what it takes when it is not one."""
        if self.optional and text.lower() in ("none", "null", ""):
            return None
        kind = self.type
        if kind is int and re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        if kind is float:
            try:
                return float(text)
            except ValueError:
                pass
        elif kind is bool and text.lower() in ("true", "false", "1", "0", "yes", "no"):
            return text.lower() in ("true", "1", "yes")
        elif kind is str:
            return text
        raise ValueError(f"{self.name} takes {_WANTED[kind]}; got {text!r}")

    def _below(self, value: float) -> bool:
        return self.low is not None and (value <= self.low if self.open_low else value < self.low)

    def _above(self, value: float) -> bool:
        return self.high is not None and (value >= self.high if self.open_high else value > self.high)

    def _hint(self) -> str:
        return f" ({self.hint})" if self.hint else ""


@dataclass(frozen=True)
class Section:
    """The settings one task owns (or every run has), and the rules over several of its fields."""

    name: str  # the task's name ("latent"), or "run" for what every run has
    title: str  # in words, for messages: "latent GANs (noise -> image)"
    settings: tuple[Setting, ...]
    rules: tuple[Rule, ...] = ()  # each (cfg) -> a message, or None; run in order after every field is in range

    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.settings)

    def in_group(self, group: str) -> tuple[Setting, ...]:
        return tuple(s for s in self.settings if s.group == group)


def show(value: Any) -> str:
    """A value as the user wrote it in JSON, with what it is when that is the problem."""
    if isinstance(value, str):
        return f"{value[:60]!r} (text)"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (list, dict)):
        text = json.dumps(value)
        return f"{text[:60]}{'...' if len(text) > 60 else ''} ({'a list' if isinstance(value, list) else 'an object'})"
    return str(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"
