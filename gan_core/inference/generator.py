"""A trained generator, ready to turn latents into pixels fast and safely."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import models
from ..data import CLASS_NAMES
from ..errors import ConfigError, ModelError, RunError
from ..files import pictures
from ..latent_space import labels_for
from ..runs import RunDir
from .keras_files import TracedModel


@dataclass
class Generator(TracedModel):
    """A Keras generator plus what its file alone does not say: noise distribution and pixel range.

    A class-conditional generator (num_classes > 0) takes [z, one-hot label]; every call may say which classes
    (see :func:`gan_core.latent_space.labels_for`) and by default cycles through them, so code written for plain
    generators (grids, metrics, GIFs) shows every class.
    """

    model: Any
    noise_dim: int
    noise: str = "normal"
    pixel_range: str = "tanh"
    source: str = ""
    num_classes: int = 0
    class_names: list[str] | None = None
    config: dict[str, Any] = field(default_factory=dict)  # the run's config.json (or a sidecar's), {} for a bare file

    def __post_init__(self) -> None:
        labels = [(None, self.num_classes)] if self.num_classes else []
        self._call = self.trace((None, self.noise_dim), *labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.model.output_shape[1:])

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def class_name(self, label: int) -> str:
        names = self.class_names or []
        return names[label] if 0 <= label < len(names) else str(label)

    def __call__(self, z: np.ndarray, labels: Any = None) -> np.ndarray:
        """Images as float32 in [0, 1], shape (N, H, W, C). `labels` only for a conditional generator."""
        z = np.asarray(z, np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.shape[1] != self.noise_dim:
            raise ConfigError(f"this generator takes {self.noise_dim}-dimensional z; got {z.shape[1]}")
        if self.num_classes:
            out = self._call(z, labels_for(len(z), self.num_classes, labels))
        elif labels is not None:
            raise ConfigError("this generator is not class-conditional; it takes no labels")
        else:
            out = self._call(z)
        out = np.asarray(out, np.float32)
        return np.clip(pictures.to_unit(out, self.pixel_range), 0.0, 1.0)

    def images_uint8(self, z: np.ndarray, labels: Any = None) -> np.ndarray:
        return np.round(self(z, labels) * 255.0).astype(np.uint8)

    @classmethod
    def load(cls, path: str | Path, config: dict[str, Any] | None = None) -> "Generator":
        """Load a `.keras` file with Keras's safe mode (no code from the file runs).

        What the file does not record comes from `config` (a run's config.json), else from a sidecar
        `<name>.json` or `config.json` beside it, else from the model itself (tanh/sigmoid output).
        """
        path = Path(path)
        model = cls.open(path, "generator")
        shape = getattr(model, "input_shape", None)
        num_classes = 0
        if isinstance(shape, list) and len(shape) == 2 and all(isinstance(s, tuple) and len(s) == 2 for s in shape):
            shape, num_classes = shape[0], int(shape[1][1] or 0)  # conditional: [z, one-hot label]
        if not (isinstance(shape, tuple) and len(shape) == 2 and shape[1]):
            raise ModelError(f"{path.name} is not a generator: it takes input {shape}, not a latent vector "
                             "(or a latent vector and a one-hot class)")
        if len(model.output_shape) != 4:
            raise ModelError(f"{path.name} is not an image generator: its output is {model.output_shape}")
        if model.output_shape[-1] not in (1, 3):
            raise ModelError(f"{path.name} makes {model.output_shape[-1]}-channel images; the explorer draws gray "
                             "(1 channel) or RGB (3 channels) images: export a generator whose last layer has 1 or 3 "
                             "filters")
        meta = config or sidecar_config(path)
        pixel_range = meta.get("pixel_range") or _guess_pixel_range(model)
        return cls(model=model, noise_dim=int(shape[1]), noise=meta.get("noise", "normal"),
                   pixel_range=pixel_range, source=str(path), num_classes=num_classes,
                   class_names=_class_names(meta, num_classes), config=dict(meta))

    @classmethod
    def from_run(cls, run: RunDir, epoch: int | None = None) -> "Generator":
        """The generator a run (or a pretrained model) saved at `epoch`, default its last."""
        if not models.get(run.config_dict().get("architecture") or "").draws_from_noise:
            raise RunError(f"{run.name} is an image-to-image model ({run.task}): it translates images instead of "
                           f"drawing them from z. Open it on the Translate page, or run `python -m gan_core "
                           f"translate {run.path} IMAGE`")
        return cls.load(run.generator_path(epoch), config=run.config_dict())


def sidecar_config(path: Path) -> dict[str, Any]:
    for candidate in (path.with_suffix(".json"), path.parent / "config.json", path.parent.parent / "config.json"):
        try:
            data = json.loads(candidate.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "noise_dim" in data:
            return data
    return {}


def _class_names(meta: dict[str, Any], num_classes: int) -> list[str] | None:
    if not num_classes:
        return None
    names = CLASS_NAMES.get(meta.get("dataset") or "")
    return list(names) if names and len(names) == num_classes else [str(i) for i in range(num_classes)]


def _guess_pixel_range(model) -> str:
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    return "sigmoid" if activation == "sigmoid" else "tanh"
