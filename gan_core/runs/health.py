"""Warning signs in a run's own records, for the live view: mode collapse, and a D that has won outright."""
from __future__ import annotations

from typing import Any, Sequence

from ..algorithm import objectives

COLLAPSE_DIVERSITY = 0.5  # fakes less than half as varied as the reals (evaluation.diversity_ratio)
COVERAGE_SHARE = 0.8  # digits: fewer than 8 of 10 classes drawn
KL_LIMIT = 0.3  # digits: the class mix this far from the real one (KL of the histograms; healthy runs <0.25 by epoch 2)
D_WON = 0.98  # D's accuracy on the epoch's probe (judged as its objective reads D): G learns little from such a D
TRY = ("what to try: a lower D learning rate or label smoothing (real label 0.9), DiffAugment, fewer D steps per G "
       "step, or resume from an earlier checkpoint with a smaller learning rate")


def warnings(discriminator: Sequence[dict[str, Any]], quality: Sequence[dict[str, Any]]) -> list[str]:
    """The run's warnings now, from its latest records: each one says what crossed which line, and what to try.
    `discriminator` are metrics.jsonl's kind "discriminator" records, `quality` quality.jsonl's."""
    found = []
    if discriminator:
        last = discriminator[-1]
        diversity = last.get("diversity")
        if isinstance(diversity, (int, float)) and diversity < COLLAPSE_DIVERSITY:
            found.append(f"Mode collapse likely at epoch {last['epoch']}: the samples are only {diversity:.2f}x as "
                         f"varied as real images (below {COLLAPSE_DIVERSITY}); G draws a few images whatever z. {TRY}.")
        accuracy = last.get("d_accuracy")
        if last.get("epoch", 0) > 0 and isinstance(accuracy, (int, float)) and accuracy >= D_WON:
            rule = objectives.reading_of([last]).rule  # how its objective decides "D is right"
            found.append(f"D wins outright at epoch {last['epoch']} (accuracy {accuracy:.0%} on real vs fake, "
                         f"{rule}): its verdicts saturate and G learns little. {TRY}.")
    coverage = [r for r in quality if r.get("metric") == "mode_coverage"]  # digits: the classifier's class mix
    if coverage:
        last = coverage[-1]
        classes, total, kl = last.get("classes_covered"), last.get("num_classes") or 10, last.get("value")
        if isinstance(classes, int) and classes < COVERAGE_SHARE * total:
            found.append(f"Mode collapse at epoch {last['epoch']}: only {classes} of {total} digit classes are "
                         f"drawn. {TRY}.")
        elif isinstance(kl, (int, float)) and kl > KL_LIMIT:
            found.append(f"The class mix is lopsided at epoch {last['epoch']} (KL {kl:.2f} > {KL_LIMIT}): G favours "
                         f"a few classes. {TRY}.")
    return found
