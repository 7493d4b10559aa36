"""Translate what a provider's SDK (or Strands around it) raises into ProviderError, at the edge of a turn.

The person sees which provider failed and how (status, throttling, unreachable), never the SDK's own text,
which goes to the log with the traceback. An exception that is not a provider's is returned as None: it
is a bug, and the caller re-raises it.
"""

from __future__ import annotations

import logging

from apis.shared.errors import ProviderError
from apis.shared.providers.status_errors import ProviderStatusError

logger = logging.getLogger(__name__)
_LABELS = {"bedrock": "Bedrock", "openai": "OpenAI", "gemini": "Gemini", "local": "The local model"}


def provider_failure(exc: BaseException, provider: str) -> ProviderError | None:
    """The ProviderError for `exc`, logged with its traceback; None if `exc` did not come from the provider."""
    from strands.types.exceptions import EventLoopException

    if isinstance(exc, EventLoopException) and exc.__cause__ is not None:
        exc = exc.__cause__
    label = _LABELS.get(provider, provider)
    failure = _translate(exc, label)
    if failure is not None:
        logger.warning("model provider failed: %s", failure.code, exc_info=exc, extra={"provider": provider})
    return failure


def _translate(exc: BaseException, label: str) -> ProviderError | None:
    # Imported here, not at the top: by the time a provider failed, its SDK is loaded, and the services
    # start without loading SDKs they may never use.
    import aiohttp
    import httpx
    import openai
    from botocore.exceptions import BotoCoreError, ClientError
    from google.genai import errors as genai_errors
    from strands.types.exceptions import (
        ContextWindowOverflowException,
        MaxTokensReachedException,
        ModelThrottledException,
    )

    match exc:
        case ProviderError():
            return exc
        case ModelThrottledException():
            return ProviderError(f"{label} is throttling requests: try again shortly", code="provider_throttled")
        case ContextWindowOverflowException():
            return ProviderError(
                f"the conversation is longer than {label}'s context window", code="context_window_exceeded"
            )
        case MaxTokensReachedException():
            return ProviderError(f"{label} reached its output token limit", code="max_tokens_reached")
        case openai.APIStatusError() | ProviderStatusError():
            return _status(label, exc.status_code)
        case genai_errors.APIError():
            return _status(label, exc.code)
        case ClientError():
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return _status(label, int(status))
        case openai.APIConnectionError() | aiohttp.ClientError() | httpx.TransportError() | BotoCoreError():
            return ProviderError(f"{label} could not be reached", code="provider_unreachable")
        case openai.APIError():  # an error the server sent inside its stream
            return ProviderError(f"{label} failed while answering", code="provider_error")
    return None


def _status(label: str, status: int) -> ProviderError:
    if status in (401, 403):
        return ProviderError(f"{label} refused the credentials (HTTP {status})", code="provider_auth_failed")
    if status == 429:
        return ProviderError(f"{label} is throttling requests (HTTP 429): try again shortly", code="provider_throttled")
    return ProviderError(f"{label} failed (HTTP {status})", code="provider_error")
