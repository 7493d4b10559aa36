"""Load Strands and the configured providers' SDKs in the background once a service is up.

The services import them on first use so that they start fast (`/ping` answers within the budget); this
loads them right after, so that the first turn does not wait seconds for an import.
"""

from __future__ import annotations

import importlib
import logging

from apis.shared.config import ProviderSettings

logger = logging.getLogger(__name__)


def modules_to_preload(settings: ProviderSettings) -> list[str]:
    """Strands with its agent loop and tools, and each configured provider's model (ours, over Strands' model
    and the provider's SDK) with the HTTP client that streams it."""
    modules = [
        "strands",
        "strands.agent.conversation_manager",
        "strands.event_loop.streaming",
        "apis.shared.tools.builtin",
        "apis.shared.providers.local",
        "apis.shared.providers.failures",
    ]
    if settings.openai_api_key or settings.openai_base_url:
        modules += ["apis.shared.providers.openai_stream"]
    if settings.gemini_api_key:
        modules += ["apis.shared.providers.gemini_stream"]
    # boto3 finds credentials on its own; it is cheap once Strands is in
    modules += ["apis.shared.providers.bedrock_stream"]
    return modules


def preload(settings: ProviderSettings) -> None:
    """Import the modules of `modules_to_preload`; runs in a worker thread."""
    for name in modules_to_preload(settings):
        importlib.import_module(name)
    logger.info("providers preloaded", extra={"modules": len(modules_to_preload(settings))})
