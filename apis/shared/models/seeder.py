"""First run: an empty catalogue gets the offline `local` model as its default, so a fresh install can chat."""

from __future__ import annotations

from apis.shared.models import managed_models
from apis.shared.models.exceptions import ModelIdTaken
from apis.shared.models.models import ManagedModelCreate
from apis.shared.models.repository import ModelRepository

LOCAL_MODEL = ManagedModelCreate(
    model_id="local-echo",
    model_name="Local echo (offline, deterministic)",
    provider="local",
    provider_name="Colloquy",
    is_default=True,
)


async def ensure_first_model(*, models: ModelRepository) -> str:
    """Create the local model when the catalogue is empty; a catalogue an admin has filled is left alone."""
    if await models.list_models():
        return "model catalogue: exists"
    try:
        await managed_models.create(models=models, model_in=LOCAL_MODEL)
    except ModelIdTaken:  # the other service seeded it at the same moment
        return "model catalogue: exists"
    return f"model catalogue: created the default model {LOCAL_MODEL.model_id}"
