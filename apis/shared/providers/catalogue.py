"""The models a turn can run on before an admin has managed any: the offline `local` model only."""

from __future__ import annotations

from dataclasses import dataclass, field

from apis.shared.errors import RuleViolation


@dataclass(frozen=True, slots=True)
class ChatModelSpec:
    """What a turn needs to know of a model: who serves it and what it costs per million tokens."""

    model_id: str
    model_name: str
    provider: str
    pricing: dict[str, float] = field(default_factory=dict)


LOCAL_MODEL = ChatModelSpec(
    model_id="local-echo",
    model_name="Local echo (offline, deterministic)",
    provider="local",
    pricing={"inputPricePerMillionTokens": 0.0, "outputPricePerMillionTokens": 0.0},
)
BUILTIN_MODELS = {LOCAL_MODEL.model_id: LOCAL_MODEL}


def resolve_builtin_model(model_id: str, provider: str | None) -> ChatModelSpec:
    """The model named by a turn request; 400 if unknown or if `provider` contradicts it."""
    spec = BUILTIN_MODELS.get(model_id)
    if spec is None:
        raise RuleViolation(f"unknown model {model_id!r}", code="unknown_model")
    if provider is not None and provider != spec.provider:
        raise RuleViolation(
            f"model {model_id!r} is served by provider {spec.provider!r}, not {provider!r}",
            code="provider_mismatch",
        )
    return spec
