"""Copy a finished run into pretrained/<name>/ in the layout the app reads for runs, without the bulk.

    python scripts/package_pretrained.py runs/00003-pretrain-mnist mnist_dcgan [--epoch 10] [--average 5]

Keeps config.json, status.json, metrics.jsonl, fixed_z.npy, every snapshot grid (so the Snapshots page can show
the training) and one generator (the chosen epoch, default the last; with --average N the mean of the weights of
the N saved epochs ending there, see gan_core.inference.average_weights); drops checkpoints and TensorBoard files.
The shipped config leaves `data` empty: a local path means nothing on another machine.
The model card (MODEL_CARD.md) is written by hand beside them.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from gan_core.inference import average_weights  # the installed package (pip install -e .)
from gan_core.runs import RunDir, resolve_run

ROOT = Path(__file__).resolve().parents[1]


def package(run: RunDir, name: str, epoch: int | None, dest_root: Path, average: int = 1) -> Path:
    if run.is_active():
        raise SystemExit(f"{run.name} is still training; package it when it is done")
    epoch = epoch if epoch is not None else run.generator_epochs()[-1]
    dest = dest_root / name
    card = (dest / "MODEL_CARD.md").read_text() if (dest / "MODEL_CARD.md").exists() else None
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "generators").mkdir(parents=True)
    shutil.copytree(run.samples_dir, dest / "samples")
    for f in ("config.json", "status.json", "metrics.jsonl", "fixed_z.npy", "examples.npz", "quality.jsonl"):
        if (run.path / f).exists():
            shutil.copy2(run.path / f, dest / f)
    directions = ("AtoB", "BtoA") if run.task == "cyclegan" else ("AtoB",)  # a CycleGAN ships both generators
    for direction in directions:
        target = dest / "generators" / run.generator_path(epoch, direction).name
        if average > 1:
            epochs = [e for e in run.generator_epochs() if e <= epoch][-average:]
            average_weights([run.generator_path(e, direction) for e in epochs]).save(target)
            print(f"averaged the {direction} generators of epochs {epochs}")
        else:
            shutil.copy2(run.generator_path(epoch, direction), target)
    config = json.loads((dest / "config.json").read_text())
    config["data"] = None
    if "data_b" in config:
        config["data_b"] = None
    (dest / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    if card:
        (dest / "MODEL_CARD.md").write_text(card)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--epoch", type=int)
    ap.add_argument("--dest", type=Path, default=ROOT / "pretrained")
    ap.add_argument("--average", type=int, default=1, metavar="N", help="average the last N saved epochs' weights")
    args = ap.parse_args()
    print(package(resolve_run(args.run), args.name, args.epoch, args.dest, args.average))


if __name__ == "__main__":
    main()
