"""Issue 29, the Python side of the morph in the browser: every shipped latent generator as one ONNX graph whose
image equals Generator.images_uint8 within one grey level (onnxruntime here, onnxruntime-web in the browser runs
the same graph), whose block tiles are G's own activations, converted once per generator (cached by content hash,
listed and cleaned by storage), and whose failures are one line."""
import importlib.util
import os
import sys
import time

import numpy as np
import pytest

from gan_core import latent_space, storage
from gan_core.errors import DependencyError, ModelError
from gan_core.explore import browser_model as bm
from gan_core.files import pictures
from gan_core.inference import Generator
from gan_core.runs import resolve_run

from conftest import under_ci

PRETRAINED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pretrained")
FAST = ["mnist_dcgan", "mnist_dense", "fashion_dcgan", "digits32", "mnist_cdcgan"]
SLOW = ["faces_gray64", "faces_rgb64"]
SEEDS = range(16)
_GENERATORS: dict[str, Generator] = {}


def require_onnxruntime():
    """onnxruntime comes with the export extra (requirements-dev installs it): skip without it, fail under CI."""
    if importlib.util.find_spec("onnxruntime"):
        return
    if under_ci():
        pytest.fail("onnxruntime is not installed; under CI the export extra is", pytrace=False)
    pytest.skip('onnxruntime is not installed (pip install ".[export]")')


def generator_of(name: str) -> Generator:
    if name not in _GENERATORS:
        _GENERATORS[name] = Generator.from_run(resolve_run(os.path.join(PRETRAINED, name)))
    return _GENERATORS[name]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """name -> (generator, BrowserModel), each converted once for the module into a cache of its own."""
    cache = tmp_path_factory.mktemp("cache")
    done = {}

    def convert(name: str):
        if name not in done:
            done[name] = generator_of(name), bm.browser_model(generator_of(name), cache)
        return done[name]
    return convert


def run_onnx(model: bm.BrowserModel, z: np.ndarray, labels=None, outputs=None) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(model.onnx, providers=["CPUExecutionProvider"])
    feeds = {model.inputs["z"]: z.astype(np.float32)}
    if model.inputs["label"]:
        feeds[model.inputs["label"]] = np.asarray(labels, np.int32)
    names = outputs or [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def pixel_diff(generator: Generator, model: bm.BrowserModel) -> int:
    """max |ONNX uint8 - Generator.images_uint8| on seeds 0..15 (a conditional one: classes 0, 1, ... in turn),
    the ONNX output mapped exactly as the contract says: round(clip(to_unit(raw), 0, 1) * 255)."""
    z = latent_space.z_from_seeds(SEEDS, generator.noise_dim, generator.noise)
    labels = np.arange(len(z)) % generator.num_classes if generator.conditional else None
    raw = run_onnx(model, z, labels, ["images"])["images"]
    unit = np.clip(pictures.to_unit(raw, model.pixel_range), 0.0, 1.0)
    got = np.round(unit * 255.0).astype(np.int16)
    return int(np.abs(got - generator.images_uint8(z, labels).astype(np.int16)).max())


@pytest.mark.parametrize("name", FAST + [pytest.param(n, marks=pytest.mark.slow) for n in SLOW])
def test_the_browser_graph_draws_the_same_pixels_as_the_generator(converted, name):
    require_onnxruntime()
    generator, model = converted(name)
    diff = pixel_diff(generator, model)
    print(f"{name}: max |diff| {diff} of 255 on seeds 0..15")
    assert diff <= 1
    assert (model.noise_dim, model.noise, model.pixel_range) == (generator.noise_dim, generator.noise,
                                                                   generator.pixel_range)
    assert model.image_shape == tuple(generator.image_shape) and model.num_classes == generator.num_classes
    assert model.inputs == {"z": "z", "label": "label" if generator.conditional else None}


def test_the_blocks_are_the_dcgan_maps_a_learner_expects(converted):
    _, model = converted("mnist_dcgan")
    assert [b.label for b in model.blocks] == ["Block 1 · 7×7×256", "Block 2 · 7×7×128", "Block 3 · 14×14×64"]
    assert [b.shape for b in model.blocks] == [(7, 7, 4), (7, 7, 4), (14, 14, 4)]
    assert all(b.tiles[0].startswith("mean of") and len(b.tiles) == len(b.ranges) == 4 for b in model.blocks)
    _, dense = converted("mnist_dense")
    assert [b.shape for b in dense.blocks] == [(16, 16, 1), (16, 32, 1), (32, 32, 1)]  # units as rectangles


def test_the_tiles_are_the_blocks_own_activations(converted):
    """Tile 0 is the mean over the block's channels, tiles 1..3 the channels named in the captions, as Keras
    computes them for the same z and class."""
    require_onnxruntime()
    import keras

    generator, model = converted("mnist_cdcgan")
    z = latent_space.z_from_seeds(range(20, 24), generator.noise_dim, generator.noise)
    labels = np.array([3, 1, 4, 1])
    got = run_onnx(model, z, labels)
    layers = bm.block_layers(generator.model)
    probe = keras.Model(generator.model.inputs, [layer.output for layer in layers])
    maps = probe([z, latent_space.labels_for(4, 10, labels)])
    for block, features in zip(model.blocks, maps):
        features = np.asarray(features)
        channels = [int(t.split()[-1]) for t in block.tiles[1:]]
        expected = np.concatenate([features.mean(-1, keepdims=True), features[..., channels]], -1)
        np.testing.assert_allclose(got[block.output], expected, atol=1e-4)
        low, high = zip(*block.ranges)
        assert all(lo < hi for lo, hi in zip(low, high))


def test_a_generator_converts_once_and_its_cache_entry_is_found_by_content(tmp_path, monkeypatch):
    generator = generator_of("mnist_dense")
    first = bm.browser_model(generator, tmp_path)
    assert sorted(p.name for p in (tmp_path / bm.CACHE_SUBDIR).iterdir()) == [f"{first.sha256}.json",
                                                                               f"{first.sha256}.onnx"]
    monkeypatch.setattr(bm, "convert", lambda *a, **k: pytest.fail("converted again"))
    again = bm.browser_model(Generator.from_run(resolve_run(os.path.join(PRETRAINED, "mnist_dense"))), tmp_path)
    assert again == first  # another load of the same file: the same key, read from the cache


def test_changed_weights_are_a_new_key_never_the_old_entry(tmp_path):
    generator = generator_of("mnist_dense")
    before = bm.model_hash(generator)
    weights = generator.model.get_weights()
    try:
        generator.model.set_weights([w + 1e-3 if i == 0 else w for i, w in enumerate(weights)])
        assert bm.model_hash(generator) != before
    finally:
        generator.model.set_weights(weights)
    assert bm.model_hash(generator) == before


def test_a_broken_cache_entry_is_converted_again(tmp_path):
    generator = generator_of("mnist_dense")
    key = bm.model_hash(generator)
    folder = tmp_path / bm.CACHE_SUBDIR
    folder.mkdir()
    (folder / f"{key}.onnx").write_bytes(b"half")
    (folder / f"{key}.json").write_text("{not json")
    model = bm.browser_model(generator, tmp_path)
    assert len(model.onnx) > 1000 and (folder / f"{key}.onnx").read_bytes() == model.onnx


def test_without_tf2onnx_the_reason_is_one_line_naming_the_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # `import tf2onnx` raises ImportError
    with pytest.raises(DependencyError) as info:
        bm.browser_model(generator_of("mnist_dense"), tmp_path)
    message = str(info.value)
    assert "\n" not in message and "tf2onnx is not installed" in message and "pip install -e ." in message
    assert not (tmp_path / bm.CACHE_SUBDIR).exists()


def test_a_graph_the_converter_refuses_is_a_model_error(monkeypatch, tmp_path):
    import tf2onnx

    def refuse(*args, **kwargs):
        raise RuntimeError("Unsupported ops: Counter({'FancyOp': 1})\nmore detail")
    monkeypatch.setattr(tf2onnx.convert, "from_function", refuse)
    with pytest.raises(ModelError, match=r"ONNX converter cannot convert this generator \(Unsupported ops") as info:
        bm.browser_model(generator_of("mnist_dense"), tmp_path)
    assert "\n" not in str(info.value)


def test_a_graph_too_large_to_send_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(bm, "MAX_ONNX_BYTES", 1000)
    with pytest.raises(ModelError, match="more than the 0 MB the page sends"):
        bm.browser_model(generator_of("mnist_dense"), tmp_path)


def test_storage_lists_and_cleans_converted_models(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(tmp_path / "runs"))
    model = bm.browser_model(generator_of("mnist_dense"), tmp_path / "cache")
    folder = tmp_path / "cache" / bm.CACHE_SUBDIR
    leftover = folder / f".{model.sha256}.onnx.abc123.tmp"
    leftover.write_bytes(b"killed mid-write")
    old = time.time() - bm.STALE_TEMP_SECONDS - 1
    os.utime(leftover, (old, old))
    listed = {item.path.name: item for item in storage.list_storage(tmp_path / "runs", tmp_path / "cache")}
    entry = listed[f"{model.sha256}.onnx"]
    assert entry.kind == "cache" and entry.removable and entry.size > len(model.onnx)
    assert listed[leftover.name].kind == "temp"
    removed = storage.clean(tmp_path / "runs", tmp_path / "cache")
    assert {item.path.name for item in removed} == {entry.path.name, leftover.name}
    assert list(folder.iterdir()) == []


def test_an_uploaded_sequential_generator_converts_with_its_blocks(tmp_path):
    """A user's own .keras file may be a Sequential model (no `model.output` until called as a function)."""
    require_onnxruntime()
    import keras

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4 * 4 * 16, activation="relu"),
                              keras.layers.Reshape((4, 4, 16)),
                              keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same"),
                              keras.layers.LeakyReLU(),
                              keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")])
    model.save(tmp_path / "mine.keras")
    generator = Generator.load(tmp_path / "mine.keras")
    converted = bm.browser_model(generator, tmp_path)
    assert [b.label for b in converted.blocks] == ["Block 1 · 4×4×16", "Block 2 · 8×8×8"]
    z = latent_space.z_from_seeds(SEEDS, 8)
    raw = run_onnx(converted, z, outputs=["images"])["images"]
    assert np.abs(pictures.to_uint8(raw, "tanh").astype(int) - generator.images_uint8(z).astype(int)).max() <= 1

