"""What the provider listing tests share: settings from the environment, and the checks on a failure."""

from __future__ import annotations

import logging

import pytest

from apis.shared.config import ProviderSettings
from apis.shared.errors import AppError

FAKE_ACCESS_KEY_ID = "AKIAFAKEPROVIDERTEST"
LISTING_LOGGER = "apis.shared.providers.listing"


def provider_settings() -> ProviderSettings:
    """The settings the environment gives now, as a service reads them at start (no `.env` file)."""
    return ProviderSettings(_env_file=None)


def assert_reported_without_sdk_text(error: AppError, caplog: pytest.LogCaptureFixture, sdk_text: str) -> None:
    """The person's message leaves out the provider's own text; the log keeps it, with the exception."""
    assert sdk_text not in error.detail
    records = [record for record in caplog.records if record.name == LISTING_LOGGER]
    assert records, "the failure was not logged"
    assert records[-1].levelno == logging.WARNING
    exc_info = records[-1].exc_info
    assert exc_info is not None
    assert sdk_text in str(exc_info[1])
    assert error.detail in records[-1].getMessage()
