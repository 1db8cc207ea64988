"""GAN Explorer's engine: train, watch and explore GANs on images, with no UI in it.

Modules: ``config`` (one dataclass per run), ``models`` (architecture registry), ``data``, ``train``,
``runs`` (the run directory contract), ``latent`` (z sampling and interpolation), ``export`` (grids, GIFs),
``launch`` (training in its own process), ``cli`` (``python -m gan_core``).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of users' terminals

__version__ = "0.1.0"
