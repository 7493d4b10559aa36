"""OpenAI's live catalogue, or that of any OpenAI-compatible server (Ollama, vLLM, LiteLLM...), via the openai SDK.

`GET /v1/models` says only a model's id, owner, creation time and object type; the SDK does not check the answer,
and some compatible servers send no more than the id.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import openai
from openai.types import Model

from apis.shared.config import ProviderSettings
from apis.shared.errors import ProviderUnavailableError
from apis.shared.providers.listing.models import (
    OpenAIModelSummary,
    reported,
    status_failure,
    unexpected,
    unreachable,
)

# A local compatible server needs no key, but the SDK refuses to start without one.
_PLACEHOLDER_API_KEY = "not-needed"
# One retry of a timeout, a refused connection, a 429 or a 5xx: an admin is waiting on the page.
_MAX_RETRIES = 1

T = TypeVar("T")


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


def _as(kind: type[T], value: Any) -> T | None:
    """`value` if the server sent one of `kind`, else None: the SDK passes on whatever came."""
    # bool is an int to isinstance, and never a creation time.
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def _summary(model: Model) -> OpenAIModelSummary:
    return OpenAIModelSummary(
        id=model.id,
        created=_as(int, model.created),
        owned_by=_as(str, model.owned_by),
        object=_as(str, model.object),
    )


async def list_openai_models(settings: ProviderSettings) -> list[OpenAIModelSummary]:
    """Every model the OpenAI endpoint offers, by id; 503 when neither a key nor a base URL is set, 502 on failure."""
    if settings.openai_api_key is None and settings.openai_base_url is None:
        raise ProviderUnavailableError(
            "OpenAI is not configured: set OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)"
        )
    models: list[OpenAIModelSummary] = []
    with _provider_errors(settings):
        async with openai.AsyncOpenAI(
            api_key=settings.openai_api_key or _PLACEHOLDER_API_KEY,
            base_url=settings.openai_base_url,
            timeout=settings.provider_timeout_seconds,
            max_retries=_MAX_RETRIES,
        ) as client:
            # The paginator fetches every page the API announces (today's /v1/models sends one).
            async for model in client.models.list():
                models.append(_summary(model))
    return sorted(models, key=lambda model: model.id)
