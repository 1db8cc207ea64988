"""`python -m gan_core presets | settings | train | sample | translate | directions | gif | runs | storage | copy |
stop | evaluate | project | export-model`: what the app does, from a terminal."""
from __future__ import annotations

import argparse
import sys

from . import quiet  # noqa: F401  (first: it imports TensorFlow without its C++ start-up lines)
from .. import config
from ..errors import GanError
from ..explore import model_export
from .commands import (cmd_copy, cmd_directions, cmd_evaluate, cmd_export_model, cmd_gif, cmd_presets, cmd_project,
                       cmd_runs, cmd_sample, cmd_settings, cmd_stop, cmd_storage, cmd_train, cmd_translate,
                       load_model_ref)
from .progress import ProgressBar, format_seconds

__all__ = ["ProgressBar", "build_parser", "format_seconds", "load_model_ref", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    given = sys.argv[1:] if argv is None else argv
    # --verbose anywhere on the line (`train --verbose` too); gan_core.__main__ has already acted on it
    args = parser.parse_args([a for a in given if a != "--verbose"])
    _check_numbers(parser, args)
    try:
        return args.func(args) or 0
    except GanError as exc:  # the user's mistake or situation; anything else is a bug and keeps its traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _check_numbers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every numeric option holds a number: argparse gives `--lr=--` an empty list (Python 3.11), which would fail
    far from the command line; refuse it as argparse refuses `--lr=abc` (usage, exit code 2)."""
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = subparsers.choices[args.command]
    for action in sub._actions:
        value = getattr(args, action.dest, None)
        if action.type in (int, float) and value is not None and not isinstance(value, (int, float)):
            sub.error(f"argument {'/'.join(action.option_strings)}: expected a number; got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gan_core", description="Train, sample and export GANs on images.")
    p.add_argument("--verbose", action="store_true", help="show TensorFlow's C++ start-up lines (hidden by default; "
                   "also GAN_EXPLORER_VERBOSE=1)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _run_commands(sub)
    _picture_commands(sub)
    _model_commands(sub)
    return p


def _run_commands(sub) -> None:
    """Presets and their settings; training, and the run folders it makes."""
    s = sub.add_parser("presets", help="list the presets: each architecture's reference recipe and its variants")
    s.set_defaults(func=cmd_presets)
    s = sub.add_parser("settings", help="list every config field a preset's runs can --set: value, range, what it does")
    s.add_argument("--preset", default="mnist_dcgan", help="whose values and task's section (default mnist_dcgan)")
    s.set_defaults(func=cmd_settings)

    s = sub.add_parser("train", help="train a preset into a new run folder, or resume one")
    s.add_argument("--preset", help="architecture preset (see `presets`)")
    s.add_argument("--resume", metavar="RUN_DIR", help="continue this run folder from its last checkpoint")
    s.add_argument("--restart", action="store_true",
                   help="with --resume: start that run over at epoch 0, moving what it trained into attempts/NN/")
    s.add_argument("--data", help="dataset file or folder (mnist.npz, IDX files, or a folder of images)")
    s.add_argument("--dataset", choices=config.DATASETS, help="data source (default: preset's)")
    s.add_argument("--epochs", type=int)
    s.add_argument("--batch-size", type=int)
    s.add_argument("--limit", type=int, help="use only the first N training images")
    s.add_argument("--precision", choices=config.PRECISIONS,
                   help="auto (default): mixed_bfloat16 where the GPU/CPU computes bfloat16 natively, else float32")
    s.add_argument("--strategy", choices=config.STRATEGIES,
                   help="default: one device; mirrored: every GPU of this machine; multiworker: the machines in "
                        "TF_CONFIG (README: Several machines)")
    s.add_argument("--device", help="auto (default: TensorFlow's first GPU, else the CPU), cpu, or gpu:N (one GPU)")
    s.add_argument("--runs-dir", help="parent folder of run folders (default: runs/ or $GAN_EXPLORER_RUNS)")
    s.add_argument("--name", help="run name (the folder is NNNNN-name)")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config field, e.g. --set g_lr=2e-4 (repeatable)")
    s.add_argument("--quiet", action="store_true", help="one line per epoch, no progress bar")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("runs", help="list runs with state and progress")
    s.add_argument("--runs-dir")
    s.set_defaults(func=cmd_runs)

    s = sub.add_parser("storage", help="uploads, data caches, the app's generator exports and temporary files with "
                                       "their sizes and the runs that use them; --clean removes those no run uses")
    s.add_argument("--runs-dir", help="parent folder of run folders (default: runs/ or $GAN_EXPLORER_RUNS)")
    s.add_argument("--cache-dir", help="decoded-image cache (default: $GAN_EXPLORER_CACHE or ~/.cache/gan_explorer)")
    s.add_argument("--clean", action="store_true", help="remove every upload, cache entry, export and temporary "
                                                        "file no run uses (never a run folder, never what a run uses)")
    s.set_defaults(func=cmd_storage)

    s = sub.add_parser("copy", help="copy a pretrained model (read-only) or a run into a new run folder of yours, "
                                    "to evaluate, export or train it")
    s.add_argument("model", help="pretrained model folder (e.g. pretrained/mnist_dcgan) or run folder")
    s.add_argument("--name", help="the copy's run name (default: the model's)")
    s.add_argument("--data", help="where its training data is here (a shipped config has no path; an image "
                                  "folder's models need it to train)")
    s.add_argument("--runs-dir", help="parent folder of run folders (default: runs/ or $GAN_EXPLORER_RUNS)")
    s.set_defaults(func=cmd_copy)

    s = sub.add_parser("stop", help="ask a training run to checkpoint and stop")
    s.add_argument("run", help="run folder")
    s.set_defaults(func=cmd_stop)


def _picture_commands(sub) -> None:
    """What a trained generator draws: sample grids, translations, latent directions, snapshot GIFs."""
    s = sub.add_parser("sample", help="write a grid of samples from a run or a .keras generator")
    s.add_argument("model", help="run folder or .keras file")
    s.add_argument("--epoch", type=int, help="which saved epoch of a run (default: latest)")
    s.add_argument("--grid", default="4x4", help="ROWSxCOLS (default 4x4)")
    s.add_argument("--seed", type=int, default=0, help="first seed; cell i uses seed+i")
    s.add_argument("--scale", type=int, default=2, help="pixel scale factor (default 2)")
    s.add_argument("--psi", type=float, default=1.0,
                   help="truncation: pull each z towards the noise's centre, 0..1 (default 1 = none; 0 = mean image)")
    s.add_argument("--class", dest="label", type=int, default=None,
                   help="class-conditional models: draw this class (e.g. a digit) in every cell; default: the "
                        "classes in turn, one per column on a 10-wide grid")
    s.add_argument("--out", required=True, help="output PNG path")
    s.set_defaults(func=cmd_sample)

    s = sub.add_parser("translate", help="translate an image with a Pix2Pix or CycleGAN run (or pretrained model)")
    s.add_argument("model", help="run folder or pretrained model folder of an image-to-image model")
    s.add_argument("image", help="PNG or JPEG; centre-cropped and resized to the model's size")
    s.add_argument("--epoch", type=int, help="which saved epoch (default: latest)")
    s.add_argument("--direction", choices=config.DIRECTIONS, default="AtoB",
                   help="a CycleGAN's direction (default AtoB: dataset -> dataset_b)")
    s.add_argument("--as-input", action="store_true",
                   help="Pix2Pix pairings (edges, grayscale, masked): IMAGE is the input itself (e.g. your own edge "
                        "drawing) rather than a picture to make the input from")
    s.add_argument("--invert", action="store_true", help="invert the image first (dark strokes on light paper)")
    s.add_argument("--scale", type=int, default=4, help="pixel scale factor of the PNG (default 4)")
    s.add_argument("--out", help="PNG of input | output [| original | round trip] (default: IMAGE-translated.png)")
    s.set_defaults(func=cmd_translate)

    s = sub.add_parser("directions", help="principal directions of a generator's latent space (GANSpace), cached")
    s.add_argument("model", help="run folder or .keras file")
    s.add_argument("--epoch", type=int, help="which saved epoch of a run (default: latest)")
    s.add_argument("--k", type=int, default=10, help="how many directions (default 10)")
    s.add_argument("--n", type=int, default=4096, help="z samples to take PCA over (default 4096)")
    s.add_argument("--seed", type=int, default=0, help="seed of the z samples (default 0)")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=cmd_directions)

    s = sub.add_parser("gif", help="animate a run's per-epoch snapshot grids")
    s.add_argument("run", help="run folder")
    s.add_argument("--out", required=True, help="output GIF path")
    s.add_argument("--fps", type=float, default=4.0)
    s.add_argument("--loop", type=int, default=0, help="0 = forever")
    s.set_defaults(func=cmd_gif)


def _model_commands(sub) -> None:
    """Scoring a generator, projecting a picture into it, exporting it for other runtimes."""
    s = sub.add_parser("evaluate", help="score generators against real data (classifier-FID, coverage, SWD; "
                                        "image-to-image: L1/SSIM or cycle error and FID on held-out images)")
    s.add_argument("model", help="run folder or .keras file")
    s.add_argument("--epochs", default="latest", help="a run's saved epochs: all, latest (default) or N,M")
    s.add_argument("--n", type=int, help="images per set (default: 10000 for digits, 1000 for faces)")
    s.add_argument("--dataset", choices=config.DATASETS,
                   help="what a bare .keras imitates (default: its sidecar config)")
    s.add_argument("--data", help="real data file or folder (default: the run's config)")
    s.add_argument("--data-b", help="a CycleGAN's domain B data (default: the run's config)")
    s.add_argument("--metrics", help="comma-separated metric names (default: all that fit the data; ppl, the "
                                     "latent walk's path length, only when named)")
    s.add_argument("--seed", type=int, default=0, help="first latent seed (image i uses seed+i)")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.add_argument("--no-record", action="store_true", help="do not append to the run's quality.jsonl")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("project", help="find the z whose image is closest to a real image (latent projection)")
    s.add_argument("model", help="run folder or .keras file")
    s.add_argument("image", help="PNG or JPEG to project; centre-cropped and resized to the generator's size")
    s.add_argument("--epoch", type=int, help="which saved epoch of a run (default: latest)")
    s.add_argument("--steps", type=int, default=None, help="Adam steps per restart (default 200; 100 for 64x64 and up)")
    s.add_argument("--restarts", type=int, default=None, help="starting points optimised together (default 4)")
    s.add_argument("--lr", type=float, default=None, help="Adam learning rate on z (default 0.1)")
    s.add_argument("--feature-weight", type=float, default=None,
                   help="weight of the evaluator-feature loss for digit models (0 = pixels only)")
    s.add_argument("--invert", action="store_true", help="invert the image first (dark strokes on light paper)")
    s.add_argument("--seed", type=int, default=0, help="seed of the starting points")
    s.add_argument("--class", dest="label", type=int, default=None,
                   help="class-conditional models: the class to look in (default: search all classes)")
    s.add_argument("--scale", type=int, default=4, help="pixel scale factor of the PNG (default 4)")
    s.add_argument("--out", help="PNG of target | reconstruction | error (default: IMAGE-projection.png here)")
    s.add_argument("--save-z", metavar="Z.npy", help="also save the found z as a .npy vector")
    s.set_defaults(func=cmd_project)

    s = sub.add_parser("export-model", help="export a generator as a SavedModel, TFLite and ONNX, each run back "
                                            "and compared with the Keras generator")
    s.add_argument("model", help="run folder, pretrained model folder or .keras file")
    s.add_argument("--out", required=True, help="a new (or empty) folder for the exported files")
    s.add_argument("--formats", default=",".join(model_export.FORMATS),
                   help=f"comma-separated, any of {', '.join(model_export.FORMATS)} (default: all; onnx needs "
                        "pip install \".[export]\")")
    s.add_argument("--epoch", type=int, help="which saved epoch of a run (default: latest)")
    s.add_argument("--n", type=int, default=model_export.CHECK_N,
                   help=f"images compared per format, seeds SEED..SEED+n-1 (default {model_export.CHECK_N})")
    s.add_argument("--seed", type=int, default=0, help="first seed of the check (default 0)")
    s.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    s.set_defaults(func=cmd_export_model)


