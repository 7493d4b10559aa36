"""Attachments of a chat turn → content blocks for the model, and references for the stored message.

A turn names uploaded files by id and may carry small files inline. Before anything is streamed, every one
is checked: it must be the caller's, ready and of this conversation (400 naming it), within the limits per
file and per message (413), and of an accepted type whose content matches (400). Nothing is dropped
silently: a file the provider cannot read natively is sent as its extracted text, and says so.

What each provider receives, and how much of it one request may carry, is `provider_input.py`. Stored
messages hold references (uploadId, filename, mimeType, sizeBytes), never bytes, so a message stays
far below DynamoDB's item limit; `rehydrate_history` turns the references of earlier messages back into
content blocks when they are sent to a model again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from apis.shared.config import FilesSettings
from apis.shared.errors import StorageError
from apis.shared.files import (
    FILE_TYPES,
    AttachmentUnusable,
    BlobStore,
    FileContentMismatch,
    FileRecord,
    FileRepository,
    FileStatus,
    FileTooLarge,
    FileType,
    declared_type,
)
from apis.shared.files import service as files_service
from apis.shared.turns.provider_input import RequestBudget, model_block

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class InlineAttachment:
    """A file sent inside the turn's request body."""

    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Attachment:
    """A checked attachment: its record (stored for inline files once `persist_inline` ran) and its bytes."""

    record: FileRecord
    file_type: FileType
    data: bytes | None = None
    inline: bool = False


@dataclass(slots=True)
class TurnAttachments:
    """The turn's attachments, in the order they were given: uploads first, then inline files."""

    items: list[Attachment] = field(default_factory=list)

    @property
    def stored_blocks(self) -> list[Block]:
        return [stored_block(item.record, item.file_type) for item in self.items]


def _unusable(upload_id: str, reason: str) -> AttachmentUnusable:
    return AttachmentUnusable(f"attachment {upload_id} {reason}")


async def check_attachments(
    *,
    files: FileRepository,
    settings: FilesSettings,
    user_id: str,
    session_id: str,
    upload_ids: Sequence[str],
    inline: Sequence[InlineAttachment],
) -> TurnAttachments:
    """Every check that needs no bytes from the store; inline files get records (not yet stored)."""
    unique_ids = list(dict.fromkeys(upload_ids))
    if len(unique_ids) + len(inline) > settings.files_max_per_message:
        raise FileTooLarge(
            f"{len(unique_ids) + len(inline)} attachments: a message may carry at most {settings.files_max_per_message}"
        )
    checked = TurnAttachments()
    for upload_id in unique_ids:
        record = await files.get_file(user_id, upload_id)
        if record is None:
            raise _unusable(upload_id, "not found")
        if record.status is not FileStatus.READY:
            raise _unusable(upload_id, f"({record.filename}) is {record.status}, not ready: complete its upload first")
        if record.session_id != session_id:
            raise _unusable(upload_id, f"({record.filename}) was uploaded to another conversation")
        checked.items.append(Attachment(record=record, file_type=files_service.record_type(record)))
    for attachment in inline:
        checked.items.append(_check_inline(attachment, settings=settings, user_id=user_id, session_id=session_id))
    total = sum(item.record.size_bytes for item in checked.items)
    if total > settings.files_max_message_bytes:
        raise FileTooLarge(
            f"the attachments add up to {total} bytes; a message may carry at most {settings.files_max_message_bytes}"
        )
    return checked


def _check_inline(
    attachment: InlineAttachment, *, settings: FilesSettings, user_id: str, session_id: str
) -> Attachment:
    file_type = declared_type(attachment.filename, attachment.content_type, settings.allowed_types)
    files_service.check_size(attachment.filename, len(attachment.data), settings)
    problem = files_service.content_problem(attachment.filename, file_type, attachment.data, declared_size=None)
    if problem is not None:
        raise FileContentMismatch(problem)
    record = files_service.new_record(
        user_id=user_id,
        session_id=session_id,
        filename=attachment.filename,
        file_type=file_type,
        size_bytes=len(attachment.data),
    )
    return Attachment(record=record, file_type=file_type, data=attachment.data, inline=True)


async def persist_inline(
    attachments: TurnAttachments, *, files: FileRepository, blobs: BlobStore, settings: FilesSettings
) -> None:
    """Store the inline files as ready uploads of the conversation, charged to the caller's quota."""
    for item in attachments.items:
        if item.inline and item.data is not None:
            item.record = await files_service.store_ready(
                files=files, blobs=blobs, settings=settings, record=item.record, data=item.data
            )


async def discard_inline(attachments: TurnAttachments, *, files: FileRepository, blobs: BlobStore) -> None:
    """Remove the inline files stored for a turn that was then refused."""
    for item in attachments.items:
        if item.inline:
            await files_service.remove(files=files, blobs=blobs, record=item.record)


async def load_bytes(attachments: TurnAttachments, *, blobs: BlobStore) -> None:
    """Read the bytes of uploaded files; a ready file whose bytes are gone is a storage failure (503)."""
    for item in attachments.items:
        if item.data is None:
            item.data = await blobs.get(item.record.storage_key)
            if item.data is None:
                raise StorageError(f"the bytes of {item.record.filename} ({item.record.upload_id}) are missing")


def stored_block(record: FileRecord, file_type: FileType) -> Block:
    """The reference a stored message keeps: enough to show the file and fetch it, never its bytes."""
    reference = {
        "uploadId": record.upload_id,
        "filename": record.filename,
        "mimeType": record.mime_type,
        "sizeBytes": record.size_bytes,
        "format": file_type.name,
    }
    return {file_type.kind.value: reference}


async def model_blocks(attachments: TurnAttachments, *, settings: FilesSettings, budget: RequestBudget) -> list[Block]:
    """The content blocks the turn's model receives for these attachments (bytes must be loaded).

    A file over the provider's limits for one request is a 413 naming it, before anything is stored.
    """
    blocks: list[Block] = []
    for item in attachments.items:
        if item.data is None:
            raise ValueError(f"the bytes of {item.record.upload_id} were not loaded")
        blocks.append(await model_block(item.record, item.file_type, item.data, settings=settings, budget=budget))
    return blocks


def _references(message: Block) -> Iterable[tuple[int, str, Block]]:
    for position, block in enumerate(message.get("content", [])):
        for kind in ("image", "document"):
            inner = block.get(kind)
            if isinstance(inner, dict) and "uploadId" in inner and "source" not in inner:
                yield position, kind, inner


async def rehydrate_history(
    history: list[Block],
    *,
    files: FileRepository,
    blobs: BlobStore,
    settings: FilesSettings,
    user_id: str,
    budget: RequestBudget,
) -> list[Block]:
    """Earlier messages' attachment references → content blocks again, newest first while the request has room.

    A file deleted since, or one that no longer fits beside newer ones, becomes a one-line note instead:
    the conversation goes on rather than failing every later turn.
    """
    for message in reversed(history):
        content = list(message["content"])
        for position, _kind, reference in list(_references(message)):
            content[position] = await _rehydrated(
                reference, files=files, blobs=blobs, settings=settings, user_id=user_id, budget=budget
            )
        message["content"] = content
    return history


async def _rehydrated(
    reference: Block,
    *,
    files: FileRepository,
    blobs: BlobStore,
    settings: FilesSettings,
    user_id: str,
    budget: RequestBudget,
) -> Block:
    filename = str(reference.get("filename", ""))
    record = await files.get_file(user_id, str(reference["uploadId"]))
    data = await blobs.get(record.storage_key) if record and record.status is FileStatus.READY else None
    file_type = FILE_TYPES.get(str(reference.get("format", "")))
    if record is None or data is None or file_type is None:
        return {"text": f"[attachment {filename} is no longer available]"}
    try:
        return await model_block(record, file_type, data, settings=settings, budget=budget)
    except FileTooLarge:
        return {"text": f"[attachment {filename} was shared earlier; it is not sent again]"}
    except AttachmentUnusable:
        # Read once already (its first turn checked it), but not by this provider's route: say so.
        return {"text": f"[attachment {filename} cannot be read by this model]"}
