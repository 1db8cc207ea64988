"""The latent GAN (z -> image): the reference notes' DCGAN family, explored on the Latent space and Export pages."""
from __future__ import annotations

from typing import Any

from .. import config, evaluation
from ..errors import GanError
from ..inference import Generator
from ..models import LATENT
from ..runs import RunDir
from ..train import LatentTrainer
from .registry import Task, register


def evaluate(run: RunDir, epoch: int | None, n: int | None, *, metrics=None, seed: int = 0, cache_dir=None,
             log=None, data_path: str | None = None, data_b: str | None = None) -> dict[str, Any]:
    if data_b is not None:
        raise GanError("--data-b is domain B of a CycleGAN; this is a latent GAN")
    return evaluation.evaluate(run, None, data_path, n, metrics, epoch=epoch, seed=seed, cache_dir=cache_dir, log=log)


register(Task(
    name=LATENT,
    title="latent GAN (z → image)",
    trainer=LatentTrainer,
    load=Generator.from_run,
    evaluate=evaluate,
    grid_caption="fixed-z grid",
    made_from=lambda values: f"from {values.get('noise')} noise",
    in_brief=lambda p: f"{p['noise']} z{p['noise_dim']}",
    section=config.LATENT,
    draws_from_noise=True,
))
