"""Managed models: the catalogue an admin curates, with prices, limits and the app roles allowed to use each."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, StringConstraints

from apis.shared.models.vocabulary import KnowledgeCutoff, Modality, ModalityList
from apis.shared.partial_updates import PartialUpdate
from apis.shared.schemas import ApiModel

ProviderName = Literal["bedrock", "openai", "gemini", "local"]
ModelIdText = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^\S+$")]
Price = Annotated[float, Field(ge=0, le=1_000_000)]
TokenLimit = Annotated[int, Field(ge=1, le=100_000_000)]
RoleIds = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]], Field(max_length=100)]
# The token (JWT) role names of the reference's legacy `availableToRoles`; a token role is any claim string.
JwtRoleNames = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=256)]], Field(max_length=100)]


def _text_only() -> list[Modality]:
    return ["TEXT"]


class ManagedModelFields(ApiModel):
    """What an admin says about a model; shared by create, read and (all optional) update."""

    model_id: ModelIdText
    model_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    provider: ProviderName
    provider_name: Annotated[str, StringConstraints(max_length=100)] = ""
    input_modalities: ModalityList = Field(default_factory=lambda: _text_only())
    output_modalities: ModalityList = Field(default_factory=lambda: _text_only())
    max_input_tokens: TokenLimit | None = None
    max_output_tokens: TokenLimit | None = None
    # Who may use the model besides the roles that grant its modelId: see access.py.
    allowed_app_roles: RoleIds = Field(default_factory=list)
    available_to_roles: JwtRoleNames = Field(default_factory=list)
    enabled: bool = True
    input_price_per_million_tokens: Price = 0.0
    output_price_per_million_tokens: Price = 0.0
    cache_write_price_per_million_tokens: Price | None = None
    cache_read_price_per_million_tokens: Price | None = None
    supports_caching: bool = False
    is_reasoning_model: bool = False
    knowledge_cutoff_date: KnowledgeCutoff = None


class ManagedModelCreate(ManagedModelFields):
    is_default: bool = False


class ManagedModel(ManagedModelFields):
    """A stored model. `isDefault` is derived from the catalogue's one default pointer when read."""

    id: str
    is_default: bool = False
    created_at: str
    updated_at: str

    def pricing(self) -> dict[str, float]:
        """The price snapshot a turn stores beside its cost, so later price changes do not rewrite history."""
        prices = {
            "inputPricePerMillionTokens": self.input_price_per_million_tokens,
            "outputPricePerMillionTokens": self.output_price_per_million_tokens,
            "cacheWritePricePerMillionTokens": self.cache_write_price_per_million_tokens,
            "cacheReadPricePerMillionTokens": self.cache_read_price_per_million_tokens,
        }
        return {name: price for name, price in prices.items() if price is not None}


class ManagedModelUpdate(PartialUpdate):
    """A partial update (see partial_updates.py): only the fields sent change, a null clears a field that may
    be empty and is a 422 on any other. `isDefault: true` makes this model the default."""

    record: ClassVar[type[BaseModel]] = ManagedModel

    model_id: ModelIdText | None = None
    model_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    provider: ProviderName | None = None
    provider_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    input_modalities: ModalityList | None = None
    output_modalities: ModalityList | None = None
    max_input_tokens: TokenLimit | None = None
    max_output_tokens: TokenLimit | None = None
    allowed_app_roles: RoleIds | None = None
    available_to_roles: JwtRoleNames | None = None
    enabled: bool | None = None
    is_default: bool | None = None
    input_price_per_million_tokens: Price | None = None
    output_price_per_million_tokens: Price | None = None
    cache_write_price_per_million_tokens: Price | None = None
    cache_read_price_per_million_tokens: Price | None = None
    supports_caching: bool | None = None
    is_reasoning_model: bool | None = None
    knowledge_cutoff_date: KnowledgeCutoff = None

    def field_changes(self) -> dict[str, Any]:
        """The sent fields other than isDefault, which is not a field of the record but of the catalogue."""
        return {name: value for name, value in self.sent_fields().items() if name != "is_default"}


class ManagedModelList(ApiModel):
    models: list[ManagedModel]
    total_count: int
