"""What the two image-to-image tasks share: loading a run's translators, scoring a saved epoch, domain names."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from ..config import TrainConfig
from ..errors import GanError
from ..evaluation import check_n
from ..evaluation.translation_quality import DEFAULT_EVAL_N
from ..inference import Translator
from ..runs import RunDir

DATASET_NAMES = {"mnist": "MNIST digits", "fashion_mnist": "Fashion-MNIST garments", "folder": "images"}


def dataset_name(dataset: str, data: str | None) -> str:
    return Path(data).name if dataset == "folder" and data else DATASET_NAMES.get(dataset, dataset or "?")


def load_translators(run: RunDir, epoch: int | None, directions: tuple[str, ...],
                     domain_names: Callable[[dict[str, Any]], tuple[str, str]]) -> dict[str, Translator]:
    """{direction: Translator} of a run's saved generators at `epoch` (default: the latest)."""
    config = run.config_dict()
    a, b = domain_names(config)
    names = {"AtoB": (a, b), "BtoA": (b, a)}
    return {d: Translator.load(run.generator_path(epoch, d), direction=d, pairing=config.get("pairing") or "",
                               input_name=names[d][0], output_name=names[d][1]) for d in directions}


def evaluate_saved(run: RunDir, epoch: int | None, n: int | None, data_path: str | None, data_b: str | None,
                   score: Callable[[TrainConfig, dict[str, Any], int], dict[str, Any]],
                   load: Callable[[RunDir, int | None], dict[str, Translator]]) -> dict[str, Any]:
    """Score a saved image-to-image model on its run's held-out data; ``data_path`` and ``data_b`` stand in for
    the config's (a pretrained model ships without its local paths). ``score(cfg, models, n)`` is the task's."""
    cfg = run.config()
    cfg.data = data_path if data_path is not None else cfg.data
    cfg.data_b = data_b if data_b is not None else cfg.data_b
    if epoch is None:
        epoch = run.generator_epochs()[-1] if run.generator_epochs() else None
    if epoch is None:
        raise GanError(f"run {run.name} has no saved model yet; wait for its first epoch to finish")
    start = time.perf_counter()
    models = {d: t.model for d, t in load(run, epoch).items()}
    result = score(cfg, models, check_n(n) or DEFAULT_EVAL_N)
    return {**result, "dataset": cfg.dataset, "epoch": epoch, "source": str(run.generator_path(epoch)),
            "seconds": round(time.perf_counter() - start, 2)}


def refuse_metrics(run: RunDir, metrics) -> None:
    if metrics:
        raise GanError(f"{run.name} is an image-to-image model: it is scored on its own held-out data with its own "
                       "figures (L1/SSIM, or cycle error and FID); --metrics applies to latent GANs")
