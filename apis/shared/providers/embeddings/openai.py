"""Embeddings through OpenAI's `/v1/embeddings`, or that of any OpenAI-compatible server (Ollama, vLLM, LiteLLM).

`dimensions` is sent to OpenAI's text-embedding-3 models only, which shorten their vectors to it. Older models
(text-embedding-ada-002) refuse the parameter, and a compatible server's models mostly refuse or ignore it, so
any other model must answer EMBEDDING_DIMENSIONS on its own; when it does not, every call fails with a
ProviderError naming the size it answered.

The SDK asks for base64 vectors unless told otherwise, and decodes them itself; not every compatible server
can send base64, so vectors are asked for as JSON floats (`encoding_format="float"`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import openai

from apis.shared.config import ProviderSettings
from apis.shared.errors import ConfigurationError
from apis.shared.providers.embeddings.base import ProviderEmbedder

# A compatible server of one's own needs no key, but the SDK refuses to start without one.
_PLACEHOLDER_API_KEY = "not-needed"
_SHORTENING_MODELS = "text-embedding-3"
# The longest vector each of OpenAI's shortening models can give.
MAX_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}


def accepts_dimensions(model_id: str) -> bool:
    """Whether the model shortens its vectors to a `dimensions` parameter (OpenAI's text-embedding-3 family)."""
    # `in`, not `startswith`: proxies such as LiteLLM name them `openai/text-embedding-3-small`.
    return _SHORTENING_MODELS in model_id


class OpenAIEmbedder(ProviderEmbedder):
    """`embeddings.create` with a batch of texts per call."""

    provider = "openai"

    def __init__(
        self, client: openai.AsyncOpenAI, *, label: str, model_id: str, dimensions: int, batch_size: int
    ) -> None:
        super().__init__(model_id=model_id, dimensions=dimensions, batch_size=batch_size, label=label)
        self._client = client
        self._send_dimensions = accepts_dimensions(model_id)

    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[object]:
        with self._provider_errors():
            response = await self._client.embeddings.create(
                model=self.model_id,
                input=texts,
                dimensions=self.dimensions if self._send_dimensions else openai.omit,
                encoding_format="float",
            )
        data = list(response.data)
        # Each item says which input it embeds; OpenAI answers in order, a compatible server might not.
        if sorted(item.index for item in data) != list(range(len(data))):
            raise self.invalid("answered embeddings whose indexes do not match the texts sent")
        return [item.embedding for item in sorted(data, key=lambda item: item.index)]

    @contextmanager
    def _provider_errors(self) -> Iterator[None]:
        """Raise our error for any failure of the SDK inside the block (its retries spent)."""
        try:
            yield
        except openai.APIStatusError as exc:
            raise self.reported(self.status_failure(exc.status_code, credentials="OPENAI_API_KEY"), exc) from exc
        except openai.APIConnectionError as exc:  # APITimeoutError is one too
            raise self.reported(self.unreachable(), exc) from exc
        except openai.OpenAIError as exc:
            raise self.reported(self.unexpected(), exc) from exc

    async def aclose(self) -> None:
        await self._client.close()


def build_openai_embedder(
    providers: ProviderSettings, *, model_id: str, dimensions: int, batch_size: int, attempts: int
) -> OpenAIEmbedder:
    """The embedder on OPENAI_BASE_URL (OpenAI's own API when unset); ConfigurationError if not configured."""
    if not providers.openai_api_key and not providers.openai_base_url:
        raise ConfigurationError(
            "EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)"
        )
    longest = MAX_DIMENSIONS.get(model_id)
    if longest is not None and dimensions > longest:
        raise ConfigurationError(f"EMBEDDING_DIMENSIONS is {dimensions}, but {model_id} gives at most {longest}")
    client = openai.AsyncOpenAI(
        api_key=providers.openai_api_key or _PLACEHOLDER_API_KEY,
        base_url=providers.openai_base_url,
        timeout=providers.provider_timeout_seconds,
        max_retries=attempts - 1,
    )
    label = "OpenAI" if providers.openai_base_url is None else "The OpenAI-compatible server at OPENAI_BASE_URL"
    return OpenAIEmbedder(client, label=label, model_id=model_id, dimensions=dimensions, batch_size=batch_size)
