"""OpenAI's live catalogue, or that of any OpenAI-compatible server (Ollama, vLLM, LiteLLM...), via the openai SDK.

`GET /v1/models` says only a model's id, owner and creation time: modalities and token limits stay empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import openai
from openai.types import Model

from apis.shared.clock import to_iso
from apis.shared.config import ProviderSettings
from apis.shared.errors import ProviderUnavailableError
from apis.shared.providers.listing.models import (
    ProviderModel,
    ProviderModelList,
    model_list,
    reported,
    status_failure,
    unexpected,
    unreachable,
)

# A local compatible server needs no key, but the SDK refuses to start without one.
_PLACEHOLDER_API_KEY = "not-needed"
# One retry of a timeout, a refused connection, a 429 or a 5xx: an admin is waiting on the page.
_MAX_RETRIES = 1


def _label(settings: ProviderSettings) -> str:
    return "OpenAI" if settings.openai_base_url is None else "The OpenAI-compatible server at OPENAI_BASE_URL"


@contextmanager
def _provider_errors(settings: ProviderSettings) -> Iterator[None]:
    """Raise the ProviderError matching any failure of the SDK inside the block."""
    label = _label(settings)
    try:
        yield
    except openai.APIStatusError as exc:
        raise reported(status_failure(label, exc.status_code, credentials="OPENAI_API_KEY"), exc) from exc
    except openai.APIConnectionError as exc:  # APITimeoutError is one too
        raise reported(unreachable(label), exc) from exc
    except openai.OpenAIError as exc:
        raise reported(unexpected(label), exc) from exc


def _provider_model(model: Model, provider_name: str) -> ProviderModel:
    # The SDK does not validate answers, and some compatible servers leave out `created` or `owned_by`.
    details: dict[str, Any] = {}
    if model.owned_by:
        details["ownedBy"] = model.owned_by
    if isinstance(model.created, int):
        details["created"] = to_iso(datetime.fromtimestamp(model.created, UTC))
    return ProviderModel(
        model_id=model.id, model_name=model.id, provider="openai", provider_name=provider_name, details=details
    )


async def list_openai_models(settings: ProviderSettings) -> ProviderModelList:
    """Every model the OpenAI endpoint offers; 503 when neither a key nor a base URL is set, 502 on failure."""
    if settings.openai_api_key is None and settings.openai_base_url is None:
        raise ProviderUnavailableError(
            "OpenAI is not configured: set OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)"
        )
    provider_name = "OpenAI" if settings.openai_base_url is None else "OpenAI-compatible"
    models: list[ProviderModel] = []
    with _provider_errors(settings):
        async with openai.AsyncOpenAI(
            api_key=settings.openai_api_key or _PLACEHOLDER_API_KEY,
            base_url=settings.openai_base_url,
            timeout=settings.provider_timeout_seconds,
            max_retries=_MAX_RETRIES,
        ) as client:
            # The paginator fetches every page the API announces (today's /v1/models sends one).
            async for model in client.models.list():
                models.append(_provider_model(model, provider_name))
    return model_list("openai", models)
