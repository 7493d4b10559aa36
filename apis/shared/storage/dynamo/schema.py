"""The single DynamoDB table: generic key attributes, its indexes as data, and the key builders of each domain.

Every domain shares one table with generic keys (`pk`, `sk`, `lsi1sk`, ...), so a new domain adds key builders
and, when it needs another access path, one `Index` entry below; `create_table_request` derives the rest.
Local secondary indexes can only be created with the table, so they are all declared up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the stubs are a development dependency; nothing here needs them at run time
    from mypy_boto3_dynamodb.literals import ScalarAttributeTypeType
    from mypy_boto3_dynamodb.type_defs import (
        AttributeDefinitionTypeDef,
        CreateTableInputTypeDef,
        GlobalSecondaryIndexTypeDef,
        KeySchemaElementTypeDef,
        LocalSecondaryIndexTypeDef,
    )

PARTITION_KEY = "pk"
SORT_KEY = "sk"


@dataclass(frozen=True, slots=True)
class Index:
    """A secondary index: local ones share the table's partition key, global ones bring their own.

    Global indexes can be added to a table that exists (`colloquy storage init` does), local ones cannot.
    """

    name: str
    partition_key: str
    sort_key: str
    kind: Literal["local", "global"]
    sort_key_type: Literal["S", "N"] = "S"


SESSIONS_BY_LAST_MESSAGE = Index(name="lsi1", partition_key=PARTITION_KEY, sort_key="lsi1sk", kind="local")
# Lists across owners (every user, for admins): an item joins it by carrying gsi1pk (a kind) and gsi1sk.
BY_KIND = Index(name="gsi1", partition_key="gsi1pk", sort_key="gsi1sk", kind="global")
# A user's files by size and by type: keyed on attributes every file record has carried from the start, so
# DynamoDB fills them with the files already stored when they are added. Any other item with a top-level
# `sizeBytes` (a number) or `mimeType` (a string) joins them too, under its own partition.
FILES_BY_SIZE = Index(name="gsi2", partition_key=PARTITION_KEY, sort_key="sizeBytes", kind="global", sort_key_type="N")
FILES_BY_TYPE = Index(name="gsi3", partition_key=PARTITION_KEY, sort_key="mimeType", kind="global")
# Public assistants, newest first: sparse, an assistant carries gsi4pk only while its visibility is PUBLIC.
PUBLIC_ASSISTANTS = Index(name="gsi4", partition_key="gsi4pk", sort_key="gsi4sk", kind="global")
# Knowledge-base documents still being ingested, least recently updated first, for the ingestion sweep: sparse, a
# document carries gsi5pk only while its status is uploading, chunking or embedding.
UNFINISHED_DOCUMENTS = Index(name="gsi5", partition_key="gsi5pk", sort_key="gsi5sk", kind="global")
# Users' months costliest first, for top users: sparse, a user's month totals carry gsi6pk (the month and a shard
# of the user) and gsi6sk (a copy of the month's cost, a number). See cost_items.py.
USERS_BY_MONTH_COST = Index(name="gsi6", partition_key="gsi6pk", sort_key="gsi6sk", kind="global", sort_key_type="N")
# One quota tier's events, newest first, for the admins' event log filtered by tier (quota_items.py).
QUOTA_EVENTS_BY_TIER = Index(name="gsi7", partition_key="gsi7pk", sort_key="gsi7sk", kind="global")
INDEXES: tuple[Index, ...] = (
    SESSIONS_BY_LAST_MESSAGE,
    BY_KIND,
    FILES_BY_SIZE,
    FILES_BY_TYPE,
    PUBLIC_ASSISTANTS,
    UNFINISHED_DOCUMENTS,
    USERS_BY_MONTH_COST,
    QUOTA_EVENTS_BY_TIER,
)
# lsi1 is the table's one local index (local ones cannot be added later), so any partition that needs a second,
# strongly consistent order uses it under its own partition: an assistant's documents by creation.
DOCUMENTS_BY_CREATION = SESSIONS_BY_LAST_MESSAGE
# So do quota assignments, by type and target, and quota overrides, by user (quota_items.py).
QUOTA_LISTS = SESSIONS_BY_LAST_MESSAGE


def _key_schema(partition_key: str, sort_key: str) -> list[KeySchemaElementTypeDef]:
    return [
        {"AttributeName": partition_key, "KeyType": "HASH"},
        {"AttributeName": sort_key, "KeyType": "RANGE"},
    ]


def index_request(index: Index) -> GlobalSecondaryIndexTypeDef:
    """An index projecting every attribute, so a query on it needs no second read of the table."""
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.partition_key, index.sort_key),
        "Projection": {"ProjectionType": "ALL"},
    }


def attribute_definitions(indexes: tuple[Index, ...] = INDEXES) -> list[AttributeDefinitionTypeDef]:
    """The type of every key attribute of the table and of `indexes`: strings, but for numeric sort keys."""
    types: dict[str, ScalarAttributeTypeType] = {PARTITION_KEY: "S", SORT_KEY: "S"}
    for index in indexes:
        types.setdefault(index.partition_key, "S")
        types.setdefault(index.sort_key, index.sort_key_type)
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def create_table_request(table_name: str) -> CreateTableInputTypeDef:
    """The CreateTable call for `table_name`, with every declared index."""
    local: list[LocalSecondaryIndexTypeDef] = [index_request(index) for index in INDEXES if index.kind == "local"]
    global_: list[GlobalSecondaryIndexTypeDef] = [index_request(index) for index in INDEXES if index.kind == "global"]
    request: CreateTableInputTypeDef = {
        "TableName": table_name,
        "AttributeDefinitions": attribute_definitions(),
        "KeySchema": _key_schema(PARTITION_KEY, SORT_KEY),
        "BillingMode": "PAY_PER_REQUEST",
    }
    if local:
        request["LocalSecondaryIndexes"] = local
    if global_:
        request["GlobalSecondaryIndexes"] = global_
    return request


def escape(part: str) -> str:
    """Ids from outside may contain `#`; escaping it keeps `USER#a#SESSION#b` from naming two things."""
    return part.replace("%", "%25").replace("#", "%23")


# Sessions. A user's partition holds their session records; each session's messages have a partition of
# their own, still led by the owner; a claim item makes session ids unique across users.


def user_pk(user_id: str) -> str:
    return f"USER#{escape(user_id)}"


def session_sk(session_id: str) -> str:
    return f"SESSION#{session_id}"


def session_list_sk(last_message_at: str, session_id: str) -> str:
    """lastMessageAt is fixed-width ISO, so this sorts by time and then by session id."""
    return f"{last_message_at}#{session_id}"


def session_claim_pk(session_id: str) -> str:
    return f"SESSIONID#{session_id}"


SESSION_CLAIM_SK = "OWNER"


def messages_pk(user_id: str, session_id: str) -> str:
    return f"{user_pk(user_id)}#SESSION#{session_id}"


MESSAGE_SK_PREFIX = "MSG#"


def message_sk(message_id: str) -> str:
    """Message ids are UUIDv7 strings, so sort keys order messages as they were made."""
    return f"{MESSAGE_SK_PREFIX}{message_id}"
