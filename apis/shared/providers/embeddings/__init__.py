"""The embedding model of assistants' knowledge bases, chosen by EMBEDDING_PROVIDER: none, bedrock, openai, gemini.

`build_embedder` gives an implementation of `apis.shared.assistants.Embedder` (by its shape: providers and
assistants are peers in the layers, neither imports the other). Each provider's module, and its SDK, is
imported only when that provider is chosen, as for chat models.
"""

from __future__ import annotations

from apis.shared.config import EmbeddingProvider, KnowledgeSettings, ProviderSettings
from apis.shared.providers.embeddings.base import EMBEDDING_ATTEMPTS, ProviderEmbedder

# The model each provider embeds with when EMBEDDING_MODEL_ID is unset.
DEFAULT_MODELS = {
    EmbeddingProvider.BEDROCK: "amazon.titan-embed-text-v2:0",
    EmbeddingProvider.OPENAI: "text-embedding-3-small",
    EmbeddingProvider.GEMINI: "gemini-embedding-001",
}


def build_embedder(
    knowledge: KnowledgeSettings, providers: ProviderSettings, *, region: str, attempts: int = EMBEDDING_ATTEMPTS
) -> ProviderEmbedder | None:
    """The embedder EMBEDDING_PROVIDER names, or None for `none` (lexical search only).

    A `ConfigurationError` names the setting to fix when that provider is not configured or the dimensions
    do not fit the model. `region` is Bedrock's when BEDROCK_REGION is unset. `attempts` bounds each call,
    the first included. The embedder holds an SDK client: build it once, at the composition root, and
    `aclose` it at shutdown.
    """
    provider = knowledge.embedding_provider
    if provider is EmbeddingProvider.NONE:
        return None
    model_id = knowledge.embedding_model_id or DEFAULT_MODELS[provider]
    dimensions, batch_size = knowledge.embedding_dimensions, knowledge.embedding_batch_size
    match provider:
        case EmbeddingProvider.OPENAI:
            from apis.shared.providers.embeddings.openai import build_openai_embedder

            return build_openai_embedder(
                providers, model_id=model_id, dimensions=dimensions, batch_size=batch_size, attempts=attempts
            )
        case EmbeddingProvider.GEMINI:
            from apis.shared.providers.embeddings.gemini import build_gemini_embedder

            return build_gemini_embedder(
                providers, model_id=model_id, dimensions=dimensions, batch_size=batch_size, attempts=attempts
            )
        case EmbeddingProvider.BEDROCK:
            from apis.shared.providers.embeddings.bedrock import build_bedrock_embedder

            return build_bedrock_embedder(
                providers,
                region=region,
                model_id=model_id,
                dimensions=dimensions,
                batch_size=batch_size,
                attempts=attempts,
            )


__all__ = ["DEFAULT_MODELS", "EMBEDDING_ATTEMPTS", "ProviderEmbedder", "build_embedder"]
