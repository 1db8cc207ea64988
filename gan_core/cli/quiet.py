"""TensorFlow's C++ start-up lines kept out of the CLI's terminal (``--verbose`` or GAN_EXPLORER_VERBOSE=1 keeps them).

Importing TensorFlow writes "All log messages before absl::InitializeLog() is called are written to STDERR" and "Could
not find cuda drivers on your machine" to stderr -- twice from one process and one import, since two of TensorFlow's
shared libraries (libtensorflow_framework.so.2 and the profiler's _pywrap_profiler_plugin.so) each carry the CUDA stub
whose static initialiser logs them. They come before any log level is read, so TF_CPP_MIN_LOG_LEVEL cannot hide them:
the CLI imports this module first, which imports TensorFlow once with file descriptor 2 pointed at /dev/null. No
project import here: this runs before the CLI's modules, which would otherwise import TensorFlow loudly.
"""
from __future__ import annotations

import os
import sys

VERBOSE_ENV = "GAN_EXPLORER_VERBOSE"


def verbose(argv: list[str]) -> bool:
    """Whether the user asked for TensorFlow's own start-up lines."""
    return "--verbose" in argv or os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def import_tensorflow(argv: list[str]) -> None:
    """Import TensorFlow and find its GPUs, quietly unless `argv` says --verbose; a Python error still surfaces."""
    if verbose(argv) or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow

            # CUDA's start too, once per process: where no driver loads it logs "failed call to cuInit" (as an
            # error, at TF_CPP_MIN_LOG_LEVEL 2) the first time TensorFlow looks for GPUs. Listing them leaves
            # memory growth and visible devices still settable (gan_core.devices sets them later).
            tensorflow.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)


import_tensorflow(sys.argv[1:])  # on import: `gan_core.cli` imports this module before any of its own
