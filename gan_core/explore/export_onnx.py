"""The ONNX format of :mod:`.model_export` (and of :mod:`.browser_model`'s graph): tf2onnx on the serving
function, checked by onnx and run back by onnxruntime. Converting needs tf2onnx and onnx (runtime requirements);
running the file back needs onnxruntime, the ``export`` extra."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import resource_errors
from .export_serving import INSTALL_HINT, converting, optional_module, quiet

RUNTIME_HINT = "pip install -e . in the checkout (tf2onnx and onnx are among its requirements)"
ONNX_OPSET = 17


def onnx_modules() -> tuple[Any, Any, Any]:
    """(tf2onnx, onnx, onnxruntime), or a DependencyError that names the install command."""
    return tuple(optional_module(name, "ONNX export needs tf2onnx and onnxruntime",
                                 f"{INSTALL_HINT}; or leave onnx out of the formats")
                 for name in ("tf2onnx", "onnx", "onnxruntime"))


def converter_modules() -> tuple[Any, Any]:
    """(tf2onnx, onnx): what converting needs (running the result back needs onnxruntime too)."""
    return tuple(optional_module(name, "converting a generator to ONNX needs tf2onnx and onnx", RUNTIME_HINT)
                 for name in ("tf2onnx", "onnx"))


def to_onnx(function, signature, opset: int = ONNX_OPSET):
    """The ONNX ModelProto of a tf.function (weights frozen in, outputs named as the function's dict keys),
    checked by onnx; a graph the converter refuses is a ModelError."""
    tf2onnx, onnx = converter_modules()
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    with converting("ONNX"), quiet():
        proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=opset)
        onnx.checker.check_model(proto)
    return proto


def export_onnx(generator, serve, signature, path: Path, opset: int):
    """tf2onnx from the serving function (weights frozen in), checked by onnx and run by onnxruntime on the CPU."""
    _, _, ort = onnx_modules()
    proto = to_onnx(serve, signature, opset)
    with resource_errors(f"writing {path.name}"):
        path.write_bytes(proto.SerializeToString())
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(z, labels):
        feeds = {"z": z} if labels is None else {"z": z, "label": labels}
        return session.run(["images"], feeds)[0]
    return run, None, f"onnxruntime {ort.__version__} (CPUExecutionProvider), opset {opset}"
