"""Tasks: what a run's generator maps (``latent`` z -> image, ``pix2pix``, ``cyclegan``), each one file here.

The one place that knows every task: a task maps to its trainer, its loader, its evaluation, its grid captions
and its config section (:class:`Task`). Pages, the CLI and the launcher look a run's task up here; to add a task,
add a module that registers one and import it below.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from .. import evaluation
from ..devices import Worker
from ..errors import GanError
from ..runs import COPY_COMMAND, RunDir, append_quality, is_shipped, quality_path, resolve_run
from ..train import joins_as_worker, run_as_worker, run_training
from . import cyclegan_task, latent_task, pix2pix_task  # noqa: F401  (each registers its task)
from .registry import Task, get, names, of_run, register

__all__ = ["Task", "Worker", "evaluate", "evaluate_model", "get", "joins_as_worker", "load", "names", "of_run",
           "register", "train", "train_as_worker"]


def train(run: RunDir, **options: Any) -> str:
    """Train (or resume) a run with its task's trainer; `options` as gan_core.train.run_training takes them
    (progress, should_stop, log, restart). Returns 'done' or 'stopped'."""
    return run_training(run, of_run(run).trainer, **options)


def train_as_worker(**options: Any) -> str:
    """A non-chief worker of a multiworker run (see gan_core.train.run_as_worker): the chief sends the config and
    this process trains beside it with the run's task trainer, writing only a scratch folder of its own; `options`
    are progress, should_stop, log and data (this machine's data path). Returns 'done' or 'stopped'."""
    return run_as_worker(lambda run: of_run(run).trainer, **options)


def load(run: RunDir, epoch: int | None = None) -> Any:
    """A run's saved model at `epoch` (default: the latest): a Generator, or {direction: Translator}."""
    return of_run(run).load(run, epoch)


def evaluate(run: RunDir, epoch: int | None = None, n: int | None = None, **options: Any) -> dict[str, Any]:
    """One saved epoch's quality figures (default: the latest), with the run's task's evaluation; `options` are
    metrics, seed, cache_dir, log, data_path and data_b, as :func:`evaluate_model` takes them."""
    return of_run(run).evaluate(run, epoch, n, **options)


def evaluate_model(model: str, epochs: str = "latest", n: int | None = None, dataset: str | None = None,
                   data_path: str | None = None, metrics: Iterable[str] | None = None, seed: int = 0,
                   record: bool = True, cache_dir: str | Path | None = None,
                   log: Callable[[str], None] | None = None, data_b: str | None = None) -> dict[str, Any]:
    """Evaluate a run folder's saved generators (``epochs``: latest, all or N,M) or a ``.keras`` file, each with
    its task's figures.

    For a run, each epoch's records are appended to ``<run>/quality.jsonl`` as soon as that epoch is scored (unless
    ``record`` is False, or the run is a shipped model: those are read-only). That file is separate from the
    trainer's ``metrics.jsonl``, so evaluating a run that is still training is safe: the trainer stays the only
    writer of its log, and generator files are renamed into place whole.
    """
    log = log or (lambda message: None)
    metrics = list(metrics) if metrics else None
    n = evaluation.check_n(n)  # before loading anything
    if str(model).endswith(".keras"):
        if (epochs or "latest") != "latest":
            raise GanError("--epochs applies to a run folder, not to a .keras file")
        result = evaluation.evaluate(model, dataset, data_path, n, metrics, seed=seed, cache_dir=cache_dir, log=log)
        return {"model": str(model), "quality_file": None, "results": [result]}
    run = resolve_run(model)
    task = of_run(run)
    chosen = evaluation.parse_epochs(epochs, run.generator_epochs())
    if dataset is not None and dataset != run.config_dict().get("dataset"):
        raise GanError(f"run {run.name} was trained on {run.config_dict().get('dataset')}; --dataset applies to "
                       "a bare .keras file")
    results, quality_file = [], None
    if record and is_shipped(run.path):  # read-only: the figures are printed, never appended to its quality.jsonl
        log(f"not recorded: {run.path} is a shipped pretrained model (read-only); `{COPY_COMMAND} {run.path}` makes "
            "a run of it whose quality.jsonl is yours")
        record = False
    for e in chosen:
        log(f"evaluating {run.name} epoch {e}")
        result = task.evaluate(run, e, n, metrics=metrics, seed=seed, cache_dir=cache_dir, log=log,
                               data_path=data_path, data_b=data_b)
        results.append(result)
        if record:
            try:
                append_quality(run, result)
                quality_file = str(quality_path(run))
            except OSError as exc:
                log(f"could not append to {quality_path(run)}: {exc.strerror}; results are printed only")
                record = False
    return {"model": str(run.path), "quality_file": quality_file, "results": results}
