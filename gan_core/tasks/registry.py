"""The task registry: what a run's generator maps, and every part that depends on it.

A task is registered once, by one module of this package, and everything else looks it up by a run's task name
(its architecture's, ``models.Architecture.task``) instead of comparing strings. An unknown task is an error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..config import Section
from ..errors import ConfigError, RunError
from ..runs import RunDir
from ..train import Trainer

Evaluate = Callable[..., dict[str, Any]]  # (run, epoch, n, *, metrics, seed, cache_dir, log, data_path, data_b)


@dataclass(frozen=True)
class Task:
    name: str  # the name architectures give (models.Architecture.task)
    title: str  # in words, for pickers and captions
    trainer: type[Trainer]
    load: Callable[[RunDir, int | None], Any]  # a Generator, or {direction: Translator}
    evaluate: Evaluate  # one saved epoch's quality figures, as gan_core.evaluation records them
    grid_caption: str  # what a snapshot grid shows
    made_from: Callable[[dict[str, Any]], str]  # config values -> what its images are made from, in words
    in_brief: Callable[[dict[str, Any]], str]  # the same in a few words, for `presets`
    section: Section  # the config fields this task owns (gan_core/config/sections.py): validation, the form, --set
    directions: tuple[str, ...] = ("AtoB",)  # saved generators: a CycleGAN also has B -> A
    draws_from_noise: bool = False  # z -> image: the Latent space and Export pages; else the Translate page
    round_trip: bool = False  # each translation can be translated back (CycleGAN)
    domain_names: Callable[[dict[str, Any]], tuple[str, str]] = lambda config: ("noise", "image")  # A, B in words

    def made_of(self, values: dict[str, Any]) -> str:
        """What a preset or run makes, in words: '28x28x1 images from normal noise'."""
        size = values.get("image_size")
        return f"{size}x{size}x{values.get('channels')} images {self.made_from(values)}"


_TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    if task.name in _TASKS:
        raise ValueError(f"task {task.name!r} is registered twice")
    if task.section.name != task.name:
        raise ValueError(f"task {task.name!r} names the config section of {task.section.name!r}")
    _TASKS[task.name] = task
    return task


def names() -> list[str]:
    return list(_TASKS)


def get(name: str) -> Task:
    try:
        return _TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown task {name!r}; this version knows {', '.join(_TASKS)}") from None


def of_run(run: RunDir) -> Task:
    """The task of a run or pretrained model (RunError for an architecture this version does not know)."""
    try:
        return get(run.task)
    except ConfigError as exc:
        raise RunError(f"run {run.name}: {exc}") from None
