"""The generator as the browser runs it: one ONNX graph that gives the image and, beside it, small views of G's
blocks, converted once per generator and kept in the app's cache folder.

The graph takes what :mod:`.model_export`'s ONNX file takes (``z`` float32 ``[N, noise_dim]``; a conditional
generator also ``label`` int32 ``[N]``) and gives ``images`` (float32 NHWC in the generator's own range: the
app's uint8 pixel is ``round(clip(to_unit(images), 0, 1) * 255)``) plus one output per block of G, ``block1``,
``block2``, ... (float32 ``[N, h, w, tiles]``). A block is where G's activation (and the BatchNorm or Reshape
right after it) ends: the 7x7x256 map a DCGAN starts from, then each upsampled map. Its tiles are what a learner
can watch while z moves: tile 0 is the mean of all its channels, tiles 1..3 the three channels that change most
with z (picked once, on the z of seeds 0..255); a block of a dense generator is its units laid out as one
rectangle. Each tile comes with the range its values took on those z, so the browser maps it to grey the same
way on every frame: ``grey = clip((v - low) / (high - low), 0, 1)``.

Only a Generator already loaded (Keras's safe mode) is converted; its cache key is a hash of what it computes
(architecture, weights, noise, pixel range), so two loads of the same file share one entry and a changed file
never reuses an old one.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import latent_space
from ..data import cache_root
from ..errors import ModelError, resource_errors
from ..files.disk import atomic_write_bytes, atomic_write_json, read_json_object
from ..inference import Generator
from .export_onnx import ONNX_OPSET, to_onnx

EXPORTER_VERSION = 1  # bump when the graph changes: old cache entries are then not reused
CACHE_SUBDIR = "browser_models"
MAX_ONNX_BYTES = 100_000_000  # the page sends the model to the browser once; beyond this it is no longer "once"
TILES = 4  # per convolutional block: the channel mean and the 3 channels that change most with z
STALE_TEMP_SECONDS = 600.0  # as the data cache's
SAMPLE_SEEDS = 256  # the z the channels and the grey ranges are picked on
ACTIVATIONS = {"ReLU", "LeakyReLU", "Activation", "ELU", "PReLU", "Softmax"}
FOLLOWERS = {"BatchNormalization", "Reshape", "LayerNormalization", "GroupNormalization"}


@dataclass(frozen=True)
class Block:
    """One of G's blocks as the browser shows it: output `output` of the graph is [N, *shape]."""

    output: str  # "block1", ...
    label: str  # "Block 1 · 7×7×256"
    shape: tuple[int, int, int]  # h, w, tiles
    tiles: tuple[str, ...]  # a caption per tile: "mean of 256 channels", "channel 17", ...
    ranges: tuple[tuple[float, float], ...]  # (low, high) per tile: grey = clip((v - low) / (high - low), 0, 1)


@dataclass(frozen=True)
class BrowserModel:
    """Everything the browser needs to draw exactly what Generator.images_uint8 draws, and G's blocks."""

    onnx: bytes
    sha256: str  # the cache key: what the generator computes, and this exporter's version
    noise_dim: int
    noise: str  # "normal" | "uniform"
    num_classes: int  # 0: unconditional; else input "label" int32 [N]
    image_shape: tuple[int, int, int]  # H, W, C
    pixel_range: str  # "tanh": unit = (raw + 1) / 2; "sigmoid" / "unit": unit = raw
    inputs: dict[str, str | None]  # {"z": "z", "label": "label" or None}
    blocks: tuple[Block, ...]
    output: str = "images"

    def metadata(self) -> dict[str, Any]:
        """All but the ONNX bytes, as JSON takes it (what the cache keeps beside the .onnx file)."""
        data = asdict(self)
        del data["onnx"]
        return data


def browser_model(generator: Generator, cache_dir: str | Path | None = None) -> BrowserModel:
    """The generator as ONNX with its blocks' tiles, from the cache or converted now (a few seconds) and cached.

    Raises a GanError subclass whose one line says why it cannot be converted (tf2onnx missing: DependencyError;
    an op the converter refuses, or too large a graph: ModelError; the cache folder unwritable is not an error:
    the model is then converted on every call)."""
    key = model_hash(generator)
    folder = cache_folder(cache_dir)
    cached = _read_cached(folder, key)
    if cached is not None:
        return cached
    made = convert(generator, key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / f"{key}.json", made.metadata())
        atomic_write_bytes(folder / f"{key}.onnx", made.onnx)  # written last: it marks the entry complete
    except OSError:
        pass  # the cache only saves time
    return made


def cache_folder(cache_dir: str | Path | None = None) -> Path:
    """Where converted models are kept: `<cache>/browser_models`, the cache being `cache_dir`, else
    $GAN_EXPLORER_CACHE, else ~/.cache/gan_explorer (the data cache's folder)."""
    return cache_root(cache_dir) / CACHE_SUBDIR


def model_hash(generator: Generator) -> str:
    """sha256 of what the generator computes: its architecture, weights, noise, pixel range and classes, and the
    exporter's version (the file's bytes would miss a file replaced after it was loaded)."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"exporter": EXPORTER_VERSION, "opset": ONNX_OPSET, "noise": generator.noise,
                              "noise_dim": generator.noise_dim, "pixel_range": generator.pixel_range,
                              "num_classes": generator.num_classes}, sort_keys=True).encode())
    digest.update(generator.model.to_json().encode())
    for weight in generator.model.get_weights():
        digest.update(str(weight.shape).encode())
        digest.update(np.ascontiguousarray(weight, np.float32).tobytes())
    return digest.hexdigest()


def convert(generator: Generator, key: str | None = None) -> BrowserModel:
    """Convert now (no cache): pick the blocks and their tiles, build the serving function, run tf2onnx."""
    import tensorflow as tf

    layers = block_layers(generator.model)
    with resource_errors("converting the generator for the browser"):
        probe = _probe_model(generator, layers)
        z, labels = _sample(generator)
        features = probe([z] if labels is None else [z, labels])[1:]
        plans = [_plan(i, np.asarray(f, np.float32)) for i, f in enumerate(features)]
    signature = [tf.TensorSpec([None, generator.noise_dim], tf.float32, name="z")]
    if generator.num_classes:
        signature.append(tf.TensorSpec([None], tf.int32, name="label"))
    serve = tf.function(_serving(probe, plans, generator.num_classes), input_signature=signature, autograph=False)
    proto = to_onnx(serve, signature)
    onnx = proto.SerializeToString()
    if len(onnx) > MAX_ONNX_BYTES:
        raise ModelError(f"this generator is {len(onnx) / 1e6:.0f} MB as ONNX, more than the "
                         f"{MAX_ONNX_BYTES / 1e6:.0f} MB the page sends to a browser: it is drawn on the server")
    return BrowserModel(onnx=onnx, sha256=key or model_hash(generator), noise_dim=generator.noise_dim,
                        noise=generator.noise, num_classes=generator.num_classes,
                        image_shape=tuple(int(d) for d in generator.image_shape), pixel_range=generator.pixel_range,
                        inputs={"z": "z", "label": "label" if generator.num_classes else None},
                        blocks=tuple(plan["block"] for plan in plans))


# --- which layers are blocks, and what of them is shown ------------------------------------------------------------

def block_layers(model) -> list[Any]:
    """The layers whose outputs are G's blocks, input to output: each activation (a layer of ACTIVATIONS, or one
    with a non-linear activation of its own), followed on through the BatchNorm or Reshape that alone consume it.
    The model's own output is not a block (it is the image)."""
    consumers: dict[int, list[Any]] = {}
    for layer in model.layers:
        for tensor in _tensors(getattr(layer, "input", None)):
            producer = getattr(tensor, "_keras_history", (None,))[0]
            consumers.setdefault(id(producer), []).append(layer)
    outputs = {id(t._keras_history[0]) for t in _tensors(model.outputs)}
    blocks = []
    for layer in model.layers:
        if id(layer) in outputs or not _is_activation(layer):
            continue
        end = layer
        while len(consumers.get(id(end), [])) == 1 and type(consumers[id(end)][0]).__name__ in FOLLOWERS:
            end = consumers[id(end)][0]
        if id(end) not in outputs and len(end.output.shape) in (2, 4):
            blocks.append(end)
    return blocks


def _tensors(value) -> list[Any]:
    if value is None:
        return []
    return [t for t in (value if isinstance(value, (list, tuple)) else [value]) if hasattr(t, "_keras_history")]


def _is_activation(layer) -> bool:
    if type(layer).__name__ in ACTIVATIONS:
        return True
    activation = getattr(getattr(layer, "activation", None), "__name__", "linear")
    return activation not in ("linear", "")


def _probe_model(generator: Generator, layers: list[Any]):
    """The generator with its blocks' outputs as extra outputs (the same layers: the image is unchanged)."""
    import keras

    model = generator.model  # model.outputs, not model.output: a Sequential model has only the former
    return keras.Model(model.inputs, [*model.outputs, *(layer.output for layer in layers)])


def _sample(generator: Generator) -> tuple[np.ndarray, np.ndarray | None]:
    z = latent_space.z_from_seeds(range(SAMPLE_SEEDS), generator.noise_dim, generator.noise)
    labels = latent_space.labels_for(SAMPLE_SEEDS, generator.num_classes) if generator.num_classes else None
    return z, labels


def _plan(index: int, features: np.ndarray) -> dict[str, Any]:
    """How block `index` is shown, decided on its features over the sample z: which channels, which ranges."""
    output = f"block{index + 1}"
    if features.ndim == 2:
        units = features.shape[1]
        h = max(d for d in range(1, int(units ** 0.5) + 1) if units % d == 0)
        block = Block(output, f"Block {index + 1} · {units} units", (h, units // h, 1), (f"{units} units",),
                      (_range(features),))
        return {"block": block, "shape": (h, units // h)}
    h, w, channels = features.shape[1:]
    change = features.var(axis=0).sum(axis=(0, 1))  # how much each channel moves as z moves
    picked = [int(c) for c in np.argsort(-change, kind="stable")[:TILES - 1]]
    tiles = np.concatenate([features.mean(axis=-1, keepdims=True), features[..., picked]], axis=-1)
    block = Block(output, f"Block {index + 1} · {h}×{w}×{channels}", (h, w, tiles.shape[-1]),
                  (f"mean of {channels} channels", *(f"channel {c}" for c in picked)),
                  tuple(_range(tiles[..., t]) for t in range(tiles.shape[-1])))
    return {"block": block, "channels": picked}


def _range(values: np.ndarray) -> tuple[float, float]:
    """The 1st..99th percentile of a tile's values over the sample (never empty: a constant tile gets width 1)."""
    low, high = (float(v) for v in np.percentile(values, [1, 99]))
    return (round(low, 6), round(high if high > low else low + 1.0, 6))


def _serving(probe, plans: list[dict[str, Any]], num_classes: int):
    """z (and an int class) -> {"images": G's output, "block1": tiles, ...}."""
    import tensorflow as tf

    def tiles(features, plan):
        if "shape" in plan:
            return tf.reshape(features, [-1, *plan["shape"], 1])
        mean = tf.reduce_mean(features, axis=-1, keepdims=True)
        return tf.concat([mean, tf.gather(features, plan["channels"], axis=-1)], axis=-1)

    def outputs(inputs):
        images, *features = probe(inputs, training=False)
        return {"images": images, **{p["block"].output: tiles(f, p) for f, p in zip(features, plans)}}

    if num_classes:
        return lambda z, label: outputs([z, tf.one_hot(label, num_classes, dtype=tf.float32)])
    return lambda z: outputs([z])


# --- the cache -------------------------------------------------------------------------------------------------

def _read_cached(folder: Path, key: str) -> BrowserModel | None:
    """The cached model for `key`, or None (absent, half-written, or written by another version)."""
    try:
        onnx = (folder / f"{key}.onnx").read_bytes()
    except OSError:
        return None
    meta = read_json_object(folder / f"{key}.json")
    try:
        blocks = tuple(Block(b["output"], b["label"], tuple(b["shape"]), tuple(b["tiles"]),
                             tuple(tuple(r) for r in b["ranges"])) for b in meta["blocks"])
        return BrowserModel(onnx=onnx, sha256=key, noise_dim=int(meta["noise_dim"]), noise=meta["noise"],
                            num_classes=int(meta["num_classes"]), image_shape=tuple(meta["image_shape"]),
                            pixel_range=meta["pixel_range"], inputs=dict(meta["inputs"]), blocks=blocks,
                            output=meta.get("output", "images"))
    except (KeyError, TypeError, ValueError):
        return None


def cached_models(cache_dir: str | Path | None = None) -> list[tuple[Path, int]]:
    """(the .onnx file, bytes of it and its .json notes) of every cached browser model, for gan_core.storage."""
    found = []
    for path in _listing(cache_dir, lambda n: n.endswith(".onnx") and not n.startswith(".")):
        with contextlib.suppress(OSError):  # removed meanwhile
            notes = path.with_suffix(".json")
            found.append((path, path.stat().st_size + (notes.stat().st_size if notes.exists() else 0)))
    return found


def stale_temp_files(cache_dir: str | Path | None = None, now: float | None = None) -> list[Path]:
    """Temporary files of cache writes killed mid-way (atomic_write's `.<name>.XXXX.tmp`), untouched for
    STALE_TEMP_SECONDS (a live writer finishes in seconds)."""
    now = time.time() if now is None else now
    stale = []
    for path in _listing(cache_dir, lambda n: n.startswith(".") and n.endswith(".tmp")):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                stale.append(path)
    return stale


def _listing(cache_dir: str | Path | None, keep) -> list[Path]:
    folder = cache_folder(cache_dir)
    try:
        return [folder / n for n in sorted(os.listdir(folder)) if keep(n)]
    except OSError:
        return []
