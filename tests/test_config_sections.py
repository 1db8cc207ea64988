"""The config's sections: every field declared once, validation and --set derived from the declarations."""
import dataclasses
import math

import pytest

from gan_core import config, models, tasks
from gan_core.config import settings as settings_lib
from gan_core.errors import ConfigError


def test_every_field_is_declared_once_in_a_section():
    declared = [s.name for section in (config.RUN, *config.TASK_SECTIONS.values()) for s in section.settings]
    shared = {name for name in declared if declared.count(name) > 1}
    assert shared == {"holdout"}  # Pix2Pix and CycleGAN hold out the same images: one Setting object in both
    assert [f.name for f in dataclasses.fields(config.TrainConfig)] == list(dict.fromkeys(declared))
    for f in dataclasses.fields(config.TrainConfig):
        setting = config.SETTINGS[f.name]
        assert (f.type, f.default) == (setting.annotation, setting.default)


def test_each_task_owns_its_section_and_the_groups_are_known():
    assert set(config.TASK_SECTIONS) == set(tasks.names())
    for name in tasks.names():
        assert tasks.get(name).section is config.TASK_SECTIONS[name]
    for setting in config.SETTINGS.values():
        assert setting.group in (*config.GROUPS, config.DATA, config.FIXED), setting.name
        assert setting.help, setting.name


@pytest.mark.parametrize("name", sorted(config.SETTINGS))
def test_a_default_reads_back_through_set_and_passes_its_own_checks(name):
    setting = config.SETTINGS[name]
    if setting.default is not None and setting.type is not str:
        assert setting.parse(str(setting.default).lower() if setting.type is bool else str(setting.default)) \
            == setting.default
    if not (setting.allowed() and setting.default not in setting.allowed()):  # "" = no pairing / no domain B
        assert setting.problem(setting.default) is None


@pytest.mark.parametrize("name", sorted(n for n, s in config.SETTINGS.items() if s.low is not None))
def test_a_value_below_the_floor_names_the_field_the_range_and_the_value(name):
    setting = config.SETTINGS[name]
    below = setting.low - (1 if setting.type is int or not setting.open_low else 0)
    message = setting.problem(setting.type(below))
    assert message.startswith(f"{name} must be ") and message.endswith(f"; got {setting.type(below)}")
    assert setting.range_words() in message


@pytest.mark.parametrize("name", sorted(n for n, s in config.SETTINGS.items() if s.high is not None))
def test_a_value_past_the_ceiling_says_why(name):
    setting = config.SETTINGS[name]
    above = setting.type(setting.high + (1 if setting.type is int else 0.5))
    message = setting.problem(above)
    assert message.startswith(f"{name} must be ") and message.endswith(f"; got {above}")
    assert setting.high_why in message


@pytest.mark.parametrize("name", sorted(n for n, s in config.SETTINGS.items() if s.type is float))
def test_no_float_field_takes_nan(name):
    assert config.SETTINGS[name].problem(math.nan) == f"{name} must be a finite number; got nan"


def test_every_preset_validates_and_keeps_other_tasks_fields_at_their_defaults():
    for preset in models.preset_names():
        values = {"data": "/somewhere"} if models.preset(preset).values.get("dataset") == "folder" else {}
        if models.preset(preset).values.get("dataset_b") == "folder":
            values["data_b"] = "/elsewhere"
        cfg = config.from_preset(preset, values)
        own = {n for section in cfg.sections() for n in section.names()}
        for name in set(config.SETTINGS) - own:
            assert getattr(cfg, name) == config.SETTINGS[name].default, (preset, name)


def test_a_setting_is_enough_for_a_field():
    # the whole declaration of a made-up knob: type, range, words; its checks and parsing follow from it
    knob = settings_lib.Setting("warmup_steps", 0, "steps before the learning rates reach their value", low=0,
                                high=10_000, high_why="longer than a run", zero="off", group=config.GROUPS[5])
    assert knob.annotation == "int"
    assert knob.problem(-1) == "warmup_steps must be 0 (off) or a positive whole number; got -1"
    assert knob.problem(20_000) == "warmup_steps must be at most 10000 (longer than a run); got 20000"
    assert knob.problem("5") == "warmup_steps must be a whole number; got '5' (text)"
    assert knob.parse("12") == 12
    with pytest.raises(ValueError, match="warmup_steps takes a whole number; got 'x'"):
        knob.parse("x")


def test_preset_and_architecture_cannot_be_set_and_unknown_fields_are_named():
    with pytest.raises(ConfigError, match="architecture cannot be overridden"):
        config.from_preset("mnist_dcgan", sets=["architecture=dcgan64"])
    with pytest.raises(ConfigError, match="unknown config field 'gp_wieght'; did you mean gp_weight"):
        config.from_preset("mnist_dcgan", sets=["gp_wieght=5"])


@pytest.mark.parametrize("preset", ["mnist_dcgan", "cyclegan_mnist_fashion"])
def test_the_cli_lists_every_setting_a_presets_runs_can_set(capsys, preset):
    from cli_helpers import run_cli

    code, out = run_cli(capsys, "settings", "--preset", preset)
    assert code == 0
    cfg = config.preset_config(preset)
    listed = [line.split()[0] for line in out.splitlines() if line and not line.startswith((" ", "#"))]
    own = [s.name for section in cfg.sections() for s in section.settings if s.group != config.FIXED]
    assert listed == own
    assert "epochs                          5  a positive whole number, at most 100000" in out \
        if preset == "cyclegan_mnist_fashion" else "loss                        \"bce\"" in out
