"""Assistants: instructions with a knowledge base, their visibility, shares by email and who may use them."""

from apis.shared.assistants.exceptions import AssistantNotFound, AssistantNotOwned
from apis.shared.assistants.models import (
    DRAFT_NAME,
    VECTOR_INDEX_ID,
    Assistant,
    AssistantFields,
    AssistantShare,
    AssistantStatus,
    AssistantUpdate,
    AssistantView,
    ListedAssistant,
    ListPosition,
    Visibility,
    normalize_email,
)
from apis.shared.assistants.repository import AssistantRepository

__all__ = [
    "DRAFT_NAME",
    "VECTOR_INDEX_ID",
    "Assistant",
    "AssistantFields",
    "AssistantNotFound",
    "AssistantNotOwned",
    "AssistantRepository",
    "AssistantShare",
    "AssistantStatus",
    "AssistantUpdate",
    "AssistantView",
    "ListPosition",
    "ListedAssistant",
    "Visibility",
    "normalize_email",
]
