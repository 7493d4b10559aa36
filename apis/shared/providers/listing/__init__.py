"""The live catalogues of the model providers, which admins browse before adding a model to Colloquy's own.

Each provider's module (and its SDK) is imported when its catalogue is first asked for: the app API starts
without loading three SDKs that a deployment may not use.
"""

from __future__ import annotations

from apis.shared.config import ProviderSettings
from apis.shared.providers.listing.models import (
    BedrockModelSummary,
    GeminiModelSummary,
    OpenAIModelSummary,
    ProviderKind,
)


async def list_openai_models(settings: ProviderSettings) -> list[OpenAIModelSummary]:
    """OpenAI's models, or those of the OpenAI-compatible server at OPENAI_BASE_URL."""
    from apis.shared.providers.listing import openai

    return await openai.list_openai_models(settings)


async def list_gemini_models(settings: ProviderSettings) -> list[GeminiModelSummary]:
    """Gemini's models that can chat."""
    from apis.shared.providers.listing import gemini

    return await gemini.list_gemini_models(settings)


async def list_bedrock_models(
    settings: ProviderSettings,
    *,
    region: str,
    by_provider: str | None = None,
    by_output_modality: str | None = None,
    by_inference_type: str | None = None,
    by_customization_type: str | None = None,
) -> list[BedrockModelSummary]:
    """Bedrock's foundation models, with ListFoundationModels' filters."""
    from apis.shared.providers.listing import bedrock

    return await bedrock.list_bedrock_models(
        settings,
        region=region,
        by_provider=by_provider,
        by_output_modality=by_output_modality,
        by_inference_type=by_inference_type,
        by_customization_type=by_customization_type,
    )


__all__ = [
    "BedrockModelSummary",
    "GeminiModelSummary",
    "OpenAIModelSummary",
    "ProviderKind",
    "list_bedrock_models",
    "list_gemini_models",
    "list_openai_models",
]
