"""Every provider test starts clean; the fakes themselves are fixtures in tests/fixtures/providers.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_provider_environment(no_provider_environment: None) -> None:
    """Every test here starts with no provider configured and no AWS credentials anywhere."""
