"""How good a generator is, each figure beside its real-data floor (see :mod:`.metrics` for the definitions).

``metric_registry`` (the metric registry and the bounds of n), ``metrics`` (the metric functions, generate, compute,
evaluate), ``numerics`` (Fréchet distance, KL, scores), ``swd`` (Laplacian pyramid, sliced Wasserstein),
``reference`` (real-data statistics and their disk cache), ``classifier`` (the evaluator CNNs), ``translation_quality``
(Pix2Pix and CycleGAN figures) and ``quality_report`` (scoring saved epochs for the CLI).
"""
from .classifier import (
                       Evaluator,
                       build_classifier,
                       evaluator_path,
                       load_evaluator,
                       to_evaluator_input,
)
from .discriminator import discriminator_view
from .metrics import compute, evaluate, generate, requested_labels
from .numerics import (
                       COVERAGE_SHARE,
                       classifier_score_from_probs,
                       frechet_distance,
                       frechet_distance_of,
                       gaussian_stats,
                       kl_divergence,
                       mode_coverage_from_probs,
                       trace_sqrt_product,
)
from .reference import (
                       REFERENCE_SEED,
                       Reference,
                       Sample,
                       clear_memory_cache,
                       reference_for,
                       subset_indices,
)
from .metric_registry import (
                       DEFAULT_N,
                       MAX_N,
                       MIN_N,
                       Metric,
                       check_n,
                       check_seeds,
                       data_kind,
                       get,
                       names,
                       register,
)
from .quality_report import format_table, parse_epochs, summary_line
from .swd import (
                       SWD_SETTINGS,
                       laplacian_pyramid,
                       pyr_down,
                       pyr_up,
                       sliced_wasserstein,
                       swd,
)

__all__ = ["COVERAGE_SHARE", "DEFAULT_N", "MAX_N", "MIN_N", "REFERENCE_SEED", "SWD_SETTINGS", "Evaluator", "Metric",
           "Reference", "Sample", "build_classifier", "check_n", "check_seeds", "classifier_score_from_probs",
           "clear_memory_cache", "compute", "data_kind", "discriminator_view", "evaluate", "evaluator_path",
           "format_table", "frechet_distance", "frechet_distance_of", "gaussian_stats", "generate", "get",
           "kl_divergence", "laplacian_pyramid", "load_evaluator", "mode_coverage_from_probs", "names",
           "parse_epochs", "pyr_down", "pyr_up", "reference_for", "register", "requested_labels",
           "sliced_wasserstein", "subset_indices", "summary_line", "swd", "to_evaluator_input",
           "trace_sqrt_product"]
