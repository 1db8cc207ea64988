import json

import pytest

from gan_core import config
from gan_core.errors import ConfigError


def test_preset_then_overrides_then_sets():
    cfg = config.from_preset("mnist_dcgan", {"epochs": 3, "batch_size": None}, ["g_lr=2e-4", "limit=100", "name=x"])
    assert (cfg.epochs, cfg.batch_size, cfg.g_lr, cfg.limit, cfg.name) == (3, 256, 2e-4, 100, "x")


def test_json_round_trip(tmp_path):
    cfg = config.from_preset("faces_rgb64", {"data": "/faces"})
    path = tmp_path / "config.json"
    path.write_text(cfg.to_json())
    assert config.TrainConfig.load(path) == cfg
    assert json.loads(path.read_text())["real_label"] == 0.9


@pytest.mark.parametrize("sets,needle", [
    (["epochs=0"], "epochs must be a positive"),
    (["batch_size=-4"], "batch_size must be a positive"),
    (["epochz=3"], "did you mean epochs"),
    (["g_lr=fast"], "g_lr takes a float"),
    (["epochs=2.5"], "epochs takes a int"),
    (["image_size=30"], "multiple of 4"),
    (["precision=fp8"], "precision must be one of"),
    (["noise"], "key=value"),
    (["preset=mnist_dense"], "cannot be overridden"),
    (["real_label=0.2"], "real_label"),
    (["d_joint_batch=maybe"], "d_joint_batch takes a bool"),
    # the speed options (issue #5): the field, the bad value and the choices
    (["steps_per_call=0"], "steps_per_call must be a positive whole number; got 0"),
    (["steps_per_call=two"], "steps_per_call takes a int"),
    (["jit_compile=yes"], "jit_compile must be one of auto, on, off; got 'yes'"),
    (["threads=-1"], "threads must be 0 .* or a positive whole number; got -1"),
    (["inter_op_threads=-3"], "inter_op_threads must be 0 .* or a positive whole number; got -3"),
    (["eval_every=-1"], "eval_every must be 0 .* or a positive whole number; got -1"),
    (["num_classes=10"], "mnist_dcgan takes no class label"),
    (["precision=bf16"], "precision must be one of auto, float32, mixed_bfloat16, mixed_float16; got 'bf16'"),
    # the recipes' training options (issue #17)
    (["ema_decay=1"], r"ema_decay must be in \[0, 1\)"),
    (["ema_decay=-0.5"], r"ema_decay must be in \[0, 1\)"),
    (["ema_start_step=-1"], "ema_start_step must be 0 or a positive whole number"),
    (["ema_rampup=2"], r"ema_rampup must be in \[0, 1\]"),
])
def test_bad_values_have_one_clear_message(sets, needle):
    with pytest.raises(ConfigError, match=needle):
        config.from_preset("mnist_dcgan", sets=sets)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown preset.*mnist_dcgan"):
        config.from_preset("stylegan9")


def test_folder_presets_need_a_data_path():
    with pytest.raises(ConfigError, match="--data"):
        config.from_preset("faces_rgb64")


def test_unknown_fields_in_a_saved_config_are_refused():
    with pytest.raises(ConfigError, match="unknown config field"):
        config.TrainConfig.from_dict({"preset": "mnist_dcgan", "bogus": 1})


def test_ema_is_refused_for_image_to_image_presets():
    with pytest.raises(ConfigError, match="ema_decay is for latent GANs"):
        config.from_preset("pix2pix_edges_digits", sets=["ema_decay=0.999"])


def test_recipe_options_round_trip_through_config_json(tmp_path):
    cfg = config.from_preset("mnist_dcgan", sets=["ema_decay=0.999", "ema_start_step=500", "ema_rampup=0.05"])
    path = tmp_path / "config.json"
    path.write_text(cfg.to_json())
    assert config.TrainConfig.load(path) == cfg
    assert config.TrainConfig.load(path).validate().ema_start_step == 500
