"""Architecture registry: one file per GAN, each registering its builders and its reference note's preset.

Adding an architecture is adding one module in this package that calls :func:`register`;
every module here is imported on first use, so nothing else needs editing. An architecture's own preset has its
name; a module may add more presets for it (other recipes on the same networks) with :func:`register_preset`.
A module may also add a discriminator option (a config flag that transforms any architecture's D, such as
``spectral_norm``) with :func:`register_discriminator_option`; the trainer builds D with :func:`build_discriminator`.
"""
from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ConfigError

Builder = Callable[[Any], Any]  # (TrainConfig) -> keras.Model


LATENT = "latent"  # the task of every z -> image architecture


@dataclass(frozen=True)
class Architecture:
    name: str
    summary: str
    build_generator: Builder
    build_discriminator: Builder
    preset: dict[str, Any]
    check_size: Callable[[int], str | None] = lambda size: None  # message when a size cannot be made
    source: str = ""  # which reference note it follows
    tags: tuple[str, ...] = field(default_factory=tuple)
    conditional: bool = False  # G takes [z, one-hot label] and D [image, one-hot label]
    task: str = LATENT  # what G maps, a name in gan_core.tasks: "latent" (z -> image) unless the module says
    generators: int = 1  # networks per side: a CycleGAN trains two generators and two discriminators
    images_per_example: int = 1  # images in one training example: a pair (Pix2Pix) or one of each domain (CycleGAN)

    @property
    def draws_from_noise(self) -> bool:
        return self.task == LATENT


@dataclass(frozen=True)
class Preset:
    name: str
    architecture: str
    summary: str
    values: dict[str, Any]


_REGISTRY: dict[str, Architecture] = {}
_PRESETS: dict[str, Preset] = {}
_D_OPTIONS: dict[str, Callable[[Any], Any]] = {}  # config field -> transform of a built D (keras.Model -> Model)
_loaded = False
_load_lock = threading.RLock()  # re-entrant: an architecture module may look up the registry as it loads


def register(arch: Architecture) -> Architecture:
    if arch.name in _REGISTRY:
        raise ValueError(f"architecture {arch.name!r} is registered twice")
    _REGISTRY[arch.name] = arch
    register_preset(arch.name, arch.name, arch.summary)
    return arch


def register_preset(name: str, architecture: str, summary: str, **overrides: Any) -> Preset:
    """A named recipe: the architecture's reference preset with some fields changed."""
    if name in _PRESETS:
        raise ValueError(f"preset {name!r} is registered twice")
    arch = _REGISTRY[architecture]
    preset = Preset(name, architecture, summary, {**arch.preset, **overrides})
    _PRESETS[name] = preset
    return preset


def register_discriminator_option(field_name: str, transform: Callable[[Any], Any]) -> None:
    """When the config's boolean `field_name` is true, D is `transform(D)` (e.g. spectral_norm)."""
    if field_name in _D_OPTIONS:
        raise ValueError(f"discriminator option {field_name!r} is registered twice")
    _D_OPTIONS[field_name] = transform


def build_discriminator(cfg: Any) -> Any:
    """The config's D: its architecture's builder, then every discriminator option the config switches on."""
    model = get(cfg.architecture).build_discriminator(cfg)
    for field_name, transform in _D_OPTIONS.items():
        if getattr(cfg, field_name):
            model = transform(model)
    return model


def _load_all() -> None:
    """Import every architecture module once; under a lock, since the app's sessions are threads."""
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if not _loaded:
            for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
                if not info.name.startswith("_"):
                    importlib.import_module(f"{__name__}.{info.name}")
            _loaded = True


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def task_of(architecture: str) -> str:
    """What an architecture's generator maps, so trainers, pickers and pages can tell latent GANs from translators."""
    return get(architecture).task


def conditional_names() -> list[str]:
    return [name for name in names() if _REGISTRY[name].conditional]


def get(name: str) -> Architecture:
    _load_all()
    if not isinstance(name, str) or name not in _REGISTRY:  # a hand-edited config.json may hold a dict or list
        raise ConfigError(f"unknown architecture {str(name)[:60]!r}; choose one of: {', '.join(names())}")
    return _REGISTRY[name]


def preset_names() -> list[str]:
    _load_all()
    return sorted(_PRESETS)


def preset(name: str) -> Preset:
    _load_all()
    try:
        return _PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown preset {name!r}; choose one of: {', '.join(preset_names())} "
            "(list them with `python -m gan_core presets`)"
        ) from None


def multiple_of(step: int, what: str) -> Callable[[int], str | None]:
    """A size check for generators that grow from size/step by stride-2 layers."""

    def check(size: int) -> str | None:
        if size < step or size % step:
            return f"{what} makes images whose side is a multiple of {step} (e.g. {step * 4}); got {size}"
        return None

    return check
