"""Opening `.keras` files safely: checked before Keras builds anything, loaded in safe mode, computed in float32.

The one loader of every model file the app opens (generators, translators, uploads), so the limits below hold
for all of them.
"""
from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, first_line

# What a model of this app can be, checked on the file's config before Keras builds (and allocates) anything: the
# largest shipped network has ~10 M parameters and 256x256 images; a hostile 288 KB file once asked for 20 GB.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_PARAMETERS = 200_000_000
MAX_ACTIVATION = 64 * 1024 * 1024  # values one layer may produce per image (e.g. 1024x1024x64)


def check_keras_file(path: Path, what: str = "model") -> None:
    """Refuse a `.keras` file whose config cannot be a model of this app, without building it: an oversized
    config.json, more parameters than MAX_PARAMETERS (or than its weights file stores), or a layer whose output
    per image exceeds MAX_ACTIVATION. Counts only what the config states exactly (Dense, convolutions,
    embeddings, reshapes, upsampling); other layers are left to Keras."""
    # Keras says "File not found" for both; say what the file is instead
    if path.stat().st_size == 0:
        raise ModelError(f"cannot load {path.name}: it is empty (0 bytes), not a .keras file; was the download or "
                         "copy cut short? Save the model again with model.save('generator.keras')")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"cannot load {path.name}: it is not a .keras file (a .keras file is a zip archive, and "
                         "this one is not); save the model again with model.save('generator.keras')")
    try:
        with zipfile.ZipFile(path) as archive:
            names = {info.filename: info for info in archive.infolist()}
            config_info = names.get("config.json")
            if config_info is None:
                raise ModelError(f"{path.name} is not a Keras 3 model file (a zip holding config.json); save a "
                                 f"{what} with model.save('{what}.keras')")
            if config_info.file_size > MAX_CONFIG_BYTES:
                raise ModelError(f"{path.name}: its config.json is {config_info.file_size:,} bytes, over the "
                                 f"{MAX_CONFIG_BYTES:,} a {what} of this app needs; refused before loading")
            with archive.open(config_info) as f:
                raw = f.read(MAX_CONFIG_BYTES + 1)
            weights = sum(i.file_size for n, i in names.items() if n.endswith((".h5", ".npz")))
    except zipfile.BadZipFile as exc:
        raise ModelError(f"cannot load {path.name}: its zip archive is damaged ({exc}); save the model again with "
                         f"model.save('{what}.keras')") from None
    try:
        config = json.loads(raw)
    except ValueError:
        raise ModelError(f"{path.name}: its config.json is not valid JSON; is it a complete .keras file?") from None
    parameters, largest, layer = 0, 0, ""
    for cls, cfg, in_shape in _layers(config):
        count, out = _layer_size(cls, cfg, in_shape)
        parameters += count
        if out > largest:
            largest, layer = out, f"{cls} {cfg.get('name', '')}".strip()
    if parameters > MAX_PARAMETERS:
        raise ModelError(f"{path.name} declares {parameters:,} parameters, over the {MAX_PARAMETERS:,} of any "
                         f"{what} this app runs; refused before loading")
    if parameters * 2 > weights + 65536:  # even bfloat16 weights take 2 bytes each
        raise ModelError(f"{path.name} declares {parameters:,} parameters but stores only {weights:,} bytes of "
                         "weights: it is not a complete model file; refused before loading")
    if largest > MAX_ACTIVATION:
        raise ModelError(f"{path.name}: layer {layer} would make {largest:,} values per image, over the "
                         f"{MAX_ACTIVATION:,} of any {what} this app runs; refused before loading")


def _layers(node: Any):
    """(class name, config, build input shape) of every layer in a Keras config, nested models included."""
    if isinstance(node, dict):
        cfg = node.get("config")
        if isinstance(node.get("class_name"), str) and isinstance(cfg, dict):
            build = node.get("build_config")
            shape = build.get("input_shape") if isinstance(build, dict) else None
            yield node["class_name"], cfg, shape
        for value in node.values():
            yield from _layers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _layers(value)


def _dims(shape: Any) -> list[int] | None:
    if isinstance(shape, list) and shape and all(isinstance(d, int) or d is None for d in shape):
        return [d for d in shape[1:] if isinstance(d, int)] if len(shape) > 1 else []
    return None


def _ints(value: Any, n: int) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value] * n
    if isinstance(value, list) and len(value) == n and all(isinstance(v, int) for v in value):
        return value
    return [1] * n


def _layer_size(cls: str, cfg: dict[str, Any], in_shape: Any) -> tuple[int, int]:
    """(lower bound of the layer's parameters, values it outputs per image), from what the config states."""
    dims = _dims(in_shape)
    channels = dims[-1] if dims else None
    units, filters = cfg.get("units"), cfg.get("filters")
    if cls == "Dense" and isinstance(units, int):
        return (channels or 1) * units, units * (math.prod(dims[:-1]) if dims else 1)
    if cls in ("Conv2D", "Conv2DTranspose") and isinstance(filters, int):
        k, strides = _ints(cfg.get("kernel_size"), 2), _ints(cfg.get("strides"), 2)
        count = k[0] * k[1] * (channels or 1) * filters
        if dims and len(dims) == 3:
            grow = cls == "Conv2DTranspose"
            h, w = (dims[0] * strides[0], dims[1] * strides[1]) if grow else (dims[0], dims[1])
            return count, h * w * filters
        return count, filters
    if cls == "Embedding" and isinstance(cfg.get("input_dim"), int) and isinstance(cfg.get("output_dim"), int):
        return cfg["input_dim"] * cfg["output_dim"], cfg["output_dim"]
    if cls == "Reshape" and isinstance(cfg.get("target_shape"), list):
        return 0, math.prod(d for d in cfg["target_shape"] if isinstance(d, int))
    if cls == "UpSampling2D" and dims and len(dims) == 3:
        size = _ints(cfg.get("size"), 2)
        return 0, dims[0] * dims[1] * dims[2] * size[0] * size[1]
    if cls == "InputLayer" and isinstance(cfg.get("batch_shape"), list):
        return 0, math.prod(d for d in cfg["batch_shape"][1:] if isinstance(d, int))
    return 0, 0


def load_keras_file(path: Path, what: str = "model") -> Any:
    """A `.keras` file loaded with Keras's safe mode (no code from the file runs), or a ModelError that says why."""
    import keras

    if path.suffix != ".keras":
        raise ModelError(f"{path} is not a .keras {what} file; export one with model.save('{what}.keras')")
    if not path.is_file():
        raise ModelError(f"no {what} file at {path}")
    check_keras_file(path, what)
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad or hostile file
        raise ModelError(f"cannot load {path.name}: {first_line(exc)}. "
                         "Is it a complete .keras file saved by Keras 3?") from None


def average_weights(paths: list[str | Path]) -> Any:
    """One generator whose weights (and BatchNorm statistics) are the mean of several saved epochs'.

    Averaging the last epochs of a GAN smooths the oscillation of its updates (Yazıcı et al., "The Unusual
    Effectiveness of Averaging in GAN Training", 2019): fewer checkerboard and colour artefacts, for free after
    training. The files must be the same architecture (epochs of one run).
    """
    if not paths:
        raise ModelError("average_weights needs at least one generator file")
    models = [in_float32(load_keras_file(Path(p), "generator")) for p in paths]  # latent or image-to-image
    weights = [m.get_weights() for m in models]
    shapes = [[w.shape for w in ws] for ws in weights]
    if any(s != shapes[0] for s in shapes):
        raise ModelError("cannot average generators of different architectures; pick epochs of one run")
    models[-1].set_weights([np.mean(same_layer, axis=0) for same_layer in zip(*weights)])
    return models[-1]


def in_float32(model):
    """The same network computing in float32, if it was saved under a mixed-precision policy.

    A generator trained with mixed_bfloat16 keeps float32 weights but its file asks for bfloat16 maths: coarser
    pixels, and on a CPU without bf16 instructions much slower. Exploring wants neither, so rebuild it from its
    config with float32 layers and copy the weights over (only built-in layers: safe mode already checked them).
    """
    if all(layer.dtype_policy.compute_dtype == "float32" for layer in model.layers):
        return model
    config = model.get_config()
    for layer in config["layers"]:
        if "dtype" in layer.get("config", {}):
            layer["config"]["dtype"] = "float32"
    clone = model.__class__.from_config(config)
    clone.set_weights(model.get_weights())
    return clone
