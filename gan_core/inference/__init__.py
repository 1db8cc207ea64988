"""Trained models, ready to use: a latent :class:`Generator` and an image-to-image :class:`Translator`, both
opened by one safe ``.keras`` loader (:mod:`.keras_files`: checked before Keras builds anything, safe mode, float32);
and a run's networks as layer tables (:mod:`.networks`: the saved G, D built from the config).
"""
from .generator import Generator, sidecar_config
from .keras_files import (
                          MAX_ACTIVATION,
                          MAX_ACTIVATIONS,
                          MAX_CONFIG_BYTES,
                          MAX_PARAMETERS,
                          average_weights,
                          check_keras_file,
                          TracedModel,
                          in_float32,
                          load_keras_file,
)
from .networks import NetworkTable, grid_scores_from_checkpoint, network_tables
from .translator import Translation, Translator, examples, translate_image

__all__ = ["Generator", "MAX_ACTIVATION", "MAX_ACTIVATIONS", "MAX_CONFIG_BYTES", "MAX_PARAMETERS", "NetworkTable",
           "TracedModel", "Translation", "Translator", "average_weights", "check_keras_file", "examples",
           "grid_scores_from_checkpoint", "in_float32", "load_keras_file", "network_tables", "sidecar_config",
           "translate_image"]
