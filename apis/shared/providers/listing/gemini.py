"""Gemini's live catalogue (the Gemini Developer API, by API key), through the google-genai SDK.

The listing holds embedding and other non-chat models too: only those that support `generateContent` can
answer a turn, so only those are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# The SDK's HTTP client (a dependency of google-genai 2): its transport errors reach us unwrapped.
import httpx
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from apis.shared.config import ProviderSettings
from apis.shared.errors import ProviderUnavailableError
from apis.shared.providers.genai_transport import httpx_client_args
from apis.shared.providers.listing.models import (
    GeminiModelSummary,
    reported,
    status_failure,
    unexpected,
    unreachable,
)

CHAT_METHOD = "generateContent"
_LABEL = "Gemini"
_CREDENTIALS = "GEMINI_API_KEY (or GOOGLE_API_KEY)"
_MODEL_PREFIX = "models/"
_PAGE_SIZE = 100
# One retry of a timeout, a refused connection, a 408, a 429 or a 5xx: an admin is waiting on the page.
_ATTEMPTS = 2
_RETRY_DELAY_SECONDS = 0.5


def _key_refused(exc: genai_errors.APIError) -> bool:
    """Whether Google refused the API key, which it answers with 400 and the reason API_KEY_INVALID."""
    error = exc.details.get("error", {}) if isinstance(exc.details, dict) else {}
    details = error.get("details", []) if isinstance(error, dict) else []
    return any(isinstance(detail, dict) and detail.get("reason") == "API_KEY_INVALID" for detail in details)


@contextmanager
def _provider_errors() -> Iterator[None]:
    """Raise the ProviderError matching any failure of the SDK inside the block."""
    try:
        yield
    except genai_errors.APIError as exc:
        failure = status_failure(_LABEL, exc.code, credentials=_CREDENTIALS, key_refused=_key_refused(exc))
        raise reported(failure, exc) from exc
    except httpx.TransportError as exc:
        raise reported(unreachable(_LABEL), exc) from exc
    except (httpx.HTTPError, genai_errors.UnknownApiResponseError, pydantic.ValidationError) as exc:
        raise reported(unexpected(_LABEL), exc) from exc


def _summary(model: types.Model) -> GeminiModelSummary:
    model_id = (model.name or "").removeprefix(_MODEL_PREFIX)
    return GeminiModelSummary(
        name=model_id,
        base_model_id=None,
        version=model.version,
        display_name=model.display_name or model_id,
        description=model.description,
        input_token_limit=model.input_token_limit,
        output_token_limit=model.output_token_limit,
        supported_generation_methods=list(model.supported_actions or []),
        thinking=model.thinking,
        temperature=model.temperature,
        max_temperature=model.max_temperature,
        top_p=model.top_p,
        top_k=model.top_k,
    )


async def list_gemini_models(settings: ProviderSettings) -> list[GeminiModelSummary]:
    """Every chat model Gemini offers, by id; 503 when no API key is set, 502 when Gemini fails."""
    if not settings.gemini_api_key:
        raise ProviderUnavailableError(f"Gemini is not configured: set {_CREDENTIALS}")
    http_options = types.HttpOptions(
        base_url=settings.gemini_base_url,
        timeout=round(settings.provider_timeout_seconds * 1000),  # the SDK counts in milliseconds
        retry_options=types.HttpRetryOptions(attempts=_ATTEMPTS, initial_delay=_RETRY_DELAY_SECONDS),
        async_client_args=httpx_client_args(),
    )
    models: list[GeminiModelSummary] = []
    with (
        _provider_errors(),
        genai.Client(api_key=settings.gemini_api_key, vertexai=False, http_options=http_options) as client,
    ):
        async with client.aio as aio:
            # The pager fetches the next page as the loop reaches the end of the current one.
            async for model in await aio.models.list(config=types.ListModelsConfig(page_size=_PAGE_SIZE)):
                if CHAT_METHOD in (model.supported_actions or []):
                    models.append(_summary(model))
    return sorted(models, key=lambda model: model.name)
