"""First run: an empty catalogue gets the offline `local` model as its default, so a fresh install can chat."""

from __future__ import annotations

from apis.shared.clock import now_iso
from apis.shared.models import managed_models
from apis.shared.models.exceptions import ModelIdTaken
from apis.shared.models.models import ManagedModel, ManagedModelCreate, ManagedModelUpdate
from apis.shared.models.repository import ModelRepository

# The offline model answers from its input and has no limits of its own; these nominal ones are what the
# reference's admin form needs to accept the record (it refuses a model without both limits).
LOCAL_MAX_INPUT_TOKENS = 128_000
LOCAL_MAX_OUTPUT_TOKENS = 4_096

LOCAL_MODEL = ManagedModelCreate(
    model_id="local-echo",
    model_name="Local echo (offline, deterministic)",
    provider="local",
    provider_name="Colloquy",
    max_input_tokens=LOCAL_MAX_INPUT_TOKENS,
    max_output_tokens=LOCAL_MAX_OUTPUT_TOKENS,
    is_default=True,
)


async def ensure_first_model(*, models: ModelRepository) -> str:
    """Create the local model when the catalogue is empty; a catalogue an admin has filled is left alone, but
    for the token limits of a local model seeded by an earlier version without them."""
    catalogue = await models.list_models()
    if catalogue:
        return await _fill_local_limits(models, catalogue)
    try:
        await managed_models.create(models=models, model_in=LOCAL_MODEL)
    except ModelIdTaken:  # the other service seeded it at the same moment
        return "model catalogue: exists"
    return f"model catalogue: created the default model {LOCAL_MODEL.model_id}"


async def _fill_local_limits(models: ModelRepository, catalogue: list[ManagedModel]) -> str:
    """Give the seeded local model the limits it lacks. Idempotent, so both services may do it at once; the
    catalogue is the listed one, which leaves out unreadable records, so this cannot stop a start."""
    local = next((m for m in catalogue if m.model_id == LOCAL_MODEL.model_id and m.provider == "local"), None)
    if local is None:
        return "model catalogue: exists"
    missing: dict[str, int] = {}
    if local.max_input_tokens is None:
        missing["max_input_tokens"] = LOCAL_MAX_INPUT_TOKENS
    if local.max_output_tokens is None:
        missing["max_output_tokens"] = LOCAL_MAX_OUTPUT_TOKENS
    if not missing:
        return "model catalogue: exists"
    # The repository's update, not the service's: a model deleted meanwhile is None here, not a failed start.
    if await models.update(local.id, ManagedModelUpdate.model_validate(missing), updated_at=now_iso()) is None:
        return "model catalogue: exists"
    return f"model catalogue: gave {LOCAL_MODEL.model_id} its token limits"
