"""Checkpoints, as the shared loop (:class:`.loop.Trainer`) writes and reads them: where a run resumes (the newest
checkpoint that reads back whole), going back to one (also on every worker of a cluster, from the chief's), and
writing one so that a kill at any moment leaves the previous one intact.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from ..files.disk import atomic_write_json, read_json
from ..runs import Checkpoint
from . import workers

KEEP_CHECKPOINTS = 2
CHIEFS = Checkpoint(Path("the chief's checkpoint") / "ckpt", -1, None)  # a non-chief's stand-in: it reads none


class Checkpointing:
    """The checkpoint half of :class:`.loop.Trainer` (its base class). It uses the trainer's run, cfg, log, held
    (what the checkpoint holds), ckpt (its tf.train.Checkpoint), strategy, worker, epoch and step."""

    def resume_point(self) -> Checkpoint | None:
        """The newest checkpoint on disk that reads back whole; None for a fresh run. Every skipped one is named in
        the log; with none readable past the first checkpoint interval, refuse (never train over trained epochs)."""
        import tensorflow as tf

        found, notes = self.run.checkpoints()
        readable = None
        for candidate in found:
            try:
                reader = tf.train.load_checkpoint(str(candidate.path))
                for name in reader.get_variable_to_shape_map():
                    reader.get_tensor(name)  # reads every byte: a truncated data file fails here, not mid-restore
            except (tf.errors.OpError, ValueError, IndexError, OSError, RuntimeError) as exc:
                notes.append(f"checkpoints/{candidate.name} does not read back ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:120] if str(exc) else 'no message'})")
                continue
            readable = candidate
            break
        for note in notes:
            self.log(f"checkpoint skipped: {note}")
        if readable is None:
            self.run.refuse_start_over([], notes, self.cfg.checkpoint_every)
        elif readable is not found[0] or notes:
            self.log(f"resuming from {readable.name}, the newest checkpoint that reads back")
        return readable

    def restore(self, found: Checkpoint) -> None:
        """Back to `found`'s weights, optimizer state, epoch and step. Several workers: the chief reads its
        checkpoint (the others hold the stand-in CHIEFS), then every worker takes the chief's weights and place."""
        if found is not CHIEFS:
            self.read_checkpoint(found)
        if self.worker is not None:
            workers.share_weights(self.strategy, workers.variables_of(self.held.values()))
            self.epoch, self.step = (int(v) for v in workers.from_chief(self.strategy, [self.epoch, self.step]))

    def chief_checkpoint(self, found: Checkpoint | None) -> Checkpoint | None:
        """The checkpoint every worker goes back to: `found` on one process; with several workers, the chief's
        (the others' own folders are scratch) -- `found` on the chief, CHIEFS elsewhere, None on all when the chief
        has none."""
        if self.worker is None:
            return found
        if not workers.from_chief(self.strategy, [found is not None])[0]:
            return None
        return found if self.worker.chief else CHIEFS

    def read_checkpoint(self, found: Checkpoint) -> None:
        import tensorflow as tf

        held = self.held
        saved = {name.split("/", 1)[0] for name, _ in tf.train.list_variables(str(found.path))}
        late = [name for name in ("generator_ema",) if name in held and name not in saved]
        with self.strategy.scope():
            reader = tf.train.Checkpoint(**{k: v for k, v in held.items() if k not in late}) if late else self.ckpt
            reader.read(str(found.path)).assert_existing_objects_matched()
        if late:  # EMA switched on for a run whose checkpoints predate it: start the average from the restored G
            self.ema.copy_from_source()
            self.log("the checkpoint has no EMA of G yet: the average starts from the restored generator")
        self.step = found.step
        if found.epoch is not None:
            self.epoch = found.epoch
        else:  # an old checkpoint with no record of its epoch: the run's fixed steps per epoch tell it
            per_epoch = read_json(self.run.status_path, {}).get("steps_per_epoch")
            self.epoch = found.step // per_epoch if isinstance(per_epoch, int) and per_epoch > 0 else 0

    def checkpoint(self) -> None:
        """Write to a temporary folder, rename it, then point latest.json at it: a kill at any moment leaves
        the previous checkpoint intact."""
        root = self.run.checkpoints_dir
        root.mkdir(exist_ok=True)
        name = f"step_{self.step:08d}"
        tmp = root / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        self.ckpt.write(str(tmp / "ckpt"))
        # its own record of where it stands, inside the folder, so a lost latest.json loses nothing
        atomic_write_json(tmp / "meta.json", {"epoch": self.epoch, "step": self.step, "time": time.time()})
        final = root / name
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        atomic_write_json(root / "latest.json", {"dir": name, "epoch": self.epoch, "step": self.step,
                                                 "time": time.time()})
        kept = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step_"))
        for old in kept[:-KEEP_CHECKPOINTS]:
            shutil.rmtree(old, ignore_errors=True)
