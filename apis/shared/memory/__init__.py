"""Long-term memory: preferences, facts and session summaries of each user, recalled into later turns."""

from apis.shared.memory import namespaces, relevance, service
from apis.shared.memory.exceptions import InvalidNamespace, MemoryNamespaceNotFound, MemoryNotFound, MemoryUnavailable
from apis.shared.memory.models import MemoryKind, MemoryRecord, ScoredMemory
from apis.shared.memory.repository import DEFAULT_MAX_PER_KIND, MemoryRepository

__all__ = [
    "DEFAULT_MAX_PER_KIND",
    "InvalidNamespace",
    "MemoryKind",
    "MemoryNamespaceNotFound",
    "MemoryNotFound",
    "MemoryRecord",
    "MemoryRepository",
    "MemoryUnavailable",
    "ScoredMemory",
    "namespaces",
    "relevance",
    "service",
]
