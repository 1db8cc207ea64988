"""One function per CLI command: each parses nothing, calls gan_core once or twice, and prints the result."""
from __future__ import annotations

import io
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np

from .. import config as config_lib
from .. import evaluation, models, preflight, storage, tasks
from ..errors import GanError, resource_errors
from ..explore import directions, grids_and_gifs, model_export, picture_projection
from ..files import pictures
from ..files.disk import atomic_write_bytes
from ..inference import Generator, translate_image
from ..runs import (RETRAIN_COPY, copy_model, create_run, default_runs_dir, is_shipped,
                    refuse_output_in_shipped, refuse_shipped, resolve_run, scan_runs)
from .progress import ProgressBar


def cmd_presets(args) -> int:
    for name in models.preset_names():
        recipe = models.preset(name)
        p = recipe.values
        arch = models.get(recipe.architecture)
        task = tasks.get(arch.task)
        source = arch.source if task.draws_from_noise else task.name
        what = task.in_brief(p)
        print(f"{name:24s} {source:20s} {p['image_size']}x{p['image_size']}x{p['channels']}  {what}  "
              f"batch {p['batch_size']}  data {p['dataset']}")
        print(f"{'':24s} {recipe.summary}")
    return 0


def cmd_settings(args) -> int:
    """Every field a run of `args.preset` can set, by section: its value in that preset, what it takes, what it does."""
    cfg = config_lib.preset_config(args.preset)
    for section in cfg.sections():
        print(f"# {section.title}: --set NAME=VALUE")
        for setting in section.settings:
            if setting.group != config_lib.FIXED:
                print(f"{setting.name:18s} {json.dumps(getattr(cfg, setting.name)):>14s}  {setting.allowed_words()}")
                print(f"{'':34s}{setting.help}")
    return 0


def cmd_train(args) -> int:
    if bool(args.preset) == bool(args.resume):
        raise GanError("give either --preset NAME (a new run) or --resume RUN_DIR (continue one)")
    if args.restart and not args.resume:
        raise GanError("--restart starts an existing run over: give it with --resume RUN_DIR")
    worker = tasks.joins_as_worker(args.strategy, args.resume, args.runs_dir)  # a multiworker run's non-chief
    if worker is not None:
        run = None  # worker 0 writes the run folder; this one takes its config and writes only a scratch folder
        print(f"{worker.describe()}: joining worker 0's run (nothing is written in the runs folder here)",
              file=sys.stderr)
    elif args.resume:
        changed = [flag for flag, value in (("--data", args.data), ("--dataset", args.dataset),
                                            ("--batch-size", args.batch_size), ("--limit", args.limit),
                                            ("--precision", args.precision), ("--strategy", args.strategy),
                                            ("--device", args.device),
                                            ("--name", args.name), ("--set", args.set or None)) if value]
        if changed:
            raise GanError(f"{', '.join(changed)} cannot change on --resume (the run's config.json holds them); "
                           "only --epochs can raise the target")
        run = resolve_run(args.resume, args.runs_dir)
        check_resume(run, args.epochs, args.restart)  # nothing is written before every refusal has had its say
    else:
        overrides = {"data": args.data, "dataset": args.dataset, "epochs": args.epochs,
                     "batch_size": args.batch_size, "limit": args.limit, "precision": args.precision,
                     "strategy": args.strategy, "device": args.device, "name": args.name}
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
        if run is None:
            state = tasks.train_as_worker(progress=bar, should_stop=lambda: stop["requested"], log=bar.write,
                                          data=args.data)
        else:
            state = tasks.train(run, progress=bar, should_stop=lambda: stop["requested"], log=bar.write,
                                restart=args.restart, epochs=args.epochs if args.resume else None)
    finally:
        bar.close()
    if run is None:
        print(f"{worker.describe()}: {state}; the run folder is worker 0's", file=sys.stderr)
    elif state == "stopped":
        print(f"stopped; resume with: python -m gan_core train --resume {run.path}", file=sys.stderr)
    else:
        print(f"done: {run.path} (grids in {run.samples_dir})", file=sys.stderr)
    return 0


def check_resume(run, epochs: int | None, restart: bool) -> None:
    """What `train --resume` can refuse without training, refused before anything in the run is written: a shipped
    model, a run another trainer holds, fewer --epochs than its target, lost checkpoints without --restart. The
    trainer writes the new target itself, under the run's lock."""
    refuse_shipped(run, "starting it over" if restart else "training", RETRAIN_COPY)
    if run.is_locked() and run.lock_handed_down() is None:  # the app's trainer holds the lock its launcher took
        raise run.busy_error()
    cfg = run.config()
    if epochs is not None and epochs < cfg.epochs:
        raise GanError(f"run {run.name} already targets {cfg.epochs} epochs; --epochs can only add")
    if not restart:
        found, notes = run.checkpoints()
        run.refuse_start_over(found, notes, cfg.checkpoint_every)


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
    refuse_output_in_shipped(args.out, "--out")
    pictures.check_output_file(args.out, "grid.png")
    check_scale(args.scale)
    generator = load_model_ref(args.model, args.epoch)
    with resource_errors("drawing the grid", "ask for less: a smaller --grid or --scale"):
        picture = grids_and_gifs.sample_grid(generator, rows, cols, seed=args.seed, scale=args.scale, psi=args.psi,
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
    refuse_output_in_shipped(out, "--out")
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
    cached = where.is_file() and (found.source != "computed" or not is_shipped(where))
    if args.json:
        print(json.dumps({"explained": [round(float(v), 6) for v in found.explained], "layer": found.layer,
                          "n": found.n, "seed": found.seed, "noise": found.noise, "from": found.source,
                          "seconds": found.seconds, "cache": str(where) if cached else None,
                          "vectors": found.vectors.round(6).tolist()}))
        return 0
    print(directions.format_table(found))
    how = f"computed in {found.seconds:.1f} s" if found.source == "computed" else "read from the cache"
    why = "a shipped model's folder is read-only" if is_shipped(where) else "its folder is read-only"
    print(f"{how}; " + (f"cached in {where}" if cached else f"not cached ({why})"))
    return 0


def cmd_gif(args) -> int:
    run = resolve_run(args.run)
    out = pictures.check_output_file(args.out, "snapshots.gif")
    refuse_output_in_shipped(out, "--out")
    gif = grids_and_gifs.snapshots_gif(run, fps=args.fps, loop=args.loop)
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
        print("no uploads, caches, exports or temporary files")
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


def cmd_copy(args) -> int:
    """A pretrained model (or a run) copied into a new run folder: the copy is the user's to write."""
    source = resolve_run(args.model)
    if args.data:  # where the data is here: checked now, not when the copy's first trainer starts
        cfg = source.config()
        cfg.data = args.data
        preflight.check_data(cfg)
    run = copy_model(source, args.runs_dir, args.name, args.data)
    print(f"copied {source.path} to {run.path}")
    print(f"train it: python -m gan_core train --resume {run.path} --restart"
          + ("" if run.latest_checkpoint() else " (no checkpoint was copied: it trains the recipe from epoch 0, "
                                                 "the copied epochs kept in its attempts/)"))
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
    refuse_output_in_shipped(out, "--out")
    if args.save_z:
        pictures.check_output_file(args.save_z, "z.npy")
        refuse_output_in_shipped(args.save_z, "--save-z")
    check_scale(args.scale)
    generator = load_model_ref(args.model, args.epoch)
    target = picture_projection.prepare_target(args.image, generator, invert=args.invert)
    options = {k: v for k, v in (("steps", args.steps), ("restarts", args.restarts), ("lr", args.lr),
                                 ("feature_weight", args.feature_weight)) if v is not None}
    found = picture_projection.project(generator, target, seed=args.seed, label=_check_class(generator, args.label),
                                      **options)
    pictures.save_png(out, found.panel(scale=args.scale))
    if args.save_z:
        buffer = io.BytesIO()
        np.save(buffer, found.z)
        with resource_errors(f"writing {args.save_z}"):
            Path(args.save_z).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(args.save_z, buffer.getvalue())
    print(f"{out}: target | reconstruction | |error|")
    print(picture_projection.summary(found))
    if args.save_z:
        print(f"z saved to {args.save_z}")
    return 0


def cmd_export_model(args) -> int:
    formats = model_export.check_formats(args.formats)
    model_export.check_options(args.n, args.seed)
    refuse_output_in_shipped(args.out, "--out")
    generator = load_model_ref(args.model, args.epoch)
    model_export.check_out_dir(args.out)
    with resource_errors(f"exporting into {args.out}", "free some disk space or pick another --out"):
        report = model_export.export_generator(generator, args.out, formats, n=args.n, seed=args.seed,
                                               log=lambda m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.table())
        print(f"written to {report.out_dir} (report: {model_export.REPORT_FILE})")
    failed = [r.format for r in report.formats if not r.ok]
    if failed:
        print(f"error: {', '.join(failed)} differ(s) from the Keras generator by more than the tolerance; see "
              f"{Path(report.out_dir) / model_export.REPORT_FILE}", file=sys.stderr)
        return 1
    return 0
