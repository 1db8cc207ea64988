"""GAN Explorer's engine: train, watch and explore GANs on images, with no UI in it.

A library in layers, each importing only from those below (top first; the README's "Architecture" has the map):

- ``cli`` (``python -m gan_core``); ``launch`` (training in its own process), ``storage``, ``uploads``
- ``tasks``: latent | pix2pix | cyclegan, each mapped to its trainer, loader, evaluation and config section
- ``train`` (the shared loop and one trainer per task); ``explore`` (export, directions, projection)
- ``evaluation`` (metrics beside real-data floors); ``inference`` (Generator, Translator, the safe loader)
- ``runs`` (the run-directory contract); ``preflight``; ``config`` (one dataclass per run)
- ``models`` (architecture registry), ``algorithm`` (objectives, DiffAugment, EMA of G), ``devices``
- ``data`` (all loading); ``files`` (atomic writes, pictures), ``latent_space``; ``errors``

Start with ``tasks.train(runs.create_run(None, config.from_preset("mnist_dcgan")))``.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of users' terminals

__version__ = "0.1.0"
