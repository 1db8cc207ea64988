"""Hostile input: configs and names from anywhere, model files from the internet."""
import dataclasses
import os
import zipfile

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gan_core import config, runs
from gan_core.errors import ConfigError, ModelError
from gan_core.inference import Generator


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_run_name_becomes_one_safe_path_component(name):
    clean = runs.sanitize_name(name)
    assert clean and len(clean) <= 60
    assert clean not in (".", "..") and "/" not in clean and "\\" not in clean and ".." not in clean
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in clean)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(f.name for f in dataclasses.fields(config.TrainConfig))) | st.text(max_size=12),
       value=st.text(max_size=12) | st.integers(-10**6, 10**6).map(str) | st.floats(allow_nan=True).map(str))
def test_any_set_either_gives_a_valid_config_or_one_config_error(key, value):
    try:
        cfg = config.from_preset("mnist_dcgan", sets=[f"{key}={value}"])
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        cfg.validate()  # whatever got through is a config the trainer accepts


def save_lambda_generator(path):
    z = keras.Input((4,))
    x = keras.layers.Lambda(lambda t: t * 2.0)(z)  # arbitrary Python code stored in the file
    x = keras.layers.Dense(4 * 4)(x)
    x = keras.layers.Reshape((4, 4, 1))(x)
    keras.Model(z, x).save(path)


def test_a_model_file_with_code_in_it_is_refused(tmp_path):
    path = tmp_path / "evil.keras"
    save_lambda_generator(path)
    with pytest.raises(ModelError, match="cannot load evil.keras"):
        Generator.load(path)


def make_generator_file(path):
    z = keras.Input((8,))
    x = keras.layers.Dense(4 * 4, activation="tanh")(z)
    x = keras.layers.Reshape((4, 4, 1))(x)
    keras.Model(z, x).save(path)


def test_truncated_and_garbage_model_files_give_a_clear_error(tmp_path):
    good = tmp_path / "good.keras"
    make_generator_file(good)
    assert Generator.load(good).image_shape == (4, 4, 1)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(os.urandom(2048))
    for path in (truncated, garbage):
        with pytest.raises(ModelError, match=f"cannot load {path.name}"):
            Generator.load(path)
    with pytest.raises(ModelError, match="not a .keras"):
        Generator.load(tmp_path / "model.h5")


def test_a_tampered_config_inside_the_archive_is_refused(tmp_path):
    good = tmp_path / "good.keras"
    make_generator_file(good)
    tampered = tmp_path / "tampered.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                data = data.replace(b'"Dense"', b'"Lambda"')
            dst.writestr(item, data)
    with pytest.raises(ModelError):
        Generator.load(tampered)


def test_a_classifier_is_not_taken_for_a_generator(tmp_path):
    x = keras.Input((28, 28, 1))
    y = keras.layers.Dense(10)(keras.layers.Flatten()(x))
    path = tmp_path / "classifier.keras"
    keras.Model(x, y).save(path)
    with pytest.raises(ModelError, match="not a generator"):
        Generator.load(path)


def test_generator_rejects_wrong_latent_size(tmp_path):
    path = tmp_path / "g.keras"
    make_generator_file(path)
    g = Generator.load(path)
    assert g(np.zeros(8, np.float32)).shape == (1, 4, 4, 1)
    with pytest.raises(ValueError, match="8-dimensional"):
        g(np.zeros((2, 5), np.float32))


# --- uploads that would exhaust the server's memory are refused before Keras builds them ---------------------------

SHIPPED_SMALL = runs.default_pretrained_dir() / "mnist_dense" / "generators"


def rewritten_keras(tmp_path, name, change_config=None, pad_config=0):
    """A copy of a shipped generator with its config.json edited (the weights untouched), as an attacker would."""
    import json

    source = sorted(SHIPPED_SMALL.glob("epoch_*.keras"))[-1]
    target = tmp_path / name
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "config.json":
                cfg = json.loads(data)
                if change_config:
                    change_config(cfg)
                data = json.dumps(cfg).encode() + b" " * pad_config
            dst.writestr(info.filename, data)
    return target


def dense_layers(cfg):
    return [layer for layer in cfg["config"]["layers"] if layer["class_name"] == "Dense"]


def test_a_dense_layer_of_ten_million_units_is_refused_before_it_is_built(tmp_path):
    import resource

    def huge(cfg):
        dense_layers(cfg)[0]["config"]["units"] = 10_000_000

    path = rewritten_keras(tmp_path, "huge.keras", huge)
    assert path.stat().st_size < 10_000_000  # a few MB on disk asking for gigabytes
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Keras's symbolic build already sees that the next layer was built for 256 features; either way, no memory
    with pytest.raises(ModelError, match=r"huge\.keras.*(declares [\d,]+ parameters|is incompatible)"):
        Generator.load(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing was allocated


def test_a_padded_config_json_is_refused_by_its_size(tmp_path):
    path = rewritten_keras(tmp_path, "padded.keras", pad_config=5 * 1024 * 1024)
    weights = sorted(SHIPPED_SMALL.glob("epoch_*.keras"))[-1].stat().st_size
    assert path.stat().st_size < weights + 100_000  # the padding compresses away: small on disk, huge once read
    with pytest.raises(ModelError, match=r"config\.json is [\d,]+ bytes, over"):
        Generator.load(path)


def test_a_layer_whose_output_would_fill_memory_is_refused(tmp_path):
    def reshape_huge(cfg):
        for layer in cfg["config"]["layers"]:
            if layer["class_name"] == "Reshape":
                layer["config"]["target_shape"] = [100_000, 100_000, 1]

    path = rewritten_keras(tmp_path, "wide.keras", reshape_huge)
    # Keras's symbolic build refuses the reshape of 784 values into 10^10 (nothing allocated)
    with pytest.raises(ModelError, match=r"cannot load wide\.keras: Reshape\.call\(\): The total size"):
        Generator.load(path)


@pytest.mark.parametrize("content, says", [(b"", "empty"), (b"not a zip at all", "zip archive")])
def test_an_empty_or_non_zip_keras_file_says_what_it_is(tmp_path, content, says):
    path = tmp_path / "broken.keras"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=f"cannot load broken.keras: .*{says}"):
        Generator.load(path)


def test_every_shipped_model_passes_the_size_check():
    from gan_core.inference import check_keras_file

    files = sorted(runs.default_pretrained_dir().glob("*/generators/*.keras"))
    assert len(files) >= 10
    for path in files:
        check_keras_file(path)


def test_keras_is_pinned_at_a_release_with_the_safe_mode_fixes():
    from importlib.metadata import version
    from pathlib import Path

    from packaging.specifiers import SpecifierSet

    lines = (Path(__file__).resolve().parents[1] / "requirements.txt").read_text().splitlines()
    (spec,) = [line.split("#")[0].strip()[len("keras"):] for line in lines if line.startswith("keras")]
    assert "3.13.9" not in SpecifierSet(spec) and "3.14.0" in SpecifierSet(spec)  # safe-mode bypasses before 3.14
    assert version("keras") in SpecifierSet(spec)


# --- issue 15: what a bad .keras file says ---------------------------------------------------------------------

@pytest.mark.parametrize("content,needle", [
    (b"", r"cannot load empty\.keras: it is empty \(0 bytes\), not a \.keras file"),
    (b"hello, I am text", r"cannot load empty\.keras: it is not a \.keras file \(a \.keras file is a zip archive"),
])
def test_an_empty_or_non_zip_keras_file_says_what_it_is_not_file_not_found(tmp_path, content, needle):
    path = tmp_path / "empty.keras"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=needle) as info:
        Generator.load(path)
    assert "not found" not in str(info.value).lower()


def test_a_keras_error_with_an_empty_message_is_still_one_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "g.keras"
    make_generator_file(path)

    def fails_without_a_message(*args, **kwargs):
        raise AssertionError()  # what a bare `assert` inside a loader raises

    monkeypatch.setattr(keras.models, "load_model", fails_without_a_message)
    with pytest.raises(ModelError, match=r"cannot load g\.keras: AssertionError\. Is it a complete"):
        Generator.load(path)


@pytest.mark.parametrize("channels", [2, 4, 5])
def test_a_generator_of_other_than_1_or_3_channels_is_refused_on_load(tmp_path, channels):
    # before: it loaded, and the Latent page showed Pillow's raw TypeError when drawing its first image
    z = keras.Input((8,))
    x = keras.layers.Reshape((4, 4, channels))(keras.layers.Dense(16 * channels, activation="tanh")(z))
    path = tmp_path / "odd.keras"
    keras.Model(z, x).save(path)
    with pytest.raises(ModelError, match=f"odd.keras makes {channels}-channel images; the explorer draws gray "
                                         r"\(1 channel\) or RGB \(3 channels\)"):
        Generator.load(path)
