"""A provider's live catalogue as an admin sees it, and the failures a listing reports.

Every provider is described in the same shape, so the admin UI shows Bedrock, OpenAI and Gemini alike; what
only one provider says goes to `details`, with camelCase keys like the rest of the wire.

A listing fails with
    ProviderUnavailableError (503)  the provider is not configured: the message names the setting to set
    ProviderError (502)             the provider answered an error, or could not be reached or timed out
    RuleViolation (400)             Bedrock refused the caller's filters
and its message names the provider and the status code, never the SDK's text, which goes to the log.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, TypeVar

from pydantic import Field

from apis.shared.errors import AppError, ProviderError
from apis.shared.schemas import ApiModel

logger = logging.getLogger("apis.shared.providers.listing")

ProviderKind = Literal["bedrock", "openai", "gemini"]
E = TypeVar("E", bound=AppError)


class ProviderModel(ApiModel):
    """One model a provider offers, in the shape of a managed model's catalogue fields."""

    model_id: str
    model_name: str
    provider: ProviderKind
    provider_name: str
    # Lower case ("text", "image"); empty when the provider's listing does not say.
    input_modalities: list[str] = Field(default_factory=list)
    output_modalities: list[str] = Field(default_factory=list)
    # None when the provider's listing does not say: a guess would end up in the catalogue as fact.
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ProviderModelList(ApiModel):
    """A provider's whole catalogue: every page, already fetched."""

    models: list[ProviderModel]
    total_count: int
    provider: ProviderKind


def model_list(provider: ProviderKind, models: list[ProviderModel]) -> ProviderModelList:
    """The list sorted by model id, so that the admin UI shows the same order on every visit."""
    ordered = sorted(models, key=lambda model: model.model_id)
    return ProviderModelList(models=ordered, total_count=len(ordered), provider=provider)


def reported(error: E, exc: BaseException) -> E:
    """`error` after logging it with the SDK's exception, which its message must not carry."""
    logger.warning("model listing failed: %s", error.detail, exc_info=exc)
    return error


def status_failure(provider_label: str, status: int, *, credentials: str, key_refused: bool = False) -> ProviderError:
    """The error for an HTTP error answer; `credentials` says what to check when the caller was refused.

    `key_refused` is for a provider that refuses a key with another status (Gemini: 400 API_KEY_INVALID).
    """
    if key_refused or status in (401, 403):
        return ProviderError(
            f"{provider_label} refused the credentials (HTTP {status}): check {credentials}",
            code="provider_auth_failed",
        )
    if status == 429:
        return ProviderError(f"{provider_label} is limiting requests (HTTP 429): try again shortly")
    return ProviderError(
        f"{provider_label} answered HTTP {status} to the model listing; the service log has the details"
    )


def unreachable(provider_label: str) -> ProviderError:
    """The error for a refused, dropped or timed-out connection."""
    return ProviderError(
        f"{provider_label} could not be reached (connection refused, dropped or timed out);"
        " the service log has the details"
    )


def unexpected(provider_label: str) -> ProviderError:
    """The error for any other failure of the SDK, such as an answer it could not read."""
    return ProviderError(f"{provider_label}'s model listing failed; the service log has the details")
