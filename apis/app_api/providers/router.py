"""Admin browsing of each provider's live catalogue, to pick models for the managed catalogue.

A provider that is not configured is a 200 with an empty catalogue, `configured: false` and a `message` naming
the setting to set, not a 503: the reference web client turns any error of these three routes into an
unreadable page (Bedrock's stays on "Loading models..."), while an empty catalogue reads as such. A provider
that fails is a 502, and a filter Bedrock refuses a 400.

The models are in the shapes the client's three pages read, one per provider (listing/models.py).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field, field_validator

from apis.app_api.deps import AdminPermissions, AppSettings
from apis.shared.errors import ProviderUnavailableError
from apis.shared.providers.listing import (
    BedrockModelSummary,
    GeminiModelSummary,
    OpenAIModelSummary,
    ProviderKind,
    list_bedrock_models,
    list_gemini_models,
    list_openai_models,
)
from apis.shared.schemas import ApiModel

router = APIRouter(prefix="/admin", tags=["admin: providers"])

M = TypeVar("M", bound=ApiModel)


class ProviderCatalogue(ApiModel, Generic[M]):
    """A provider's catalogue, or why there is none."""

    models: list[M]
    total_count: int
    provider: ProviderKind
    # Always null: the whole catalogue is one answer. Bedrock's page declares it (ListFoundationModels has no pages).
    next_token: str | None = None
    configured: bool = True
    # Why the catalogue is empty when the provider is not configured: the setting to set.
    message: str | None = None


class BedrockCatalogue(ProviderCatalogue[BedrockModelSummary]):
    """Bedrock's foundation models."""


class OpenAICatalogue(ProviderCatalogue[OpenAIModelSummary]):
    """The models of OpenAI or of an OpenAI-compatible server."""


class GeminiCatalogue(ProviderCatalogue[GeminiModelSummary]):
    """Gemini's chat models."""


class CatalogueQuery(ApiModel):
    """What the reference client sends (`max_results`, snake_case), camelCase too; other parameters are ignored
    as on every route."""

    model_config = ConfigDict(extra="ignore")

    # At most this many models, counted after sorting (as the reference, a limit applied here, not upstream).
    max_results: int | None = Field(default=None, ge=1, le=1000)


class BedrockQuery(CatalogueQuery):
    """ListFoundationModels' filters."""

    by_provider: str | None = Field(default=None, max_length=100)
    by_output_modality: Literal["TEXT", "IMAGE", "EMBEDDING"] | None = None
    by_inference_type: Literal["ON_DEMAND", "PROVISIONED", "INFERENCE_PROFILE"] | None = None
    by_customization_type: Literal["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"] | None = None

    @field_validator("by_output_modality", "by_inference_type", "by_customization_type", mode="before")
    @classmethod
    def _as_bedrock_spells_them(cls, value: object) -> object:
        """Any case, as Bedrock's own words are upper case and the reference client offers what it was shown."""
        return value.upper() if isinstance(value, str) else value


async def catalogue(provider: ProviderKind, listing: Awaitable[list[M]], query: CatalogueQuery) -> ProviderCatalogue[M]:
    """The listing cut to `max_results`; not configured is an answer, not an error (the module's docstring)."""
    try:
        listed = await listing
    except ProviderUnavailableError as exc:
        return ProviderCatalogue[M](models=[], total_count=0, provider=provider, configured=False, message=exc.detail)
    models = listed[: query.max_results]
    return ProviderCatalogue[M](models=models, total_count=len(models), provider=provider)


@router.get("/bedrock/models", response_model=BedrockCatalogue)
async def bedrock_models(
    admin: AdminPermissions, settings: AppSettings, query: Annotated[BedrockQuery, Query()]
) -> ProviderCatalogue[BedrockModelSummary]:
    """Bedrock's foundation models (ListFoundationModels), with its filters."""
    listing = list_bedrock_models(
        settings.providers,
        region=settings.storage.aws_region,
        by_provider=query.by_provider,
        by_output_modality=query.by_output_modality,
        by_inference_type=query.by_inference_type,
        by_customization_type=query.by_customization_type,
    )
    return await catalogue("bedrock", listing, query)


@router.get("/openai/models", response_model=OpenAICatalogue)
async def openai_models(
    admin: AdminPermissions, settings: AppSettings, query: Annotated[CatalogueQuery, Query()]
) -> ProviderCatalogue[OpenAIModelSummary]:
    """The models of OpenAI, or of the OpenAI-compatible server at OPENAI_BASE_URL."""
    return await catalogue("openai", list_openai_models(settings.providers), query)


@router.get("/gemini/models", response_model=GeminiCatalogue)
async def gemini_models(
    admin: AdminPermissions, settings: AppSettings, query: Annotated[CatalogueQuery, Query()]
) -> ProviderCatalogue[GeminiModelSummary]:
    """Gemini's models that can chat (generateContent)."""
    return await catalogue("gemini", list_gemini_models(settings.providers), query)
