"""What the image-to-image trainers (Pix2Pix in :mod:`.pix2pix_step`, CycleGAN in :mod:`.cyclegan_step`) share.

They subclass :class:`gan_core.train.loop.Trainer` and replace only what differs: the models, the data
(pairs, or two domains, each with held-out images), the step, the snapshot grid (input | output | target rows of
fixed held-out images instead of fixed latents) and the quality figures. Epochs, metrics windows, checkpoints,
stop/resume and NaN roll-backs are the base loop's, so the app's live view, Snapshots page and CLI work unchanged.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError
from ..files import pictures
from .loop import Trainer

EXAMPLES = 32  # held-out examples saved in the run folder (examples.npz): the grids' and the Translate page's
PER_ROW = 2  # a Pix2Pix grid row holds two input | output | target triplets
QUICK_EVAL_N = 500  # images per quality evaluation during training (eval_every)



class TranslationTrainer(Trainer):
    """What both image-to-image trainers share: checks, held-out examples on disk, no XLA, no latents."""

    def build(self) -> None:
        if self.cfg.strategy != "default":
            raise ConfigError("image-to-image runs train on one device for now: leave strategy at default")
        super().build()

    def save_examples(self, **arrays: np.ndarray) -> dict[str, np.ndarray]:
        """The first EXAMPLES held-out images, saved once as uint8 and read back on every resume (like fixed_z), so
        every epoch's grid shows the same pictures even if the data changes on disk."""
        stored = self.run.examples()
        if not stored:
            stored = {k: pictures.to_uint8(v[:EXAMPLES], "tanh") for k, v in arrays.items()}
            self.run.write_examples(stored)
        return {k: v.astype(np.float32) / 127.5 - 1.0 for k, v in stored.items()}

    def measure_quality(self, epoch: int) -> dict[str, Any]:
        return self.quality(self.cfg.eval_n or QUICK_EVAL_N)
