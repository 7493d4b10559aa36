"""Admin browsing of each provider's live catalogue, to pick models for the managed catalogue.

503 when the provider is not configured (the message names the missing setting), 502 when it fails.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from apis.app_api.deps import AdminPermissions, AppSettings
from apis.shared.providers.listing import (
    ProviderModelList,
    list_bedrock_models,
    list_gemini_models,
    list_openai_models,
)

router = APIRouter(prefix="/admin", tags=["admin: providers"])


@router.get("/bedrock/models", response_model=ProviderModelList)
async def bedrock_models(
    admin: AdminPermissions,
    settings: AppSettings,
    by_provider: Annotated[str | None, Query(alias="byProvider", max_length=100)] = None,
    by_output_modality: Annotated[Literal["TEXT", "IMAGE", "EMBEDDING"] | None, Query(alias="byOutputModality")] = None,
    by_inference_type: Annotated[Literal["ON_DEMAND", "PROVISIONED"] | None, Query(alias="byInferenceType")] = None,
    by_customization_type: Annotated[
        Literal["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"] | None, Query(alias="byCustomizationType")
    ] = None,
) -> ProviderModelList:
    """Bedrock's foundation models (ListFoundationModels), with its filters."""
    return await list_bedrock_models(
        settings.providers,
        region=settings.storage.aws_region,
        by_provider=by_provider,
        by_output_modality=by_output_modality,
        by_inference_type=by_inference_type,
        by_customization_type=by_customization_type,
    )


@router.get("/openai/models", response_model=ProviderModelList)
async def openai_models(admin: AdminPermissions, settings: AppSettings) -> ProviderModelList:
    """The models of OpenAI, or of the OpenAI-compatible server at OPENAI_BASE_URL."""
    return await list_openai_models(settings.providers)


@router.get("/gemini/models", response_model=ProviderModelList)
async def gemini_models(admin: AdminPermissions, settings: AppSettings) -> ProviderModelList:
    """Gemini's models that can chat (generateContent)."""
    return await list_gemini_models(settings.providers)
