"""Each provider's live catalogue as an admin sees it, and the failures a listing reports.

Each provider is described in the shape the reference web client's page for it reads (its
FoundationModelSummary, OpenAIModelSummary and GeminiModelSummary): the names and words of the provider's own
API, in camelCase. A value is what the provider's SDK gave, never a guess: what it does not say is null, or an
empty list where the page counts the items.

A listing fails with
    ProviderUnavailableError (503)  the provider is not configured: the message names the setting to set
    ProviderError (502)             the provider answered an error, or could not be reached or timed out
    RuleViolation (400)             Bedrock refused the caller's filters
and its message names the provider and the status code, never the SDK's text, which goes to the log.
"""

from __future__ import annotations

import logging
from typing import Literal, TypeVar

from apis.shared.errors import AppError, ProviderError
from apis.shared.schemas import ApiModel

logger = logging.getLogger("apis.shared.providers.listing")

ProviderKind = Literal["bedrock", "openai", "gemini"]
E = TypeVar("E", bound=AppError)


class BedrockModelSummary(ApiModel):
    """A foundation model as ListFoundationModels summarizes it."""

    model_id: str
    model_name: str
    provider_name: str
    # Bedrock's words, upper case (TEXT, IMAGE, EMBEDDING), as managed models spell them.
    input_modalities: list[str]
    output_modalities: list[str]
    # None when Bedrock does not say (the field is optional in its API).
    response_streaming_supported: bool | None
    customizations_supported: list[str]
    inference_types_supported: list[str]
    # The lifecycle's status (ACTIVE, LEGACY), which is all the page shows of it.
    model_lifecycle: str | None


class OpenAIModelSummary(ApiModel):
    """A model as `GET /v1/models` describes it; compatible servers may leave out all but `id`."""

    id: str
    # Unix seconds, as OpenAI gives it: the page formats it as a date.
    created: int | None
    owned_by: str | None
    object: str | None


class GeminiModelSummary(ApiModel):
    """A model as Gemini's `models.list` describes it, through google-genai."""

    # The model's id, without the resource prefix `models/`: what a chat turn and a managed model name it by.
    name: str
    # The API's baseModelId, which google-genai does not carry: always None, kept for the page's shape.
    base_model_id: str | None
    version: str | None
    display_name: str
    description: str | None
    input_token_limit: int | None
    output_token_limit: int | None
    # The API's supportedGenerationMethods (google-genai's `supported_actions`).
    supported_generation_methods: list[str]
    thinking: bool | None
    temperature: float | None
    max_temperature: float | None
    top_p: float | None
    top_k: int | None


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
