"""What a load did, for the run's log: where the images came from and what was dropped."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LoadReport:
    """What a load did, so the run's log can say where the images came from and what was dropped."""

    source: str
    path: str | None
    n_images: int
    n_skipped: int
    skipped_examples: list[str] = field(default_factory=list)
    cache_hit: bool = False
    seconds: float = 0.0


def ignore(_message: str) -> None:
    """Default ``log``: loading is silent unless the caller wants a log."""
