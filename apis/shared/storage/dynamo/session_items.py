"""How sessions and messages become DynamoDB items and back (the layout is in sessions.py's docstring).

Session attributes are stored natively (floats as Decimal, which round-trips exactly through `repr`), plus
`titleLower` for the title search; a message's content and metadata are stored as JSON text, which keeps
ints, floats and nested tool input exactly as they were sent.
"""

from __future__ import annotations

import json
from typing import Any

from apis.shared.sessions.models import Message, SessionChanges, SessionMetadata, SessionPreferences
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, deserialize, serialize

_SESSION_FIELDS = tuple(field.alias or name for name, field in SessionMetadata.model_fields.items())
_MESSAGE_FIELDS = tuple(field.alias or name for name, field in Message.model_fields.items())


def session_item(user_id: str, session: SessionMetadata) -> Item:
    return serialize(
        {
            schema.PARTITION_KEY: schema.user_pk(user_id),
            schema.SORT_KEY: schema.session_sk(session.session_id),
            schema.SESSIONS_BY_LAST_MESSAGE.sort_key: schema.session_list_sk(
                session.last_message_at, session.session_id
            ),
            **session.model_dump(mode="json", by_alias=True),
            "titleLower": session.title.lower(),
        }
    )


def session_from_item(item: Item) -> SessionMetadata:
    # Pydantic turns the Decimals back into int and float fields exactly.
    values = deserialize(item)
    return SessionMetadata.model_validate({name: values[name] for name in _SESSION_FIELDS if name in values})


def message_item(user_id: str, session_id: str, message: Message) -> Item:
    dumped = message.model_dump(mode="json", by_alias=True)
    return serialize(
        {
            schema.PARTITION_KEY: schema.messages_pk(user_id, session_id),
            schema.SORT_KEY: schema.message_sk(message.message_id),
            **dumped,
            "content": json.dumps(dumped["content"], separators=(",", ":")),
            "metadata": json.dumps(dumped["metadata"], separators=(",", ":")),
        }
    )


def message_from_item(item: Item) -> Message:
    values = deserialize(item)
    fields = {name: values[name] for name in _MESSAGE_FIELDS if name in values}
    return Message.model_validate(
        {**fields, "content": json.loads(values["content"]), "metadata": json.loads(values["metadata"])}
    )


def changed_fields(changes: SessionChanges, updated: SessionMetadata) -> dict[str, Any]:
    """Attribute path -> new value for what `changes` sets, so concurrent counters are left alone."""
    dumped = updated.model_dump(mode="json", by_alias=True)
    paths: dict[str, Any] = {}
    for name in changes.model_fields_set - {"preferences"}:
        if getattr(changes, name) is not None:
            alias = SessionMetadata.model_fields[name].alias or name
            paths[alias] = dumped[alias]
    if "title" in paths:
        paths["titleLower"] = updated.title.lower()
    if changes.preferences is not None:
        for name in changes.preferences.model_fields_set:
            alias = SessionPreferences.model_fields[name].alias or name
            paths[f"preferences.{alias}"] = dumped["preferences"][alias]
    return paths
