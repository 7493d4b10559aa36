"""Assistants' knowledge bases at work: documents' text, chunks, ingestion, and retrieval for a turn.

The assistants domain holds the records and ports (documents, the index, the embedder); this package holds what
reads documents with extraction libraries and calls embedding models, which a domain package must not, and which
both services use: the app API ingests and runs test chats, the inference API retrieves in a turn.
"""

from apis.shared.knowledge.ingestion import Ingestion, ingest, may_take
from apis.shared.knowledge.rag_service import Retrieval, retrieve

__all__ = ["Ingestion", "Retrieval", "ingest", "may_take", "retrieve"]
