"""A trained image-to-image generator (Pix2Pix's U-Net, or one direction of a CycleGAN), ready to translate pictures.

The counterpart of :class:`gan_core.inference.Generator` for models that take an image instead of z: loaded in
Keras's safe mode, computing in float32, called through one traced function; pixels in [0, 1] in and out.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data import fit_image, make_pairs, pairing_makes_input
from ..errors import DataError, ModelError
from ..files import pictures
from .keras_files import TracedModel


@dataclass
class Translator(TracedModel):
    """``translator(images)``: (N, S, S, in_channels) in [0, 1] -> (N, S, S, out_channels) in [0, 1]."""

    model: Any
    direction: str = "AtoB"
    pairing: str = ""  # how an input is made from a picture (Pix2Pix's edges, grayscale, masked); "" when given
    input_name: str = "input"
    output_name: str = "output"
    source: str = ""

    def __post_init__(self) -> None:
        self._call = self.trace((None, *self.input_shape))

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.model.input_shape[1:])

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return tuple(self.model.output_shape[1:])

    @property
    def image_size(self) -> int:
        return int(self.input_shape[0])

    @property
    def makes_its_input(self) -> bool:
        """True where the input is made from a full picture (edges, grayscale, masked): the picture is the target."""
        return pairing_makes_input(self.pairing)

    def __call__(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        x = np.asarray(images, np.float32)
        if x.ndim == 3:
            x = x[None]
        if x.shape[1:] != self.input_shape:
            raise DataError(f"this model translates {self.input_shape[0]}x{self.input_shape[1]} images with "
                            f"{self.input_shape[2]} channel(s); got {x.shape[1:]}. Fit them with "
                            "translator.fit(image) first")
        if x.size and (x.min() < -1e-3 or x.max() > 1.001):
            raise DataError(f"translator inputs are pixels in [0, 1]; these span {x.min():.3g}..{x.max():.3g}")
        out = [np.asarray(self._call(x[i:i + batch_size] * 2.0 - 1.0), np.float32)
               for i in range(0, len(x), batch_size)]
        return np.clip(pictures.to_unit(np.concatenate(out)), 0.0, 1.0)

    def fit(self, source: Any, *, invert: bool = False, name: str | None = None, channels: int | None = None
            ) -> np.ndarray:
        """Any picture (a path, an upload's bytes, an array) -> (S, S, C) in [0, 1] at this model's size: centre
        crop and resize, as the training data was made. C is the input's channels, or ``channels``."""
        size, c = self.image_size, channels or self.input_shape[2]
        return fit_image(source, size, c, invert=invert, name=name).astype(np.float32) / 255.0

    def make_input(self, picture: np.ndarray, seed: int = 0) -> np.ndarray:
        """For pairings made from a picture: the model's input (edge map, grayscale, masked) of ``picture``
        ((S, S, out_channels) or a batch, in [0, 1]), in [0, 1]. Other models take the picture as it is."""
        x = np.asarray(picture, np.float32)
        single = x.ndim == 3
        x = x[None] if single else x
        if self.makes_its_input:
            x = pictures.to_unit(make_pairs(x * 2.0 - 1.0, self.pairing, seed)[0])
        return x[0] if single else x

    @classmethod
    def load(cls, path: str | Path, *, direction: str = "AtoB", pairing: str = "", input_name: str = "input",
             output_name: str = "output") -> "Translator":
        """Load a `.keras` translator with Keras's safe mode (no code from the file runs), computing in float32.
        What its file does not say (pairing, domain names) comes from the task that trained it (gan_core.tasks)."""
        path = Path(path)
        model = cls.open(path, "translator")
        shape = getattr(model, "input_shape", None)
        if not (isinstance(shape, tuple) and len(shape) == 4 and len(model.output_shape) == 4):
            raise ModelError(f"{path.name} is not an image-to-image model: it takes {shape}, not an image")
        if tuple(model.output_shape[1:3]) != tuple(shape[1:3]):
            raise ModelError(f"{path.name} maps {shape[1:3]} images to {model.output_shape[1:3]}; a translator keeps "
                             "the size")
        return cls(model, direction=direction, pairing=pairing, input_name=input_name,
                   output_name=output_name, source=str(path))


def examples(run) -> dict[str, np.ndarray]:
    """The run's held-out examples saved beside it (examples.npz), as float32 in [0, 1]: Pix2Pix 'inputs' and
    'targets', CycleGAN 'a' and 'b'. Empty if the run has none (it has not started)."""
    return {k: v.astype(np.float32) / 255.0 for k, v in run.examples().items()}


@dataclass
class Translation:
    """One picture through a translator: what went in, what came out and, where they exist, the picture the input
    was made from (Pix2Pix pairings: the target) and the way back (CycleGAN: output -> input's domain). [0, 1]."""

    input: np.ndarray
    output: np.ndarray
    target: np.ndarray | None = None
    round_trip: np.ndarray | None = None
    input_name: str = "input"
    output_name: str = "output"

    @property
    def target_l1(self) -> float | None:
        """Mean |output - target| in [0, 1] pixels, where a target exists."""
        if self.target is None:
            return None
        return float(np.mean(np.abs(self.output - self.target)))

    @property
    def cycle_l1(self) -> float | None:
        if self.round_trip is None:
            return None
        return float(np.mean(np.abs(self.round_trip - self.input)))

    def columns(self) -> list[tuple[str, np.ndarray]]:
        """(caption, image) in reading order: input, output, then target or round trip."""
        cols = [(self.input_name, self.input), (self.output_name, self.output)]
        if self.target is not None:
            cols.append(("original", self.target))
        if self.round_trip is not None:
            cols.append((f"back to {self.input_name}", self.round_trip))
        return cols

    def panel(self, scale: int = 1) -> np.ndarray:
        """The columns side by side as one uint8 image (gray ones shown in colour where another column is)."""

        return pictures.upscale(pictures.triplet_grid([img[None] for _, img in self.columns()], 1), scale)


def translate_image(translators: dict[str, Translator], source: Any, direction: str = "AtoB", *,
                    as_input: bool = False, invert: bool = False, name: str | None = None,
                    seed: int = 0) -> Translation:
    """Translate one picture (a path, an upload's bytes or an array) with a run's translators.

    For a Pix2Pix pairing that makes its input (edges, grayscale, masked), the picture is taken as the original and
    the input is made from it, so the output can be compared with it; ``as_input`` takes the picture as the input
    itself (your own edge drawing). A CycleGAN also translates the output back (the round trip).
    """
    if direction not in translators:
        raise DataError(f"this model translates {' and '.join(translators)}; got direction {direction!r}")
    forward = translators[direction]
    target = None
    if forward.makes_its_input and not as_input:
        target = forward.fit(source, invert=invert, name=name, channels=forward.output_shape[2])
        x = forward.make_input(target, seed)
    else:
        x = forward.fit(source, invert=invert, name=name)
    out = forward(x)[0]
    back = None
    reverse = translators.get("BtoA" if direction == "AtoB" else "AtoB")  # a CycleGAN's way back
    if reverse is not None:
        back = reverse(out)[0]
    return Translation(x, out, target, back, forward.input_name, forward.output_name)
