"""The live catalogues of the model providers, which admins browse before adding a model to Colloquy's own."""

from apis.shared.providers.listing.bedrock import list_bedrock_models
from apis.shared.providers.listing.gemini import list_gemini_models
from apis.shared.providers.listing.models import ProviderKind, ProviderModel, ProviderModelList
from apis.shared.providers.listing.openai import list_openai_models

__all__ = [
    "ProviderKind",
    "ProviderModel",
    "ProviderModelList",
    "list_bedrock_models",
    "list_gemini_models",
    "list_openai_models",
]
