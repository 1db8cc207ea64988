"""The Train form's fields, drawn from the config's sections: one widget per setting, in its expander.

Nothing here names a field. A setting's type, choices, range, label and help (gan_core/config/sections.py) decide its
widget; the values the widgets return are the overrides the page sends to ``config.from_preset``. A new setting in a
task's section shows on the form with no change here or on the page.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import streamlit as st

from gan_core.config import GROUPS, MAIN, Section, Setting

GROUP_ICONS = dict(zip(GROUPS[1:], (":material/tune:", ":material/blur_on:", ":material/compare:",
                                    ":material/photo_size_select_large:", ":material/speed:",
                                    ":material/photo_library:", ":material/memory:")))


def form_settings(sections: Sequence[Section]) -> dict[str, tuple[Setting, ...]]:
    """{group: its settings} for every group the form draws (the data picker's and fixed ones are not widgets)."""
    return {group: tuple(s for section in sections for s in section.in_group(group)) for group in GROUPS}


def settings_fields(sections: Sequence[Section], values: Mapping[str, Any], *,
                    notes: Mapping[str, str] | None = None, help_notes: Mapping[str, str] | None = None
                    ) -> dict[str, Any]:
    """Inside a form: the MAIN settings in two columns, then one expander per group, each widget starting at
    ``values[name]``. ``notes``: a caption at the top of a group; ``help_notes``: a sentence added to a setting's
    help (what "auto" means on this machine). Returns {name: value} for every setting drawn."""
    notes, help_notes = notes or {}, help_notes or {}
    chosen: dict[str, Any] = {}
    for group, settings in form_settings(sections).items():
        if not settings:
            continue
        if group == MAIN:
            chosen.update(_laid_out(st.container(), settings, values, help_notes))
            continue
        with st.expander(group, icon=GROUP_ICONS.get(group)):
            if group in notes:
                st.caption(notes[group])
            chosen.update(_laid_out(st.container(), settings, values, help_notes))
    return chosen


def _laid_out(where: Any, settings: Sequence[Setting], values: Mapping[str, Any], help_notes: Mapping[str, str]
              ) -> dict[str, Any]:
    """Numbers two to a row (the form is a narrow column); choices, text and switches a row each, so that their
    labels and options read whole. Declared order otherwise."""
    chosen: dict[str, Any] = {}
    pair: list[Setting] = []

    def flush() -> None:
        if pair:
            columns = where.columns(2)
            for column, setting in zip(columns, pair):
                chosen[setting.name] = widget(column, setting, values[setting.name], help_notes)
            pair.clear()

    for setting in settings:
        if _is_number(setting):
            pair.append(setting)
            if len(pair) == 2:
                flush()
            continue
        flush()
        chosen[setting.name] = widget(where, setting, values[setting.name], help_notes)
    flush()
    return chosen


def _is_number(setting: Setting) -> bool:
    return setting.type in (int, float) and not setting.offered()


def widget(where: Any, setting: Setting, value: Any, help_notes: Mapping[str, str] | None = None) -> Any:
    """One setting's widget in `where` (a column), starting at `value`; returns what it holds, as the field's type."""
    label, tip = setting.title, setting.help + (f". {help_notes[setting.name]}" if setting.name in (help_notes or {})
                                                 else "")
    if setting.type is bool:
        return where.checkbox(label, bool(value), help=tip)
    if setting.many:
        chosen = where.multiselect(label, setting.allowed(), default=[p for p in str(value).split(",") if p],
                                   help=tip)
        return ",".join(chosen)
    options = list(setting.offered())
    if options:
        return where.selectbox(label, options, index=options.index(value) if value in options else 0, help=tip,
                               format_func=lambda choice: setting.choice_labels.get(choice, str(choice)))
    if setting.type is str:
        text = where.text_input(label, value or "", help=tip, placeholder="default" if setting.optional else None)
        return (text.strip() or None) if setting.optional else text.strip()
    low, high = setting.form_range or (None if setting.open_low else setting.low,
                                       None if setting.open_high else setting.high)
    if setting.type is int:
        return where.number_input(label, _int(low), _int(high), None if value is None else int(value), help=tip,
                                  placeholder="all" if setting.optional else None)
    return where.number_input(label, None if low is None else float(low), None if high is None else float(high),
                              float(value), step=setting.step, format=setting.format, help=tip)


def _int(bound: float | None) -> int | None:
    return None if bound is None else int(bound)
