"""A run's networks as tables: each layer's name, type, output shape and parameters, what every reference note's
``model.summary()`` prints. G is the run's saved generator (loaded through the safe `.keras` loader); D is built
from the run's config, as the trainer builds it (``models.build_discriminator``: its architecture, then options such
as spectral norm), since D is kept only in checkpoints.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import latent_space, models
from ..algorithm import objectives
from ..errors import RunError, first_line
from ..files import pictures
from ..runs import RunDir
from .keras_files import load_keras_file


@dataclass(frozen=True)
class NetworkTable:
    """One network's summary: `rows` are {"layer (type)", "output shape", "parameters"}, top to bottom, as
    model.summary() prints them (e.g. "dense (Dense)", "(None, 12544)", 1254400)."""
    role: str  # "generator", "discriminator"; a CycleGAN's "generator A→B", "generator B→A"
    source: str  # where it came from: "generators/epoch_0002.keras", or "built from config.json"
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    trainable: int = 0
    note: str = ""  # e.g. "one per domain" for a CycleGAN's two discriminators


def _shape(layer: Any) -> str:
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):  # a layer called more than once has no single output
        return "multiple"
    if isinstance(output, (list, tuple)):
        return ", ".join(str(tuple(t.shape)) for t in output)
    return str(tuple(output.shape))


def _snake(class_name: str) -> str:
    """Keras's automatic layer name for a class: LeakyReLU -> leaky_re_lu, Conv2DTranspose -> conv2d_transpose."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _fresh_names(layers: list[Any]) -> list[str]:
    """The layers' names, automatic ones numbered as in a fresh Keras session (conv2d, conv2d_1, ...): Keras counts
    names per process, so a D built after other models would read conv2d_2, conv2d_3 depending on what came first."""
    seen: dict[str, int] = {}
    names = []
    for layer in layers:
        base = _snake(type(layer).__name__)
        if re.fullmatch(rf"{re.escape(base)}(_\d+)?", layer.name):
            count = seen.get(base, 0)
            seen[base] = count + 1
            names.append(base if count == 0 else f"{base}_{count}")
        else:
            names.append(layer.name)
    return names


def summarize(model: Any, role: str, source: str, note: str = "") -> NetworkTable:
    """`model`'s top-level layers as model.summary() lists them, with its total and trainable parameters."""
    rows = [{"layer (type)": f"{name} ({type(layer).__name__})", "output shape": _shape(layer),
             "parameters": int(layer.count_params()) if layer.built else 0}
            for name, layer in zip(_fresh_names(model.layers), model.layers)]
    trainable = sum(math.prod(int(d) for d in w.shape) for w in model.trainable_weights)
    return NetworkTable(role, source, rows, int(model.count_params()), trainable, note)


def network_tables(run: RunDir, epoch: int | None = None) -> list[NetworkTable]:
    """The run's generator(s) at `epoch` (default: the latest saved; built from config.json while none is saved)
    and its discriminator, as tables. A CycleGAN has two of each (one per direction / domain): both generators,
    and its one discriminator architecture once, noted as one per domain."""
    cfg = run.config()
    arch = models.get(cfg.architecture)
    directions = ("AtoB", "BtoA") if arch.generators == 2 else ("AtoB",)
    networks = []
    for direction in directions:
        role = "generator" if len(directions) == 1 else f"generator {'A→B' if direction == 'AtoB' else 'B→A'}"
        if run.generator_epochs():
            path: Path = run.generator_path(epoch, direction)
            model = load_keras_file(path, "generator")
            networks.append(summarize(model, role, f"{path.parent.name}/{path.name}"))
        else:
            networks.append(summarize(arch.build_generator(cfg), role,
                                      "built from config.json (no generator saved yet)"))
    note = "one per domain, the same architecture" if arch.generators == 2 else ""
    networks.append(summarize(models.build_discriminator(cfg), "discriminator",
                              "built from config.json (the trainer keeps D in its checkpoints only)", note))
    return networks


def _restore_discriminator(D: Any, checkpoint: Any, run_name: str) -> None:
    """Read D's weights from `checkpoint`, every one of them, or raise a RunError saying why it cannot score: a
    checkpoint without a D, with a D of another shape (config.json changed after training), or whose files are
    cut short. A partial read would leave D with fresh random weights, scoring noise that differs on every click."""
    import tensorflow as tf

    where = f"checkpoint {checkpoint.name} of {run_name}"
    try:
        status = tf.train.Checkpoint(discriminator=D).read(str(checkpoint.path))
        status.assert_existing_objects_matched()  # every variable of D found in the file
    except AssertionError:
        raise RunError(f"cannot score with {where}: it holds no D of this run's architecture (some of D's weights "
                       "are missing), so there is no trained D to ask; was config.json edited after training?"
                       ) from None
    except (ValueError, IndexError, KeyError, tf.errors.OpError) as exc:
        raise RunError(f"cannot read D from {where}: {first_line(exc, 160)}. Its files may be cut short, or D's shape "
                       "differs from config.json's; resume training to write a new checkpoint") from None
    status.expect_partial()  # G, the optimizers and the step are in the file too, and not wanted here


def grid_scores_from_checkpoint(run: RunDir, epoch: int) -> tuple[list[float], str]:
    """D's score (as the run's objective reads it: a probability for bce) on each cell of `epoch`'s snapshot grid, by
    the D of the run's latest checkpoint, for a run whose trainer logged no "discriminator" records (an older
    version). The checkpoint holds D (tf.train.Checkpoint's `discriminator`); it is read alone, read-only.
    Returns the scores and which D said so."""
    cfg = run.config()
    if run.task != models.LATENT:
        raise RunError(f"{run.name} is an image-to-image run: its discriminators judge pairs, not grid cells")
    found, _ = run.checkpoints()
    if not found:
        raise RunError(f"{run.name} has no checkpoint, so no D to ask (pretrained models ship G alone)")
    D = models.build_discriminator(cfg)
    _restore_discriminator(D, found[0], run.name)
    cells = pictures.grid_cells(pictures.read_png(run.sample_path(epoch)), cfg.grid, cfg.grid)
    images = np.stack(cells).astype(np.float32) / 255.0
    if cfg.pixel_range == "tanh":
        images = images * 2.0 - 1.0
    labels = latent_space.labels_for(len(cells), cfg.num_classes) if cfg.num_classes else None
    reading = objectives.get(cfg.loss).reading  # a probability for bce, the raw score for lsgan, hinge, wgan-gp
    scores = reading.show(D(images if labels is None else [images, labels], training=False)).tolist()
    newest = found[0]
    which = f"the D of checkpoint {newest.name}" + (f" (epoch {newest.epoch})" if newest.epoch is not None else "")
    return scores, which
