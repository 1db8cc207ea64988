"""The SavedModel format of :mod:`.model_export`: the serving function saved by TensorFlow, loaded back by it."""
from __future__ import annotations

from pathlib import Path

from .export_serving import converting, quiet, servable


def export_savedmodel(generator, serve, signature, path: Path, opset: int):
    """tf.saved_model with one signature, `serve` (also the serving default), loaded back by TensorFlow."""
    import tensorflow as tf

    concrete = serve.get_concrete_function()
    with converting("SavedModel"), quiet():
        tf.saved_model.save(servable(generator, serve), str(path),
                            signatures={"serve": concrete, "serving_default": concrete})
        endpoint = tf.saved_model.load(str(path)).signatures["serve"]

    def run(z, labels):
        inputs = {"z": tf.constant(z)} if labels is None else {"z": tf.constant(z), "label": tf.constant(labels)}
        return endpoint(**inputs)["images"].numpy()
    return run, None, f"tensorflow {tf.__version__} (tf.saved_model.load, signature 'serve')"
