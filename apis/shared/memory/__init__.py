"""Long-term memory: preferences, facts and session summaries of each user, recalled into later turns."""

from apis.shared.memory.models import MemoryKind, MemoryRecord, ScoredMemory
from apis.shared.memory.repository import MemoryRepository

__all__ = ["MemoryKind", "MemoryRecord", "MemoryRepository", "ScoredMemory"]
