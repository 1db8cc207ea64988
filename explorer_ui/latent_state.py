"""The Latent page's state: the current z, where it came from, the picked class and the slider-key versions.

It is a view over ``st.session_state`` (the keys below), not a copy, so z outlives the page's widgets, which
Streamlit forgets when another page is shown, and every section of the page reads and sets the same z.
"""
from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from gan_core import latent_space
from gan_core.inference import Generator

# Widget keys other code reads or sets (the tests drive them by these names too).
SEED_KEY = "latent_seed"  # the seed box
PSI_KEY = "latent_psi"  # the truncation slider
MODE_KEY = "latent_slider_mode"  # z dimensions | principal directions
CLASS_WIDGET_KEY = "latent_class_picker"  # the class radio, copied into the state's class on change


def _session_state() -> MutableMapping[str, Any]:
    return st.session_state


@dataclass
class LatentState:
    """z and its bookkeeping, with named fields instead of raw session keys.

    The two slider families show the same z in two coordinate systems: a move in one bumps the other's version,
    so that family's sliders get new keys and start from the moved z instead of writing back stale values."""

    store: MutableMapping[str, Any] = field(default_factory=_session_state)
    prefix: str = "latent_"

    def _get(self, name: str, default: Any = None) -> Any:
        return self.store.get(self.prefix + name, default)

    def _set(self, name: str, value: Any) -> None:
        self.store[self.prefix + name] = value

    @property
    def z(self) -> np.ndarray:
        """The current z (float32, edited in place by the sliders)."""
        return self._get("z")

    @property
    def z_version(self) -> int:
        """Part of every z-dimension slider's key."""
        return self._get("z_version", 0)

    @property
    def pc_version(self) -> int:
        """Part of every principal-direction slider's key."""
        return self._get("pc_version", 0)

    @property
    def psi(self) -> float:
        """The truncation slider's value (1: z as it is)."""
        return float(self.store.get(PSI_KEY, 1.0))

    def dimensions_moved(self) -> None:
        """A z-dimension slider moved z: the direction sliders must start afresh from it."""
        self._set("pc_version", self.pc_version + 1)

    def directions_moved(self) -> None:
        """A direction slider moved z: the z-dimension sliders must start afresh from it."""
        self._set("z_version", self.z_version + 1)

    def set_z(self, z: np.ndarray, label: str, tag: str, cls: int | None = None) -> None:
        """z := a new vector from somewhere (a seed, arithmetic, a projection with the class it was found in),
        `label` for captions and `tag` for file names; both slider families start from it."""
        if cls is not None:
            self._set("class", int(cls))
        z = np.array(z, np.float32)
        self._set("z", z)
        self._set("z_origin", (label, tag, z.copy()))
        self.dimensions_moved()
        self.directions_moved()

    def from_browser(self, z: np.ndarray, psi: float, cls: int | None) -> None:
        """z, psi and the class as the browser's editor left them on release: z keeps its origin (so the caption
        says "(edited)" and Export tags it so), and the server-side sliders start afresh from it."""
        self._set("z", np.array(z, np.float32))
        self.store[PSI_KEY] = float(psi)
        if cls is not None:
            self._set("class", int(cls))
        self.dimensions_moved()
        self.directions_moved()

    def from_seed_box(self, dim: int, noise: str) -> None:
        """z := the seed box's vector (the seed box's on_change, and Reset sliders)."""
        seed = self.store[SEED_KEY]
        self.set_z(latent_space.z_from_seed(seed, dim, noise), f"seed {seed}", f"seed{seed}")
        self._set("z_seed", seed)
        self._set("noise", noise)

    def random(self, dim: int, noise: str) -> None:
        """A new random seed in the seed box, and its z."""
        self.store[SEED_KEY] = latent_space.random_seed()
        self.from_seed_box(dim, noise)

    def fit(self, generator: Generator) -> None:
        """Start from the seed box unless z fits `generator`: another z size or noise keeps nothing, while the
        same z carries across epochs and models. Also gives the seed box its first value."""
        self.store.setdefault(SEED_KEY, self._get("z_seed", 0))
        z = self.z
        if (z is None or z.shape != (generator.noise_dim,) or self._get("noise") != generator.noise
                or self._get("z_origin") is None):
            self.from_seed_box(generator.noise_dim, generator.noise)

    def origin(self) -> tuple[str, str, bool]:
        """Where z came from (a label and a file-name tag), and whether the sliders have moved it since."""
        label, tag, arrived = self._get("z_origin")
        return label, tag, not np.array_equal(self.z, arrived)

    def origin_tag(self) -> str:
        """The file-name tag of z: its origin, '-edited' when the sliders moved it."""
        _, tag, edited = self.origin()
        return f"{tag}-edited" if edited else tag

    def current_class(self, generator: Generator) -> int | None:
        """The picked class of a class-conditional generator (None for others): every image on the page draws it."""
        if not generator.conditional:
            return None
        cls = self._get("class")
        if not isinstance(cls, int) or not 0 <= cls < generator.num_classes:
            cls = 0
            self._set("class", cls)
        return cls

    def pick_class(self, cls: int) -> None:
        self._set("class", int(cls))

    def images(self, generator: Generator, z: np.ndarray) -> np.ndarray:
        """uint8 images of z (N, dim) in the picked class, if the generator takes one."""
        return generator.images_uint8(z, self.current_class(generator))
