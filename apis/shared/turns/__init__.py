"""Turn assembly: what a chat turn puts before a model, built from the domains' records over their ports.

A turn reads from six domains (sessions, models, rbac, files, tools, providers). The domains keep their
records, rules and repository ports; the code that only turns use lives here, so a turn's preparation reads
in one place and each domain stays free of model SDKs. The app API uses it too, to name a conversation.
"""

from apis.shared.turns.assistant_context import KnowledgeBases
from apis.shared.turns.attachments import InlineAttachment
from apis.shared.turns.memory_turn import TurnMemory
from apis.shared.turns.preparation import PreparedTurn, TurnRequest, prepare_turn
from apis.shared.turns.titles import title_for

__all__ = [
    "InlineAttachment",
    "KnowledgeBases",
    "PreparedTurn",
    "TurnMemory",
    "TurnRequest",
    "prepare_turn",
    "title_for",
]
