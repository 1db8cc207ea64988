import json

import pytest

from gan_core import config
from gan_core.errors import ConfigError


def test_preset_then_overrides_then_sets():
    cfg = config.from_preset("mnist_dcgan", {"epochs": 3, "batch_size": None}, ["g_lr=2e-4", "limit=1000", "name=x"])
    assert (cfg.epochs, cfg.batch_size, cfg.g_lr, cfg.limit, cfg.name) == (3, 256, 2e-4, 1000, "x")


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
    (["g_lr=fast"], "g_lr takes a number; got 'fast'"),
    (["epochs=2.5"], "epochs takes a whole number; got '2.5'"),
    (["image_size=30"], "multiple of 4"),
    (["precision=fp8"], "precision must be one of"),
    (["noise"], "key=value"),
    (["preset=mnist_dense"], "cannot be overridden"),
    (["real_label=0.2"], "real_label"),
    (["d_joint_batch=maybe"], "d_joint_batch takes true or false; got 'maybe'"),
    # the speed options (issue #5): the field, the bad value and the choices
    (["steps_per_call=0"], "steps_per_call must be a positive whole number; got 0"),
    (["steps_per_call=two"], "steps_per_call takes a whole number; got 'two'"),
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


# --- issue 15: limits that keep a config trainable, and hand-edited config.json files --------------------------

@pytest.mark.parametrize("sets,needle", [
    # each would exhaust memory, crash TensorFlow or never finish; the message names the limit and the field
    (["noise_dim=200000"], r"noise_dim must be at most 4096 .*got 200000"),
    (["noise_dim=10000000"], r"noise_dim must be at most 4096"),
    (["image_size=4096"], r"image_size must be at most 1024 .*got 4096"),
    (["threads=1000000"], r"threads must be at most 1024 .*got 1000000"),
    (["inter_op_threads=1000000"], r"inter_op_threads must be at most 1024"),
    (["epochs=100000000000000000000"], r"epochs must be at most 100000"),
    (["batch_size=10000000"], r"batch_size must be at most 65536"),
    (["grid=1000"], r"grid must be at most 32"),
    (["seed=-1"], r"seed must be 0 \.\. 4294967295; got -1"),
    (["seed=4294967296"], r"seed must be 0 \.\. 4294967295"),
    (["nan_lr_scale=nan"], r"nan_lr_scale must be a finite number; got nan"),
    (["real_label=inf"], r"real_label must be a finite number; got inf"),
])
def test_values_beyond_what_can_train_are_refused_with_the_limit(sets, needle):
    with pytest.raises(ConfigError, match=needle):
        config.from_preset("mnist_dcgan", sets=sets)


@pytest.mark.parametrize("preset,field", [("pix2pix_edges_digits", "l1_weight"),
                                          ("cyclegan_mnist_fashion", "cycle_weight"),
                                          ("cyclegan_mnist_fashion", "identity_weight")])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinite_loss_weights_are_refused_before_training(preset, field, value):
    # before: nan passed validation (nan < 0 is False) and the run "diverged" at its first step
    with pytest.raises(ConfigError, match=f"{field} must be a finite number; got {value}"):
        config.from_preset(preset, sets=[f"{field}={value}"])


@pytest.mark.parametrize("field,value,needle", [
    ("epochs", "3", r"epochs must be a whole number; got '3' \(text\)"),
    ("batch_size", None, r"batch_size must be a whole number; got null"),
    ("epochs", [1], r"epochs must be a whole number; got \[1\] \(a list\)"),
    ("epochs", 2.5, r"epochs must be a whole number; got 2.5"),
    ("g_lr", "fast", r"g_lr must be a number; got 'fast' \(text\)"),
    ("d_joint_batch", "yes", r"d_joint_batch must be true or false; got 'yes'"),
    ("dataset", 3, r"dataset must be text; got 3"),
    ("limit", True, r"limit must be a whole number or null; got true"),
])
def test_a_hand_edited_config_with_wrong_types_is_one_clear_error(tmp_path, field, value, needle):
    values = config.from_preset("mnist_dcgan").to_dict()
    values[field] = value
    path = tmp_path / "config.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ConfigError, match=needle):
        config.TrainConfig.load(path)
    with pytest.raises(ConfigError, match=needle):
        config.TrainConfig.from_dict(values).validate()  # also when built in Python and validated


def test_integers_in_float_fields_are_fine(tmp_path):
    values = config.from_preset("mnist_dcgan").to_dict()
    values["real_label"] = 1
    path = tmp_path / "config.json"
    path.write_text(json.dumps(values))
    assert config.TrainConfig.load(path).validate().real_label == 1


@pytest.mark.parametrize("text", ["[1, 2]", '"mnist"', "3", "null"])
def test_a_config_json_that_is_not_an_object_is_one_clear_error(tmp_path, text):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"config\.json is not a JSON object"):
        config.TrainConfig.load(path)


def test_a_batch_larger_than_the_images_kept_is_refused():
    # before: found only after the run folder existed (a failed run: "Only 16 training images, fewer than...")
    with pytest.raises(ConfigError, match=r"batch_size 64 is more than the 16 images limit keeps: lower batch_size to "
                                          r"16 or less, or raise limit"):
        config.from_preset("mnist_dcgan", {"limit": 16, "batch_size": 64})
    assert config.from_preset("mnist_dcgan", {"limit": 16, "batch_size": 16}).batch_size == 16


@pytest.mark.parametrize("preset,sets,needle", [
    ("mnist_dcgan", ["l1_weight=nan"], r"l1_weight is for Pix2Pix .* only; mnist_dcgan trains latent GANs .*: leave "
                                       r"l1_weight at 100.0"),
    ("mnist_dcgan", ["pairing=edges"], "pairing is for Pix2Pix"),
    ("mnist_dcgan", ["res_blocks=9"], "res_blocks is for CycleGAN"),
    ("mnist_dcgan", ["holdout=100"], "holdout is for Pix2Pix .* and CycleGAN"),
    ("pix2pix_edges_digits", ["loss=hinge"], "loss is for latent GANs"),
    ("pix2pix_edges_digits", ["d_steps=5"], "d_steps is for latent GANs"),
    ("cyclegan_mnist_fashion", ["l1_weight=50"], "l1_weight is for Pix2Pix"),
])
def test_a_field_only_other_tasks_read_is_refused_by_name(preset, sets, needle):
    # a knob that would do nothing in this run (its task never reads it) is one clear error, not silently ignored
    with pytest.raises(ConfigError, match=needle):
        config.from_preset(preset, sets=sets)


def test_ema_is_refused_for_image_to_image_presets():
    with pytest.raises(ConfigError, match="ema_decay is for latent GANs"):
        config.from_preset("pix2pix_edges_digits", sets=["ema_decay=0.999"])


def test_recipe_options_round_trip_through_config_json(tmp_path):
    cfg = config.from_preset("mnist_dcgan", sets=["ema_decay=0.999", "ema_start_step=500", "ema_rampup=0.05"])
    path = tmp_path / "config.json"
    path.write_text(cfg.to_json())
    assert config.TrainConfig.load(path) == cfg
    assert config.TrainConfig.load(path).validate().ema_start_step == 500
