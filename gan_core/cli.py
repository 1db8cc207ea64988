"""`python -m gan_core presets | train | sample | translate | directions | gif | runs | storage | stop | evaluate |
project`: what the app does, from a terminal."""
from __future__ import annotations

import argparse
import io
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np

from . import config as config_lib
from . import evaluation, models, pictures, preflight, storage, tasks
from .errors import GanError, resource_errors
from .explore import directions, export, projection
from .fsutil import atomic_write_bytes
from .inference import Generator, translate_image
from .runs import create_run, default_runs_dir, resolve_run, scan_runs


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("presets", help="list the architectures and their seed defaults")
    s.set_defaults(func=cmd_presets)

    s = sub.add_parser("train", help="train a preset into a new run folder, or resume one")
    s.add_argument("--preset", help="architecture preset (see `presets`)")
    s.add_argument("--resume", metavar="RUN_DIR", help="continue this run folder from its last checkpoint")
    s.add_argument("--restart", action="store_true",
                   help="with --resume: start that run over at epoch 0, moving what it trained into attempts/NN/")
    s.add_argument("--data", help="dataset file or folder (mnist.npz, IDX files, or a folder of images)")
    s.add_argument("--dataset", choices=("mnist", "fashion_mnist", "folder"), help="data source (default: preset's)")
    s.add_argument("--epochs", type=int)
    s.add_argument("--batch-size", type=int)
    s.add_argument("--limit", type=int, help="use only the first N training images")
    s.add_argument("--precision", choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"),
                   help="auto (default): mixed_bfloat16 where the GPU/CPU computes bfloat16 natively, else float32")
    s.add_argument("--strategy", choices=("default", "mirrored"))
    s.add_argument("--runs-dir", help="parent folder of run folders (default: runs/ or $GAN_EXPLORER_RUNS)")
    s.add_argument("--name", help="run name (the folder is NNNNN-name)")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config field, e.g. --set g_lr=2e-4 (repeatable)")
    s.add_argument("--quiet", action="store_true", help="one line per epoch, no progress bar")
    s.set_defaults(func=cmd_train)

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
    s.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB",
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

    s = sub.add_parser("runs", help="list runs with state and progress")
    s.add_argument("--runs-dir")
    s.set_defaults(func=cmd_runs)

    s = sub.add_parser("storage", help="uploads, data caches and temporary files with their sizes and the runs "
                                       "that use them; --clean removes those no run uses")
    s.add_argument("--runs-dir", help="parent folder of run folders (default: runs/ or $GAN_EXPLORER_RUNS)")
    s.add_argument("--cache-dir", help="decoded-image cache (default: $GAN_EXPLORER_CACHE or ~/.cache/gan_explorer)")
    s.add_argument("--clean", action="store_true", help="remove every upload, cache entry and temporary file no "
                                                        "run uses (never a run folder, never what a run uses)")
    s.set_defaults(func=cmd_storage)

    s = sub.add_parser("stop", help="ask a training run to checkpoint and stop")
    s.add_argument("run", help="run folder")
    s.set_defaults(func=cmd_stop)

    s = sub.add_parser("evaluate", help="score generators against real data (classifier-FID, coverage, SWD; "
                                        "image-to-image: L1/SSIM or cycle error and FID on held-out images)")
    s.add_argument("model", help="run folder or .keras file")
    s.add_argument("--epochs", default="latest", help="a run's saved epochs: all, latest (default) or N,M")
    s.add_argument("--n", type=int, help="images per set (default: 10000 for digits, 1000 for faces)")
    s.add_argument("--dataset", choices=("mnist", "fashion_mnist", "folder"),
                   help="what a bare .keras imitates (default: its sidecar config)")
    s.add_argument("--data", help="real data file or folder (default: the run's config)")
    s.add_argument("--data-b", help="a CycleGAN's domain B data (default: the run's config)")
    s.add_argument("--metrics", help="comma-separated metric names (default: all that fit the data)")
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
    return p


def cmd_presets(args) -> int:
    for name in models.preset_names():
        recipe = models.preset(name)
        p = recipe.values
        arch = models.get(recipe.architecture)
        task = tasks.get(arch.task)
        source = arch.source if task.draws_from_noise else task.name
        what = task.in_brief(p)
        print(f"{name:24s} {source:9s} {p['image_size']}x{p['image_size']}x{p['channels']}  {what}  "
              f"batch {p['batch_size']}  data {p['dataset']}")
        print(f"{'':24s} {recipe.summary}")
    return 0


def cmd_train(args) -> int:
    if bool(args.preset) == bool(args.resume):
        raise GanError("give either --preset NAME (a new run) or --resume RUN_DIR (continue one)")
    if args.restart and not args.resume:
        raise GanError("--restart starts an existing run over: give it with --resume RUN_DIR")
    if args.resume:
        changed = [flag for flag, value in (("--data", args.data), ("--dataset", args.dataset),
                                            ("--batch-size", args.batch_size), ("--limit", args.limit),
                                            ("--precision", args.precision), ("--strategy", args.strategy),
                                            ("--name", args.name), ("--set", args.set or None)) if value]
        if changed:
            raise GanError(f"{', '.join(changed)} cannot change on --resume (the run's config.json holds them); "
                           "only --epochs can raise the target")
        run = resolve_run(args.resume, args.runs_dir)
        if args.epochs is not None:
            cfg = run.config()
            if args.epochs < cfg.epochs:
                raise GanError(f"run {run.name} already targets {cfg.epochs} epochs; --epochs can only add")
            cfg.epochs = args.epochs
            run.write_config(cfg.validate())
    else:
        overrides = {"data": args.data, "dataset": args.dataset, "epochs": args.epochs,
                     "batch_size": args.batch_size, "limit": args.limit, "precision": args.precision,
                     "strategy": args.strategy, "name": args.name}
        cfg = config_lib.from_preset(args.preset, overrides, args.set)
        preflight.check(cfg)  # missing data, models too big for memory: found before the run folder exists
        run = create_run(args.runs_dir, cfg)
        print(f"run folder: {run.path}", file=sys.stderr)

    stop = {"requested": False}
    bar = ProgressBar(quiet=args.quiet or not sys.stderr.isatty())

    def on_signal(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        bar.write("stopping after this step (Ctrl-C again to abort without a checkpoint)...")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        state = tasks.train(run, progress=bar, should_stop=lambda: stop["requested"], log=bar.write,
                      restart=args.restart)
    finally:
        bar.close()
    if state == "stopped":
        print(f"stopped; resume with: python -m gan_core train --resume {run.path}", file=sys.stderr)
    else:
        print(f"done: {run.path} (grids in {run.samples_dir})", file=sys.stderr)
    return 0


class ProgressBar:
    """tqdm's bar over each epoch's steps on a terminal, and a line per finished epoch either way (logs, the app's
    train.log, a pipe: there `quiet`, so no carriage-return frames end up in a file)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None  # the tqdm bar of the epoch in progress
        self.bar_epoch: int | None = None

    def __call__(self, r: dict) -> None:
        if r["kind"] == "epoch":
            self.close()
            print(f"epoch {r['epoch']}/{r['epochs']}  {r['seconds']:.1f}s  g_loss {r['g_loss']:.3f}  "
                  f"d_loss {r['d_loss']:.3f}  D(x) {r['d_real']:.2f}  D(G(z)) {r['d_fake']:.2f}", file=sys.stderr)
            return
        if self.quiet:
            return
        done = r["step_in_epoch"]
        stats = (f"g {r['g_loss']:.3f} d {r['d_loss']:.3f}  {r['images_per_sec']:.0f} img/s  "
                 f"run ETA {format_seconds(r['eta_s'])}")
        if self.bar is None or self.bar_epoch != r["epoch"]:
            from tqdm import tqdm

            self.close()
            # initial=done: a resumed epoch starts where it was, and tqdm's rate counts only steps taken here
            self.bar = tqdm(total=r["steps_per_epoch"], initial=done, desc=f"epoch {r['epoch']}/{r['epochs']}",
                            unit="step", postfix=stats, file=sys.stderr, leave=False, dynamic_ncols=True)
            self.bar_epoch = r["epoch"]
            return
        self.bar.set_postfix_str(stats, refresh=False)
        self.bar.n = done  # a record comes once per metrics window (log_every steps): draw each one
        self.bar.refresh()

    def write(self, message: str) -> None:
        """A line of the trainer's (or Ctrl-C's) above the bar, not through it."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def close(self) -> None:
        """End the epoch's bar (it clears itself: the epoch's line takes its place)."""
        if self.bar is not None:
            self.bar.close()
            self.bar, self.bar_epoch = None, None


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def parse_grid(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise GanError(f"--grid takes ROWSxCOLS, e.g. 4x4; got {text!r}") from None
    if not (1 <= rows <= 32 and 1 <= cols <= 32):
        raise GanError(f"--grid rows and columns must be 1..32; got {text!r}")
    return rows, cols


def load_model_ref(ref: str, epoch: int | None):

    if ref.endswith(".keras"):
        if epoch is not None:
            raise GanError("--epoch applies to a run folder, not to a .keras file")
        return Generator.load(ref)
    return Generator.from_run(resolve_run(ref), epoch)


def cmd_sample(args) -> int:
    rows, cols = parse_grid(args.grid)
    pictures.check_output_file(args.out, "grid.png")
    check_scale(args.scale)
    generator = load_model_ref(args.model, args.epoch)
    with resource_errors("drawing the grid", "ask for less: a smaller --grid or --scale"):
        picture = export.sample_grid(generator, rows, cols, seed=args.seed, scale=args.scale, psi=args.psi,
                                     label=_check_class(generator, args.label))
    print(pictures.save_png(args.out, picture))
    return 0


def check_scale(scale: int) -> int:
    """--scale: whole pixels per generated pixel (a scale below 1 used to be quietly taken as 1)."""
    if scale < 1:
        raise GanError(f"--scale must be 1 or more (each generated pixel becomes scale x scale); got {scale}")
    return scale


def _check_class(generator, label: int | None) -> int | None:
    if label is None:
        return None
    if not generator.num_classes:
        raise GanError(f"--class {label}: this generator is not class-conditional; leave --class out")
    if not 0 <= label < generator.num_classes:
        raise GanError(f"--class must be 0..{generator.num_classes - 1}; got {label}")
    return label


def cmd_translate(args) -> int:
    out = pictures.check_output_file(args.out or f"{Path(args.image).stem}-translated.png", "translated.png")
    check_scale(args.scale)
    translators = tasks.load(resolve_run(args.model), args.epoch)
    done = translate_image(translators, args.image, args.direction, as_input=args.as_input, invert=args.invert)
    pictures.save_png(out, done.panel(scale=args.scale))
    print(f"{out}: " + " | ".join(caption for caption, _ in done.columns()))
    if done.target_l1 is not None:
        print(f"L1 to the original: {done.target_l1:.4f} (pixels in [0, 1])")
    if done.cycle_l1 is not None:
        print(f"round-trip L1: {done.cycle_l1:.4f}")
    return 0


def cmd_directions(args) -> int:
    generator = load_model_ref(args.model, args.epoch)
    found = directions.load_or_compute(generator, k=args.k, n=args.n, seed=args.seed)
    where = directions.cache_path(generator.source)
    if args.json:
        print(json.dumps({"explained": [round(float(v), 6) for v in found.explained], "layer": found.layer,
                          "n": found.n, "seed": found.seed, "noise": found.noise, "from": found.source,
                          "seconds": found.seconds, "cache": str(where) if where.is_file() else None,
                          "vectors": found.vectors.round(6).tolist()}))
        return 0
    print(directions.format_table(found))
    how = f"computed in {found.seconds:.1f} s" if found.source == "computed" else "read from the cache"
    print(f"{how}; " + (f"cached in {where}" if where.is_file() else "not cached (its folder is read-only)"))
    return 0


def cmd_gif(args) -> int:
    run = resolve_run(args.run)
    out = pictures.check_output_file(args.out, "snapshots.gif")
    gif = export.snapshots_gif(run, fps=args.fps, loop=args.loop)
    with resource_errors(f"writing {out}"):
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, gif)
    print(f"{out} ({len(run.sample_epochs())} frames)")
    return 0


def cmd_runs(args) -> int:
    root = args.runs_dir or default_runs_dir()
    runs, skipped = scan_runs(root)
    for run, problem in skipped:
        print(f"skipped {run.name}: {problem}", file=sys.stderr)
    if not runs:
        print(f"no runs under {root}; start one with: python -m gan_core train --preset mnist_dcgan")
        return 0
    print(f"{'run':32s} {'preset':18s} {'state':12s} {'epoch':>9s} {'step':>12s}  updated")
    for run in runs:
        s, c = run.status(), run.config_dict()
        updated = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.get("updated_at", 0)))
        step = f"{s.get('step', 0)}/{s.get('total_steps', '?')}"
        print(f"{run.name:32s} {c.get('preset', '?'):18s} {s.get('state', '?'):12s} "
              f"{s.get('epoch', 0):>4}/{c.get('epochs', '?'):<4} {step:>12s}  {updated}")
    return 0


def cmd_storage(args) -> int:
    items = storage.list_storage(args.runs_dir, args.cache_dir)
    if not items:
        print("no uploads, caches or temporary files")
        return 0
    if args.clean:
        removed = storage.clean(args.runs_dir, args.cache_dir)
        for item in removed:
            print(f"removed {item.kind:6s} {storage.format_bytes(item.size):>10s}  {item.path}")
        kept = [i for i in items if not i.removable]
        print(f"freed {storage.format_bytes(sum(i.size for i in removed))} in {len(removed)} item(s); kept "
              f"{len(kept)} that a run uses or that was just uploaded")
        return 0
    print(f"{'kind':6s} {'size':>10s}  {'used by':24s} path")
    for item in items:
        used = ", ".join(item.used_by) or item.busy or "-"
        print(f"{item.kind:6s} {storage.format_bytes(item.size):>10s}  {used:24s} {item.path}"
              + (f"  ({item.detail})" if item.detail else ""))
    unused = [i for i in items if i.removable]
    print(f"total {storage.format_bytes(sum(i.size for i in items))}; "
          f"{storage.format_bytes(sum(i.size for i in unused))} in {len(unused)} item(s) no run uses"
          + (" (remove them with --clean)" if unused else ""))
    return 0


def cmd_stop(args) -> int:
    run = resolve_run(args.run)
    if not run.is_active():
        print(f"run {run.name} is not training (state: {run.state})")
        return 0
    run.request_stop()
    print(f"asked {run.name} to stop after its current step")
    return 0


def cmd_evaluate(args) -> int:
    names = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    with resource_errors("evaluating", "ask for less: a smaller --n"):
        report = tasks.evaluate_model(args.model, epochs=args.epochs, n=args.n, dataset=args.dataset,
                                      data_path=args.data, metrics=names, seed=args.seed, record=not args.no_record,
                                      log=lambda m: print(m, file=sys.stderr), data_b=args.data_b)
    print(json.dumps(report, indent=2) if args.json else evaluation.format_table(report))
    return 0


def cmd_project(args) -> int:
    out = pictures.check_output_file(args.out or f"{Path(args.image).stem}-projection.png", "projection.png")
    if args.save_z:
        pictures.check_output_file(args.save_z, "z.npy")
    check_scale(args.scale)
    generator = load_model_ref(args.model, args.epoch)
    target = projection.prepare_target(args.image, generator, invert=args.invert)
    options = {k: v for k, v in (("steps", args.steps), ("restarts", args.restarts), ("lr", args.lr),
                                 ("feature_weight", args.feature_weight)) if v is not None}
    found = projection.project(generator, target, seed=args.seed, label=_check_class(generator, args.label), **options)
    pictures.save_png(out, found.panel(scale=args.scale))
    if args.save_z:
        buffer = io.BytesIO()
        np.save(buffer, found.z)
        with resource_errors(f"writing {args.save_z}"):
            Path(args.save_z).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(args.save_z, buffer.getvalue())
    print(f"{out}: target | reconstruction | |error|")
    print(projection.summary(found))
    if args.save_z:
        print(f"z saved to {args.save_z}")
    return 0
