"""DocumentRepository on DynamoDB: an assistant's knowledge-base document records in the shared table.

    document  pk=ASSISTANT#{assistantId}#DOCUMENTS  sk=DOCUMENT#{documentId}
              lsi1sk={createdAt}#{documentId}                         the assistant's documents, oldest first
              and, while uploading, chunking or embedding:
              gsi5pk=UNFINISHED_DOCUMENTS  gsi5sk={updatedAt}#{assistantId}#{documentId}

Access patterns, none of them a Scan:
- a document by id: GetItem (consistent);
- the assistant's documents after a position: Query lsi1 on the documents partition (consistent: a local index);
- how many documents the assistant has: Query the documents partition with Select=COUNT, read on through its
  pages. The partition holds document records only, a few hundred bytes each and at most a few thousand per
  assistant (KNOWLEDGE_MAX_DOCUMENTS), so that is one page of well under 1 MB: a fraction of a read unit per
  hundred documents, always exact. A counter item would cost a transaction on every create and delete and
  could drift from the records if one half of a failed write were retried;
- unfinished documents of every assistant, least recently updated first: Query gsi5 (sparse, eventually
  consistent: the sweep tolerates a document that left or joined it a moment ago).

The partition is the assistant's own, beside its record (schema.py escapes ids, so `#DOCUMENTS` cannot be part
of an id), so the assistant's partition, read whole when it is deleted, stays small. `updatedAt` is the
version that `replace_if` compares in a conditional PutItem. Record attributes are Document's camelCase
names, but for its size, stored as `documentBytes`: a top-level `sizeBytes` would put every document in the
files' size index (gsi2) and pay for a write there too.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from apis.shared.assistants.documents import UNFINISHED_STATUSES, Document
from apis.shared.assistants.knowledge_repository import DocumentPosition
from apis.shared.errors import ConflictError
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, Table, deserialize, serialize
from apis.shared.storage.dynamo.errors import error_code
from apis.shared.storage.dynamo.knowledge_table import count_partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

DOCUMENT_SK_PREFIX = "DOCUMENT#"
UNFINISHED_KIND = "UNFINISHED_DOCUMENTS"
BY_CREATION = schema.DOCUMENTS_BY_CREATION
UNFINISHED = schema.UNFINISHED_DOCUMENTS
_SIZE_FIELD, _SIZE_ATTRIBUTE = "sizeBytes", "documentBytes"
_RECORD_FIELDS = tuple(field.alias or name for name, field in Document.model_fields.items())


def documents_pk(assistant_id: str) -> str:
    return f"ASSISTANT#{schema.escape(assistant_id)}#DOCUMENTS"


def _key(assistant_id: str, document_id: str) -> Item:
    return serialize(
        {
            schema.PARTITION_KEY: documents_pk(assistant_id),
            schema.SORT_KEY: f"{DOCUMENT_SK_PREFIX}{schema.escape(document_id)}",
        }
    )


def _position_sk(position: DocumentPosition) -> str:
    """createdAt is fixed-width ISO, so this sorts as (createdAt, documentId)."""
    return f"{position[0]}#{schema.escape(position[1])}"


def document_item(document: Document) -> Item:
    values: dict[str, Any] = document.model_dump(mode="json", by_alias=True)
    values[_SIZE_ATTRIBUTE] = values.pop(_SIZE_FIELD)
    values.update(
        {
            schema.PARTITION_KEY: documents_pk(document.assistant_id),
            schema.SORT_KEY: f"{DOCUMENT_SK_PREFIX}{schema.escape(document.document_id)}",
            BY_CREATION.sort_key: _position_sk((document.created_at, document.document_id)),
        }
    )
    if document.status in UNFINISHED_STATUSES:
        values[UNFINISHED.partition_key] = UNFINISHED_KIND
        values[UNFINISHED.sort_key] = (
            f"{document.updated_at}#{schema.escape(document.assistant_id)}#{schema.escape(document.document_id)}"
        )
    return serialize(values)


def document_from_item(item: Item) -> Document:
    values = deserialize(item)
    values[_SIZE_FIELD] = values.pop(_SIZE_ATTRIBUTE)
    return Document.model_validate({name: values[name] for name in _RECORD_FIELDS if name in values})


class DynamoDocumentRepository:
    """Knowledge-base document records in the shared table; the layout is in the module docstring."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def _put(self, document: Document, condition: str, values: Item | None = None) -> bool:
        """PutItem under `condition`; False when it did not hold (nothing written)."""
        request: dict[str, Any] = {
            "TableName": self._table.name,
            "Item": document_item(document),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._table.client.put_item(**request)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def create(self, document: Document) -> Document:
        if not await self._table.run(partial(self._put, document, "attribute_not_exists(pk)")):
            raise ConflictError(f"document id {document.document_id} is taken")
        return document

    async def get(self, assistant_id: str, document_id: str) -> Document | None:
        get_item = partial(
            self._table.client.get_item,
            TableName=self._table.name,
            Key=_key(assistant_id, document_id),
            ConsistentRead=True,
        )
        item: Item | None = (await self._table.run(get_item)).get("Item")
        return document_from_item(item) if item is not None else None

    async def replace_if(self, document: Document, *, expected_updated_at: str) -> Document | None:
        # A missing item has no updatedAt, so the comparison fails for it too: no record is ever created here.
        expected = {":expected": {"S": expected_updated_at}}
        written = await self._table.run(partial(self._put, document, "updatedAt = :expected", expected))
        return document if written else None

    async def delete(self, assistant_id: str, document_id: str) -> bool:
        delete_item = partial(
            self._table.client.delete_item,
            TableName=self._table.name,
            Key=_key(assistant_id, document_id),
            ReturnValues="ALL_OLD",
        )
        return "Attributes" in await self._table.run(delete_item)

    async def list_documents(self, assistant_id: str, *, after: DocumentPosition | None, limit: int) -> list[Document]:
        condition = "pk = :pk"
        values: Item = {":pk": {"S": documents_pk(assistant_id)}}
        if after is not None:
            condition += f" AND {BY_CREATION.sort_key} > :after"
            values[":after"] = {"S": _position_sk(after)}
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": BY_CREATION.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        return [document_from_item(item) for item in await self._table.query(request, want=limit)]

    async def count(self, assistant_id: str) -> int:
        return await count_partition(self._table, documents_pk(assistant_id))

    async def list_unfinished(self, *, limit: int) -> list[Document]:
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": UNFINISHED.name,
            "KeyConditionExpression": f"{UNFINISHED.partition_key} = :kind",
            "ExpressionAttributeValues": {":kind": {"S": UNFINISHED_KIND}},
        }
        return [document_from_item(item) for item in await self._table.query(request, want=limit)]
