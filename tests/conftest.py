"""Shared fixtures for the test suite."""

from pathlib import Path

import pytest


@pytest.fixture
def shared_data() -> Path:
    """The real datasets beside the checkout (../shared/data); tests skip where it is absent."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent")
    return path
