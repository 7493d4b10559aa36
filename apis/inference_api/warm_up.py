"""What the inference API loads ahead of its first turn (apis/shared/heap.py explains why and when).

The modules a turn imports lazily: Strands' agent loop, each provider's model with its SDK and HTTP client, and
the ephemeral agent of titles and memory. The providers that no deployment configures are loaded too: the set is
the same for every deployment, and a provider's model is built on the first turn that names it.
"""

from __future__ import annotations

import importlib

TURN_MODULES = (
    "strands.agent",
    "strands.event_loop.streaming",
    "apis.shared.providers.local",
    "apis.shared.providers.openai_stream",
    "apis.shared.providers.bedrock_stream",
    "apis.shared.providers.gemini_stream",
    "apis.shared.providers.failures",
    "apis.shared.turns.ephemeral",
    "google.genai.errors",
)


def load_turn_modules() -> None:
    for name in TURN_MODULES:
        importlib.import_module(name)
