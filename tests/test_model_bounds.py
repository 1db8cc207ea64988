"""Issue 31, finding 2: a small `.keras` file whose activations would fill memory (a 27 KB Dense -> Reshape ->
ZeroPadding2D(6000) asked for 8 GB) is refused on every entry point, from the shapes Keras itself derives in a
symbolic build (no layer listed by hand), before anything is allocated or called."""
from pathlib import Path

import keras
import pytest
from streamlit.testing.v1 import AppTest

from gan_core.errors import ModelError
from gan_core.inference import MAX_ACTIVATION, Generator, check_keras_file
from cli_helpers import peak_run

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
REFUSED = r"would make [\d,]+ values per image, over the"


def save(path: Path, *layers, inputs=(100,)) -> Path:
    keras.Sequential([keras.Input(inputs), *layers]).save(path)
    return path


def zero_padding_bomb(tmp_path: Path) -> Path:
    """The issue's file: 27 KB on disk, a 12004x12004 output (144 M values, 576 MB a picture in float32)."""
    return save(tmp_path / "padding.keras", keras.layers.Dense(16), keras.layers.Reshape((4, 4, 1)),
                keras.layers.ZeroPadding2D(6000))


def test_the_loader_refuses_the_zero_padding_generator_from_its_shapes(tmp_path):
    path = zero_padding_bomb(tmp_path)
    assert path.stat().st_size < 40_000
    with pytest.raises(ModelError, match=rf"padding\.keras: layer ZeroPadding2D \w+ {REFUSED}"):
        Generator.load(path)


@pytest.mark.parametrize("name, layers", [
    ("resizing", [keras.layers.Reshape((4, 4, 1)), keras.layers.Resizing(20_000, 20_000)]),
    ("upsampling", [keras.layers.Reshape((4, 4, 1)), keras.layers.UpSampling2D(3000)]),
    ("transpose", [keras.layers.Reshape((4, 4, 1)), keras.layers.Conv2DTranspose(1, 1, strides=3000)]),
    ("repeat", [keras.layers.RepeatVector(2_000_000)]),
    # the bomb in the middle, cropped away again: the output alone looks harmless
    ("inside", [keras.layers.Reshape((4, 4, 1)), keras.layers.ZeroPadding2D(3000), keras.layers.Cropping2D(2998)]),
])
def test_any_layer_type_that_grows_an_activation_is_refused(tmp_path, name, layers):
    path = save(tmp_path / f"{name}.keras", keras.layers.Dense(16), *layers)
    with pytest.raises(ModelError, match=REFUSED):
        check_keras_file(path)


def test_many_layers_under_the_limit_each_are_refused_together(tmp_path):
    side = int((MAX_ACTIVATION // 2) ** 0.5)  # each output half the limit, 10 of them five times it
    layers = [keras.layers.Dense(16), keras.layers.Reshape((4, 4, 1)), keras.layers.Resizing(side, side)]
    layers += [keras.layers.Activation("relu") for _ in range(10)]
    path = save(tmp_path / "deep.keras", *layers)
    with pytest.raises(ModelError, match=r"deep\.keras: its layers would make [\d,]+ values per image, over"):
        check_keras_file(path)




def test_export_model_refuses_it_in_one_line_with_memory_staying_low(tmp_path):
    path = zero_padding_bomb(tmp_path)
    done, peak = peak_run(["export-model", str(path), "--out", str(tmp_path / "out")])
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(errors) == 1 and "ZeroPadding2D" in errors[0] and "values per image" in errors[0], done.stderr[-800:]
    assert peak < 1500, f"peak RSS {peak:.0f} MB"  # TensorFlow's import alone is ~700 MB here
    assert not (tmp_path / "out").exists()


@pytest.fixture
def empty_app(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(tmp_path / "pretrained"))
    return tmp_path


@pytest.mark.parametrize("page", ["latent", "export"])
def test_the_pages_refuse_the_upload_in_one_line(empty_app, page):
    import resource

    data = zero_padding_bomb(empty_app).read_bytes()
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(f"pages/{page}.py").run()
    at.sidebar.radio[0].set_value("Upload .keras").run()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    at.get("file_uploader")[0].upload("padding.keras", data).run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    assert "ZeroPadding2D" in error and "values per image" in error and "--scale" not in error
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300_000  # KiB


def test_a_big_but_allowed_generator_on_latent_is_one_line_and_names_no_cli_flag(empty_app):
    """A 1024x1024 generator is within the limits; its 8-frame interpolation strip cannot be drawn (8,210 pixels
    wide): before, an uncaught ConfigError that told the page's user to use the CLI's --scale."""
    path = save(empty_app / "big.keras", keras.layers.Dense(16, activation="tanh"), keras.layers.Reshape((4, 4, 1)),
                keras.layers.UpSampling2D(256))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("pages/latent.py").run()
    at.sidebar.radio[0].set_value("Upload .keras").run()
    at.get("file_uploader")[0].upload("big.keras", path.read_bytes()).run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    assert "pick fewer steps" in error and "--scale" not in error
    next(n for n in at.number_input if n.label == "Steps").set_value(4).run()
    assert not at.exception and not at.error
