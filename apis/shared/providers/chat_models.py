"""Build the Strands model that runs a turn on a managed model, from the provider settings.

A provider that is not configured is a 503 naming the missing setting, raised before anything streams.
Models are cached by their whole configuration, with one SDK client each: building a client costs tens of
milliseconds (botocore's service models, a TLS context), and reusing it keeps its connections open. A model
object is safe to share between concurrent turns. An async client belongs to the event loop it first ran
on, so the cache key includes the running loop (a service has one; a test suite has many).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from apis.shared.config import InferenceSettings, ProviderSettings
from apis.shared.errors import ProviderUnavailableError
from apis.shared.models import ManagedModel

if TYPE_CHECKING:
    from strands.models import Model

# Each SDK (and Strands' model for it) is imported where its model is built: on a small machine each takes
# a second or more to import, a deployment uses one or two, and a service must start in two seconds.

# An OpenAI-compatible server of one's own (Ollama, vLLM) needs no key, but the SDK insists on one.
_PLACEHOLDER_API_KEY = "not-needed"
_OPENAI_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True, slots=True)
class TurnOptions:
    """What a request may set on the model for one turn."""

    temperature: float | None = None
    max_tokens: int | None = None
    caching: bool = False


@dataclass(frozen=True, slots=True)
class _ModelKey:
    provider: str
    model_id: str
    options: TurnOptions
    region: str
    settings: ProviderSettings
    inference: InferenceSettings
    event_loop: int


def build_chat_model(
    model: ManagedModel,
    options: TurnOptions,
    *,
    providers: ProviderSettings,
    inference: InferenceSettings,
    region: str,
) -> Model:
    """The Strands model for `model` with the turn's options; ProviderUnavailableError if not configured."""
    caching = options.caching and model.supports_caching
    key_options = TurnOptions(options.temperature, options.max_tokens, caching)
    loop = id(asyncio.get_running_loop())
    return _cached_model(_ModelKey(model.provider, model.model_id, key_options, region, providers, inference, loop))


@lru_cache(maxsize=128)
def _cached_model(key: _ModelKey) -> Model:
    match key.provider:
        case "local":
            from apis.shared.providers.local import LocalChatModel

            return LocalChatModel(
                model_id=key.model_id,
                words_per_delta=key.inference.local_provider_delta_words,
                delta_delay_ms=key.inference.local_provider_delta_delay_ms,
            )
        case "openai":
            return _openai(key)
        case "gemini":
            return _gemini(key)
        case "bedrock":
            return _bedrock(key)
    raise ProviderUnavailableError(f"unknown provider {key.provider!r}")


def _params(key: _ModelKey, max_tokens_name: str) -> dict[str, object]:
    params: dict[str, object] = {}
    if key.options.temperature is not None:
        params["temperature"] = key.options.temperature
    if key.options.max_tokens is not None:
        params[max_tokens_name] = key.options.max_tokens
    return params


def _openai(key: _ModelKey) -> Model:
    from strands.models import CacheConfig

    from apis.shared.providers.openai_stream import OpenAIStreamModel
    from apis.shared.providers.provider_http import ProviderHttp

    settings = key.settings
    if not settings.openai_api_key and not settings.openai_base_url:
        raise ProviderUnavailableError(
            "OpenAI is not configured: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)",
            code="provider_not_configured",
        )
    # One pooled client per model (that is, per configuration and event loop): turns reuse its connections.
    # No retries, as before: a failed turn is reported to the client, who decides whether to retry.
    http = ProviderHttp(timeout_seconds=settings.provider_timeout_seconds)
    cache = CacheConfig(strategy="auto") if key.options.caching else None
    return OpenAIStreamModel(
        http=http,
        base_url=settings.openai_base_url or _OPENAI_BASE_URL,
        api_key=settings.openai_api_key or _PLACEHOLDER_API_KEY,
        model_id=key.model_id,
        params=_params(key, "max_tokens"),
        cache_config=cache,
    )


def _gemini(key: _ModelKey) -> Model:
    from google import genai
    from strands.models.gemini import GeminiModel

    from apis.shared.providers.gemini_stream import GeminiStreamModel
    from apis.shared.providers.genai_transport import httpx_client_args
    from apis.shared.providers.provider_http import ProviderHttp

    settings = key.settings
    if not settings.gemini_api_key:
        raise ProviderUnavailableError(
            "Gemini is not configured: set GEMINI_API_KEY (or GOOGLE_API_KEY)", code="provider_not_configured"
        )
    http_options: dict[str, object] = {
        "timeout": int(settings.provider_timeout_seconds * 1000),
        "retry_options": {"attempts": 1},  # as for the other providers: the client decides whether to retry
        "async_client_args": httpx_client_args(),  # the Vertex AI path's stream, and the SDK's other calls
    }
    if settings.gemini_base_url:
        http_options["base_url"] = settings.gemini_base_url
    client = genai.Client(api_key=settings.gemini_api_key, http_options=http_options)  # type: ignore[arg-type]
    params = _params(key, "max_output_tokens")
    if client.vertexai:  # Vertex AI's wire differs (GOOGLE_GENAI_USE_VERTEXAI): the SDK's own stream serves it
        return GeminiModel(client=client, model_id=key.model_id, params=params)
    # The stream goes over this pooled client (gemini_stream.py); the SDK's client builds the request.
    http = ProviderHttp(timeout_seconds=settings.provider_timeout_seconds)
    return GeminiStreamModel(
        http=http,
        client=client,
        timeout_seconds=settings.provider_timeout_seconds,
        model_id=key.model_id,
        params=params,
    )


def _bedrock(key: _ModelKey) -> Model:
    import boto3
    from botocore.config import Config
    from strands.models import CacheConfig

    from apis.shared.providers.bedrock_stream import BedrockStreamModel
    from apis.shared.providers.provider_http import ProviderHttp

    region = key.settings.bedrock_region or key.region
    session = boto3.session.Session(region_name=region)
    if session.get_credentials() is None:
        raise ProviderUnavailableError(
            "Bedrock is not configured: no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
            " AWS_PROFILE, or an instance role)",
            code="provider_not_configured",
        )
    timeout = key.settings.provider_timeout_seconds
    config = Config(
        connect_timeout=timeout, read_timeout=timeout, retries={"mode": "standard", "total_max_attempts": 1}
    )
    optional: dict[str, object] = {}
    if key.options.temperature is not None:
        optional["temperature"] = key.options.temperature
    if key.options.max_tokens is not None:
        optional["max_tokens"] = key.options.max_tokens
    if key.options.caching:
        optional["cache_config"] = CacheConfig(strategy="auto")
    # ConverseStream goes over this pooled client (bedrock_stream.py); boto3's client, built for the endpoint it
    # resolves, serves what is not a stream. No retries there either: the client decides.
    http = ProviderHttp(timeout_seconds=timeout)
    return BedrockStreamModel(
        http=http,
        boto_session=session,
        boto_client_config=config,
        model_id=key.model_id,
        **optional,
    )
