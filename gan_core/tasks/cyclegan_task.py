"""CycleGAN (unpaired image <-> image): both directions, each output translated back (the round trip)."""
from __future__ import annotations

from typing import Any

from .. import config
from ..data import DIRECTIONS, load_domains
from ..evaluation.translation_quality import cyclegan_quality
from ..runs import RunDir
from ..train import CycleGANTrainer
from .image_to_image import (
    dataset_name,
    evaluate_saved,
    load_translators,
    refuse_metrics,
)
from .registry import Task, register


def domain_names(config: dict[str, Any]) -> tuple[str, str]:
    return (dataset_name(config.get("dataset", ""), config.get("data")),
            dataset_name(config.get("dataset_b", ""), config.get("data_b")))


def load(run: RunDir, epoch: int | None = None):
    return load_translators(run, epoch, DIRECTIONS, domain_names)


def evaluate(run: RunDir, epoch: int | None, n: int | None, *, metrics=None, seed: int = 0, cache_dir=None,
             log=None, data_path: str | None = None, data_b: str | None = None) -> dict[str, Any]:
    refuse_metrics(run, metrics)

    def score(cfg, models, n):
        a, b = load_domains(cfg, log or (lambda m: None))
        return cyclegan_quality(models["AtoB"], models["BtoA"], a, b, cfg, n)

    return evaluate_saved(run, epoch, n, data_path, data_b, score, load)


register(Task(
    name="cyclegan",
    title="CycleGAN (unpaired image ↔ image)",
    trainer=CycleGANTrainer,
    load=load,
    evaluate=evaluate,
    grid_caption="held-out A → B → A | B → A → B",
    made_from=lambda values: "between two unpaired sets, A and B (round-trip grids)",
    in_brief=lambda p: f"{p['dataset']} <-> {p['dataset_b']}",
    section=config.CYCLEGAN,
    directions=DIRECTIONS,
    round_trip=True,
    domain_names=domain_names,
))
