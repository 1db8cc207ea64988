"""Pix2Pix (paired image -> image): translations scored against their held-out targets."""
from __future__ import annotations

from typing import Any

from .. import config
from ..data import load_pairs
from ..errors import GanError
from ..evaluation.translation_quality import pix2pix_quality
from ..runs import RunDir
from ..train import Pix2PixTrainer
from .image_to_image import evaluate_saved, load_translators, refuse_metrics
from .registry import Task, register

INPUT_NAMES = {"edges": "edge map", "grayscale": "grayscale", "masked": "masked image"}


def domain_names(config: dict[str, Any]) -> tuple[str, str]:
    pairing = config.get("pairing") or ""
    if pairing == "side_by_side":
        a, b = "A (left half)", "B (right half)"
        return (a, b) if config.get("direction", "AtoB") == "AtoB" else (b, a)
    return INPUT_NAMES.get(pairing, "input"), "image"


def load(run: RunDir, epoch: int | None = None):
    return load_translators(run, epoch, ("AtoB",), domain_names)


def evaluate(run: RunDir, epoch: int | None, n: int | None, *, metrics=None, seed: int = 0, cache_dir=None,
             log=None, data_path: str | None = None, data_b: str | None = None) -> dict[str, Any]:
    refuse_metrics(run, metrics)
    if data_b is not None:
        raise GanError("--data-b is domain B of a CycleGAN; a Pix2Pix run learns from pairs of one dataset")

    def score(cfg, models, n):
        pairs = load_pairs(cfg, log or (lambda m: None))
        return pix2pix_quality(models["AtoB"], pairs.test_inputs, pairs.test_targets, n)

    return evaluate_saved(run, epoch, n, data_path, data_b, score, load)


register(Task(
    name="pix2pix",
    title="Pix2Pix (paired image → image)",
    trainer=Pix2PixTrainer,
    load=load,
    evaluate=evaluate,
    grid_caption="held-out input | output | target",
    made_from=lambda values: "from paired inputs (input | output | target grids)",
    in_brief=lambda p: f"pairs: {p['pairing']}",
    section=config.PIX2PIX,
    domain_names=domain_names,
))
