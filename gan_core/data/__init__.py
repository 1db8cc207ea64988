"""Training and test images as NumPy arrays: MNIST-style sources, folders of image files, labelled splits.

One loader for the trainer, the metrics, the tests and the pages. ``loading`` is the API (load, check, batch);
``mnist`` and ``folders`` read each kind of source; ``cache`` keeps decoded folders; ``labelled`` holds the
classes of the digit-like sources; ``pairs`` makes image-to-image training pairs. Nothing here imports
TensorFlow until a ``tf.data`` pipeline is asked for.
"""
from .cache import (
           CACHE_ENV,
           CACHE_LIMIT_ENV,
           CacheEntry,
           ImageFile,
           cache_entries,
           cache_limit_bytes,
           cache_root,
           remove_cache_entry,
           stale_cache_temp_files,
           trim_cache,
)
from .fitting import fit_image, unit_to_uint8
from .folders import IMAGE_EXTENSIONS, MIN_IMAGE_SIDE, Unusable, decode_image
from .labelled import (
           CLASS_NAMES,
           DIGIT_DATASETS,
           SPLITS,
           load_labelled,
           locate,
           read_idx_labels,
)
from .load_report import LoadReport
from .loading import (
           PIXEL_RANGES,
           SOURCES,
           check_source,
           load_images,
           load_test_images,
           make_dataset,
)
from .mnist import DATA_ENV, DEBIAN_DATASETS_DIR
from .pairs import (
           DIRECTIONS,
           PAIRING_CHOICES,
           PAIRINGS,
           Pairs,
           Split,
           edges,
           grayscale,
           hole_mask,
           load_domains,
           load_pairs,
           load_split,
           make_pairs,
           masked,
           pairing_makes_input,
           split_side_by_side,
)

__all__ = ["CACHE_ENV", "CACHE_LIMIT_ENV", "CLASS_NAMES", "CacheEntry", "DATA_ENV", "DEBIAN_DATASETS_DIR",
           "DIGIT_DATASETS", "DIRECTIONS", "IMAGE_EXTENSIONS", "ImageFile", "LoadReport", "MIN_IMAGE_SIDE",
           "PAIRINGS", "PAIRING_CHOICES", "PIXEL_RANGES", "Pairs", "SOURCES", "SPLITS", "Split", "Unusable",
           "cache_entries", "cache_limit_bytes", "cache_root", "check_source", "decode_image", "edges",
           "fit_image", "grayscale", "hole_mask", "load_domains", "load_images", "load_labelled",
           "load_pairs", "load_split", "load_test_images", "locate", "make_dataset", "make_pairs", "masked",
           "pairing_makes_input", "read_idx_labels", "remove_cache_entry", "split_side_by_side",
           "stale_cache_temp_files", "trim_cache", "unit_to_uint8"]
