"""Copy a finished run into pretrained/<name>/ in the layout the app reads for runs, without the bulk.

    python scripts/package_pretrained.py runs/00003-pretrain-mnist mnist_dcgan [--epoch 10]

Keeps config.json, status.json, metrics.jsonl, fixed_z.npy, every snapshot grid (so the Snapshots page can show
the training) and one generator (the chosen epoch, default the last); drops checkpoints and TensorBoard files.
The model card (MODEL_CARD.md) is written by hand beside them.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan_core.runs import RunDir, epoch_file, resolve_run  # noqa: E402


def package(run: RunDir, name: str, epoch: int | None, dest_root: Path) -> Path:
    if run.is_active():
        raise SystemExit(f"{run.name} is still training; package it when it is done")
    epoch = epoch if epoch is not None else run.generator_epochs()[-1]
    dest = dest_root / name
    card = (dest / "MODEL_CARD.md").read_text() if (dest / "MODEL_CARD.md").exists() else None
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "generators").mkdir(parents=True)
    shutil.copytree(run.samples_dir, dest / "samples")
    for f in ("config.json", "status.json", "metrics.jsonl", "fixed_z.npy", "quality.jsonl"):
        if (run.path / f).exists():
            shutil.copy2(run.path / f, dest / f)
    shutil.copy2(run.generator_path(epoch), dest / "generators" / epoch_file(epoch, "keras"))
    if card:
        (dest / "MODEL_CARD.md").write_text(card)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--epoch", type=int)
    ap.add_argument("--dest", type=Path, default=ROOT / "pretrained")
    args = ap.parse_args()
    print(package(resolve_run(args.run), args.name, args.epoch, args.dest))


if __name__ == "__main__":
    main()
