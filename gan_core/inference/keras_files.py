"""Opening `.keras` files safely: checked before Keras builds anything, loaded in safe mode, computed in float32.

The one loader of every model file the app opens (generators, translators, uploads), so the limits below hold
for all of them.
"""
from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, first_line

# What a model of this app can be, checked on the file's config before Keras allocates anything: the largest shipped
# network has ~2.4 M parameters and at most 33k values in one layer's output per image (a 256x256 Pix2Pix with the
# paper's 64 filters: ~8 M); a hostile 288 KB file once asked for 20 GB, a 27 KB one (ZeroPadding2D(6000)) for 8 GB.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_PARAMETERS = 200_000_000
MAX_ACTIVATION = 16 * 1024 * 1024  # values one layer may produce per image (64 MB in float32; 256x256x256)
MAX_ACTIVATIONS = 64 * 1024 * 1024  # values all layers together may produce per image


def check_keras_file(path: Path, what: str = "model") -> None:
    """Refuse a `.keras` file whose config cannot be a model of this app, before Keras allocates anything: an
    oversized config.json, more parameters than MAX_PARAMETERS (or than its weights file stores), or activations per
    image over MAX_ACTIVATION (one layer's output) or MAX_ACTIVATIONS (all of them). The sizes come from Keras
    itself (:func:`declared_sizes`), so every layer type safe mode admits is counted, not a list of known ones."""
    raw, weights = _read_config(path, what)
    try:
        config = json.loads(raw)
    except ValueError:
        raise ModelError(f"{path.name}: its config.json is not valid JSON; is it a complete .keras file?") from None
    parameters, outputs = declared_sizes(config, path.name)
    if parameters > MAX_PARAMETERS:
        raise ModelError(f"{path.name} declares {parameters:,} parameters, over the {MAX_PARAMETERS:,} of any "
                         f"{what} this app runs; refused before loading")
    if parameters * 2 > weights + 65536:  # even bfloat16 weights take 2 bytes each
        raise ModelError(f"{path.name} declares {parameters:,} parameters but stores only {weights:,} bytes of "
                         "weights: it is not a complete model file; refused before loading")
    for layer, shape in outputs:
        if any(d is None for d in shape[1:]):
            raise ModelError(f"{path.name}: layer {layer} makes outputs of open size {shape}; the app runs {what}s "
                             "of fixed image size (save one built on keras.Input with every size given)")
    values = [(math.prod(shape[1:]), layer) for layer, shape in outputs]
    largest, layer = max(values, default=(0, ""))
    if largest > MAX_ACTIVATION:
        raise ModelError(f"{path.name}: layer {layer} would make {largest:,} values per image, over the "
                         f"{MAX_ACTIVATION:,} of any {what} this app runs; refused before loading")
    total = sum(v for v, _ in values)
    if total > MAX_ACTIVATIONS:
        raise ModelError(f"{path.name}: its layers would make {total:,} values per image, over the "
                         f"{MAX_ACTIVATIONS:,} of any {what} this app runs; refused before loading")


def _read_config(path: Path, what: str) -> tuple[bytes, int]:
    """The raw config.json of a `.keras` archive and the bytes its weights take, or a ModelError saying what the
    file is instead."""
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
    return raw, weights


def declared_sizes(config: Any, name: str) -> tuple[int, list[tuple[str, tuple]]]:
    """(parameters, [(layer, output shape), ...] for every layer call, nested models included) of the model a
    Keras config describes, found by Keras building it symbolically in a StatelessScope: its variables are created
    without values (Keras defers their initialisers) and its layers are called on KerasTensors, so a model asking
    for terabytes costs nothing here. Safe mode, as the real load; a config Keras cannot build is a ModelError."""
    import keras
    from keras.src.backend.common import global_state  # where Keras keeps the variables it deferred

    pending = list(global_state.get_global_attribute("uninitialized_variables", []) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad or hostile config
        raise ModelError(f"cannot load {name}: {keras_reason(exc)}. Is it a complete .keras file saved by Keras 3?"
                         ) from None
    finally:  # never give values to this throw-away model's variables (the next StatelessScope would); per thread
        global_state.set_global_attribute("uninitialized_variables", pending)
    if not isinstance(model, keras.Model):
        raise ModelError(f"cannot load {name}: its config describes a {type(model).__name__}, not a model")
    parameters = sum(math.prod(int(d) for d in v.shape) for v in model.weights)
    outputs = {}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for node in layer._inbound_nodes:
            for tensor in node.outputs:
                outputs[id(tensor)] = (f"{type(layer).__name__} {layer.name}", tuple(tensor.shape))
    return parameters, list(outputs.values())


def keras_reason(exc: BaseException) -> str:
    """Keras's message in one line: without its terminal colours, and past its "Exception encountered when calling
    X.call()." preamble to the line that says what was wrong."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        return f"{lines[0].removeprefix('Exception encountered when calling ').rstrip('.')}: {lines[1][:300]}"
    return lines[0][:300] if lines else first_line(exc)


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
        raise ModelError(f"cannot load {path.name}: {keras_reason(exc)}. "
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


class TracedModel:
    """What Generator and Translator share: a Keras model computing in float32, called through one traced graph
    for any batch size (about 3 ms a call here, against about 47 ms for model.predict)."""

    model: Any

    def trace(self, *specs: tuple[int | None, ...]) -> Any:
        """A tf.function of `self.model(inputs, training=False)` for float32 inputs of these shapes."""
        import tensorflow as tf

        signature = [tf.TensorSpec(shape, tf.float32) for shape in specs]
        if len(specs) == 1:
            return tf.function(lambda x: self.model(x, training=False), reduce_retracing=True,
                               input_signature=signature)
        return tf.function(lambda *xs: self.model(list(xs), training=False), reduce_retracing=True,
                           input_signature=signature)

    @staticmethod
    def open(path: Path, what: str) -> Any:
        """The model in a `.keras` file, checked and loaded safely (load_keras_file), computing in float32."""
        return in_float32(load_keras_file(path, what))
