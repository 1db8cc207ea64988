"""What every export format of :mod:`.model_export` shares: the serving function it exports (z, and a class for a
conditional generator, -> images), the module holding it with the generator's weights, and the converters'
failures, warnings and optional packages handled alike.
"""
from __future__ import annotations

import contextlib
import importlib
import warnings
from typing import Any

from ..errors import DependencyError, GanError, ModelError, first_line
from ..inference import Generator

INSTALL_HINT = 'pip install ".[export]" in the checkout (or pip install "gan-explorer[export]")'


def serving_function(generator: Generator, batch: int | None = None):
    """The tf.function every format exports: z (and an int class) -> images in the generator's output range, for
    any batch size (or for `batch` images a call)."""
    import tensorflow as tf

    model, classes = generator.model, generator.num_classes
    z_spec = tf.TensorSpec([batch, generator.noise_dim], tf.float32, name="z")
    if classes:
        signature = [z_spec, tf.TensorSpec([batch], tf.int32, name="label")]

        def serve(z, label):
            return {"images": model([z, tf.one_hot(label, classes, dtype=tf.float32)], training=False)}
    else:
        signature = [z_spec]

        def serve(z):
            return {"images": model(z, training=False)}
    return tf.function(serve, input_signature=signature, autograph=False), signature


def servable(generator, serve):
    """A tf.Module holding the generator's variables and the serving function: what SavedModel and TFLite save
    (Keras's own model.export stores every variable twice: twice the file for the same graph)."""
    import tensorflow as tf

    module = tf.Module()
    module.weights_ = [getattr(v, "value", v) for v in generator.model.variables]  # keras.Variable -> tf.Variable
    module.serve = serve
    return module


@contextlib.contextmanager
def converting(what: str):
    """A converter's own failure on this model (an op it cannot express) as a ModelError naming the format."""
    try:
        yield
    except GanError:
        raise
    except (MemoryError, OSError):
        raise
    except Exception as exc:  # noqa: BLE001 - converters raise many types for a graph they cannot express
        raise ModelError(f"the {what} converter cannot convert this generator ({first_line(exc)}); leave {what} out "
                         "of the formats") from exc


@contextlib.contextmanager
def quiet():
    """Converters' warnings (deprecations, 'compiled the loaded function') are theirs, not the user's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield



def optional_module(name: str, purpose: str, fix: str) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ImportError:
        raise DependencyError(f"{purpose}, and {name} is not installed: {fix}") from None
    except Exception as exc:  # noqa: BLE001 - a broken install raises anything while importing
        raise DependencyError(f"{name} is installed but does not import ({first_line(exc)}): reinstall it with "
                              f"{INSTALL_HINT}") from None
