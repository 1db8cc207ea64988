"""Training: the loop every task shares (:mod:`.loop`; a run of it is :mod:`.session`) and one trainer per task.

:mod:`.latent_gan` is the latent GAN (z -> image) of the reference notes; :mod:`.pix2pix_step` and
:mod:`.cyclegan_step` the image-to-image chapters, sharing :mod:`.translation_trainer`. Which trainer a run uses is its
task's (gan_core.tasks), so start training with ``gan_core.tasks.train(run)``.
"""
from .cyclegan_step import CycleGANTrainer
from .latent_gan import LatentTrainer
from .loop import Diverged, Trainer
from .pix2pix_step import Pix2PixTrainer
from .session import joins_as_worker, record_failure, run_as_worker, run_training

__all__ = ["CycleGANTrainer", "Diverged", "LatentTrainer", "Pix2PixTrainer", "Trainer", "joins_as_worker",
           "record_failure", "run_as_worker", "run_training"]
