"""A token count for text whose provider reports none: the offline model's usage, and embeddings' metering.

Kept apart from the offline model so that metering does not load Strands at a service's start.
"""

from __future__ import annotations

import math


def estimate_tokens(text: str) -> int:
    """A rough count (four characters a token) so that usage and cost are exercised end to end."""
    return max(1, math.ceil(len(text) / 4)) if text else 0
