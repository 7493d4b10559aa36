"""Model providers: building the chat model of a turn, the offline `local` model, the live catalogues, the
embedding models of knowledge bases, and the translation of their failures. Provider SDKs are imported on
first use (see chat_models.py)."""

from apis.shared.providers.embeddings import ProviderEmbedder, build_embedder

__all__ = ["ProviderEmbedder", "build_embedder"]
