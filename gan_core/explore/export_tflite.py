"""The TFLite format of :mod:`.model_export`: TensorFlow's converter on the serving function (float32, no
quantisation), run back by LiteRT's interpreter (or TensorFlow's own)."""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from ..errors import resource_errors
from .export_serving import converting, quiet, servable, serving_function


def export_tflite(generator, serve, signature, path: Path, opset: int):
    """TensorFlow's own converter on the serving function: float32 weights and maths, no quantisation. A graph
    whose shapes the converter cannot follow with a free batch size (UpSampling2D's repeat loses the height) is
    converted for one image a call: static shapes throughout, as on-device generation uses it anyway."""
    import tensorflow as tf

    def convert(function):
        converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()],
                                                                    servable(generator, function))
        return converter.convert()

    batch = None
    with quiet():
        try:
            with _native_stderr_silenced():  # its MLIR diagnostics ("error: failed while converting") on failure
                flatbuffer = convert(serve)
        except Exception:  # noqa: BLE001 - the converter raises many types; a batch of 1 is tried next
            batch = 1
            with converting("TFLite"):
                flatbuffer = convert(serving_function(generator, batch=1)[0])
    with resource_errors(f"writing {path.name}"):
        path.write_bytes(flatbuffer)
    interpreter, where = _tflite_interpreter(str(path))
    runner = interpreter.get_signature_runner()

    def run_batch(z, labels):
        inputs = {"z": z} if labels is None else {"z": z, "label": labels}
        return runner(**inputs)["images"]

    def run(z, labels):
        if batch is None:
            return run_batch(z, labels)
        return np.concatenate([run_batch(z[i:i + 1], None if labels is None else labels[i:i + 1])
                               for i in range(len(z))])
    return run, batch, where + ("" if batch is None else "; batch of 1 a call")


@contextlib.contextmanager
def _native_stderr_silenced():
    """File descriptor 2 to /dev/null for the body: what C++ code prints there (the TFLite converter's diagnostics
    of a first attempt whose failure is handled) would read as this command's error."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _tflite_interpreter(path: str):
    """LiteRT's interpreter where it is installed (TensorFlow's own is deprecated), else tf.lite.Interpreter."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=path), "ai_edge_litert Interpreter"
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "tf.lite.Interpreter is deprecated": it still ships with TF 2.21
            return tf.lite.Interpreter(model_path=path), f"tensorflow {tf.__version__} (tf.lite.Interpreter)"
