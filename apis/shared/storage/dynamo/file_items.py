"""Keys of attachment records in the shared table, and how records and usage become items and back.

    file   pk=USER#{userId}#FILES  sk=FILE#{uploadId}  lsi1sk={sessionId}#{uploadId}
           and, while pending or failed:  gsi1pk=UNFINISHED_UPLOAD  gsi1sk={createdAt}#{uploadId}
    usage  pk=USER#{userId}#FILES  sk=USAGE            usedBytes, fileCount (numbers, changed by ADD)
    claim  pk=UPLOAD#{uploadId}    sk=OWNER            owner (upload ids are unique across users)

A user's files have a partition of their own, apart from their sessions (schema.py's `user_pk` escapes the
id, so no user's key can end in `#FILES` by accident). Upload ids are UUIDv7 strings, so `sk` order is
creation order; session ids never contain `#`, so `{sessionId}#` prefixes exactly one session's files on
lsi1. Record attributes are FileRecord's camelCase names; `status` is a reserved word in expressions.

The gsi1 entry is sparse: an upload joins the UNFINISHED_UPLOAD partition of gsi1 when it is created and
leaves it in the write that makes it ready (or with the item, when deleted), so the sweeper of abandoned
uploads reads only those, oldest first across users; createdAt is fixed-width ISO, so gsi1sk sorts by time.
"""

from __future__ import annotations

from apis.shared.files.models import FileRecord, FileStatus, FileUsage
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, deserialize, serialize

FILES_BY_SESSION = schema.SESSIONS_BY_LAST_MESSAGE  # lsi1: in a files partition it holds {sessionId}#{uploadId}
UNFINISHED_UPLOADS = schema.BY_KIND  # gsi1: pending and failed uploads of every user
UNFINISHED_UPLOAD_KIND = "UNFINISHED_UPLOAD"  # gsi1pk of an upload that is not ready (profiles use USERS)
FILE_SK_PREFIX = "FILE#"
USAGE_SK = "USAGE"
UPLOAD_CLAIM_SK = "OWNER"
STATUS = "status"
SIZE_BYTES = "sizeBytes"
SESSION_ID = "sessionId"
USED_BYTES = "usedBytes"
FILE_COUNT = "fileCount"
OWNER = "owner"

_RECORD_FIELDS = tuple(field.alias or name for name, field in FileRecord.model_fields.items())


def files_pk(user_id: str) -> str:
    return f"{schema.user_pk(user_id)}#FILES"


def file_sk(upload_id: str) -> str:
    return f"{FILE_SK_PREFIX}{upload_id}"


def session_files_prefix(session_id: str) -> str:
    return f"{session_id}#"


def file_session_sk(session_id: str, upload_id: str) -> str:
    return f"{session_files_prefix(session_id)}{upload_id}"


def unfinished_upload_sk(created_at: str, upload_id: str) -> str:
    """Ordered by creation time, then upload id; a bound `created_at` sorts below every key of that moment."""
    return f"{created_at}#{upload_id}"


def upload_claim_pk(upload_id: str) -> str:
    return f"UPLOAD#{upload_id}"


def file_key(user_id: str, upload_id: str) -> Item:
    return serialize({schema.PARTITION_KEY: files_pk(user_id), schema.SORT_KEY: file_sk(upload_id)})


def usage_key(user_id: str) -> Item:
    return serialize({schema.PARTITION_KEY: files_pk(user_id), schema.SORT_KEY: USAGE_SK})


def claim_key(upload_id: str) -> Item:
    return serialize({schema.PARTITION_KEY: upload_claim_pk(upload_id), schema.SORT_KEY: UPLOAD_CLAIM_SK})


def claim_item(record: FileRecord) -> Item:
    return {**claim_key(record.upload_id), OWNER: {"S": record.user_id}}


def file_item(record: FileRecord) -> Item:
    values = {
        schema.PARTITION_KEY: files_pk(record.user_id),
        schema.SORT_KEY: file_sk(record.upload_id),
        FILES_BY_SESSION.sort_key: file_session_sk(record.session_id, record.upload_id),
        **record.model_dump(mode="json", by_alias=True),
    }
    if record.status != FileStatus.READY:
        values[UNFINISHED_UPLOADS.partition_key] = UNFINISHED_UPLOAD_KIND
        values[UNFINISHED_UPLOADS.sort_key] = unfinished_upload_sk(record.created_at, record.upload_id)
    return serialize(values)


def file_from_item(item: Item) -> FileRecord:
    # Pydantic turns the Decimal of sizeBytes back into an int.
    values = deserialize(item)
    return FileRecord.model_validate({name: values[name] for name in _RECORD_FIELDS if name in values})


def usage_from_item(item: Item | None) -> FileUsage:
    """The counters of a usage item; zeros when there is none (the user has never had a ready file)."""
    if item is None:
        return FileUsage()
    values = deserialize(item)
    return FileUsage(used_bytes=int(values.get(USED_BYTES, 0)), file_count=int(values.get(FILE_COUNT, 0)))


def number(value: int) -> Item:
    return {"N": str(value)}
