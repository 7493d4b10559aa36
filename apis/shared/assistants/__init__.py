"""Assistants: instructions with a knowledge base, their visibility, shares by email and who may use them."""

from apis.shared.assistants.documents import (
    DOCUMENT_KEY_PATTERN,
    UNFINISHED_STATUSES,
    Chunk,
    ChunkHit,
    Citation,
    Document,
    DocumentStatus,
    document_key,
)
from apis.shared.assistants.exceptions import AssistantNotFound, AssistantNotOwned, DocumentNotFound
from apis.shared.assistants.knowledge_repository import DocumentPosition, DocumentRepository, Embedder, KnowledgeIndex
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
    "DOCUMENT_KEY_PATTERN",
    "DRAFT_NAME",
    "UNFINISHED_STATUSES",
    "Chunk",
    "ChunkHit",
    "Citation",
    "Document",
    "DocumentNotFound",
    "DocumentPosition",
    "DocumentRepository",
    "DocumentStatus",
    "Embedder",
    "KnowledgeIndex",
    "document_key",
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
