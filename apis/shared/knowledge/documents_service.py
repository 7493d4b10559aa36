"""An assistant's documents: upload URL, arrival of the bytes, list, read, download link and delete.

Records (DocumentRepository), bytes (BlobStore) and index entries (KnowledgeIndex) are three systems, so each
operation orders its writes so that a failure part way leaves a state the same call, retried, finishes:
the record is written before any byte can arrive; a delete removes index entries and bytes first and the record
last, so a failure is a 503 and the record stays to say what is left to remove.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from apis.shared.assistants import (
    Assistant,
    Document,
    DocumentNotFound,
    DocumentRepository,
    DocumentStatus,
    KnowledgeIndex,
    document_key,
)
from apis.shared.clock import new_id, now_iso, utc_now
from apis.shared.config import KnowledgeSettings
from apis.shared.errors import ConfigurationError, ConflictError, RuleViolation
from apis.shared.files import BlobStore
from apis.shared.files.exceptions import FileTooLarge
from apis.shared.files.upload_tokens import UploadGrant, UploadTokens
from apis.shared.knowledge.document_types import document_type
from apis.shared.pagination import Page, decode_token, encode_token

LOCAL_UPLOAD_PATH = "/assistants/documents/uploads/"
LOCAL_DOWNLOAD_PATH = "/assistants/documents/downloads/"
UPLOAD_AUDIENCE = "colloquy-knowledge-upload"
DOWNLOAD_AUDIENCE = "colloquy-knowledge-download"
_TOKEN_FIELDS = ("createdAt", "documentId")


class DocumentLimitReached(RuleViolation):
    """The assistant already has as many documents as KNOWLEDGE_MAX_DOCUMENTS allows."""

    code = "document_limit_reached"


@dataclass(frozen=True, slots=True)
class DocumentUpload:
    """A new document record and the absolute URL that takes one PUT of its bytes."""

    document: Document
    url: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class DocumentLink:
    """A short-lived absolute URL that serves a document's bytes with no other credential."""

    url: str
    filename: str
    expires_in: int


def grant_id(document: Document) -> str:
    """The id a signed URL names: the assistant's and the document's, since a document is found under both."""
    return f"{document.assistant_id}/{document.document_id}"


def ids_of_grant(grant: UploadGrant) -> tuple[str, str]:
    """(assistant id, document id) of a signed URL's grant."""
    assistant_id, _, document_id = grant.upload_id.partition("/")
    return assistant_id, document_id


async def request_upload(
    *,
    documents: DocumentRepository,
    blobs: BlobStore,
    upload_tokens: UploadTokens | None,
    settings: KnowledgeSettings,
    assistant: Assistant,
    filename: str,
    content_type: str,
    size_bytes: int,
    app_api_url: str,
) -> DocumentUpload:
    """A document in status uploading and the URL for its bytes: 400 type or limit of documents, 413 size."""
    file_type = document_type(filename, content_type, settings.allowed_types)
    if size_bytes > settings.knowledge_max_document_bytes:
        limit_mib = settings.knowledge_max_document_bytes / (1024 * 1024)
        raise FileTooLarge(f"{filename} is {size_bytes / (1024 * 1024):.1f} MiB; a document may be {limit_mib:.1f} MiB")
    if await documents.count(assistant.assistant_id) >= settings.knowledge_max_documents:
        raise DocumentLimitReached(
            f"this assistant has {settings.knowledge_max_documents} documents, the most it may have: delete one first"
        )
    document_id = new_id()
    now = now_iso()
    # The type the client will PUT with (S3 checks it against the signature): what it declared, or ours.
    declared = content_type.strip() or file_type.mime_type
    document = await documents.create(
        Document(
            document_id=document_id,
            assistant_id=assistant.assistant_id,
            owner_id=assistant.owner_id,
            filename=filename,
            content_type=declared,
            size_bytes=size_bytes,
            storage_key=document_key(assistant.assistant_id, document_id),
            created_at=now,
            updated_at=now,
        )
    )
    expires_in = settings.knowledge_upload_url_seconds
    url = await blobs.presign_upload(
        document.storage_key, content_type=declared, size_bytes=size_bytes, expires_in=expires_in
    )
    if url is None:
        token = _signer(upload_tokens).issue(_grant(document), expires_at=utc_now() + timedelta(seconds=expires_in))
        url = app_api_url + LOCAL_UPLOAD_PATH + token
    return DocumentUpload(document=document, url=url, expires_in=expires_in)


async def receive_upload(
    *, documents: DocumentRepository, blobs: BlobStore, grant: UploadGrant, data: bytes
) -> Document:
    """Store the bytes of a signed local upload; the document must still be uploading (409 otherwise)."""
    assistant_id, document_id = ids_of_grant(grant)
    document = await documents.get(assistant_id, document_id)
    if document is None or document.owner_id != grant.user_id:
        raise DocumentNotFound.of(document_id)
    if document.status is not DocumentStatus.UPLOADING:
        raise ConflictError(
            f"document {document_id} is {document.status}: it takes no more bytes", code="not_uploading"
        )
    if len(data) > document.size_bytes:
        raise FileTooLarge(f"{document.filename}: more bytes than the {document.size_bytes} declared")
    await blobs.put(document.storage_key, data, content_type=document.content_type)
    if await documents.get(assistant_id, document_id) is None:
        # Deleted while the bytes were on their way: they must not outlive their record.
        await blobs.delete(document.storage_key)
        raise DocumentNotFound.of(document_id)
    return document


async def get_or_raise(*, documents: DocumentRepository, assistant_id: str, document_id: str) -> Document:
    document = await documents.get(assistant_id, document_id)
    if document is None:
        raise DocumentNotFound.of(document_id)
    return document


async def bytes_arrived(*, blobs: BlobStore, document: Document) -> bool:
    """Whether an uploading document's bytes are in the store (S3 sends no signal when a presigned PUT lands)."""
    return document.status is DocumentStatus.UPLOADING and await blobs.size(document.storage_key) is not None


async def get_and_notice_arrival(
    *,
    documents: DocumentRepository,
    blobs: BlobStore,
    assistant_id: str,
    document_id: str,
    on_arrival: Callable[[Document], None],
) -> Document:
    """The document; one still uploading whose bytes are there is handed to `on_arrival` (ingestion starts).

    The client polls this route after its PUT, so ingestion starts within a poll of the bytes' arrival with
    no call the client does not make; the sweep (ingestion_worker.py) covers a client that stopped polling.
    """
    document = await get_or_raise(documents=documents, assistant_id=assistant_id, document_id=document_id)
    if await bytes_arrived(blobs=blobs, document=document):
        on_arrival(document)
    return document


async def list_documents(
    *, documents: DocumentRepository, assistant_id: str, limit: int, page_token: str | None
) -> Page[Document]:
    """The assistant's documents, oldest first; a token when more follow."""
    after = None
    if page_token is not None:
        cursor = decode_token(page_token, fields=_TOKEN_FIELDS)
        after = (cursor["createdAt"], cursor["documentId"])
    found = await documents.list_documents(assistant_id, after=after, limit=limit + 1)
    page = found[:limit]
    next_token = None
    if len(found) > limit:
        last = page[-1]
        next_token = encode_token({"createdAt": last.created_at, "documentId": last.document_id})
    return Page(items=page, next_token=next_token)


async def download_link(
    *,
    blobs: BlobStore,
    download_tokens: UploadTokens | None,
    settings: KnowledgeSettings,
    document: Document,
    app_api_url: str,
) -> DocumentLink:
    """A URL to the document's bytes: S3's presigned GET, or the app API's own signed route on the local store."""
    if document.status is DocumentStatus.UPLOADING:
        raise ConflictError(f"document {document.document_id} has not been uploaded yet", code="document_not_uploaded")
    expires_in = settings.knowledge_download_url_seconds
    url = await blobs.presign_download(
        document.storage_key, filename=document.filename, content_type=document.content_type, expires_in=expires_in
    )
    if url is None:
        token = _signer(download_tokens).issue(_grant(document), expires_at=utc_now() + timedelta(seconds=expires_in))
        url = app_api_url + LOCAL_DOWNLOAD_PATH + token
    return DocumentLink(url=url, filename=document.filename, expires_in=expires_in)


async def delete_document(
    *, documents: DocumentRepository, knowledge: KnowledgeIndex, blobs: BlobStore, document: Document
) -> None:
    """Index entries, then bytes, then the record: nothing of it is retrieved afterwards, nothing is orphaned."""
    await knowledge.delete_document(document.assistant_id, document.document_id)
    await blobs.delete(document.storage_key)
    await documents.delete(document.assistant_id, document.document_id)


async def delete_knowledge_base(
    *, documents: DocumentRepository, knowledge: KnowledgeIndex, blobs: BlobStore, assistant_id: str
) -> int:
    """Every document of the assistant, then whatever index entries remain; how many documents went.

    Pages are read from the start each time, since each page's documents are gone once handled.
    """
    deleted = 0
    while batch := await documents.list_documents(assistant_id, after=None, limit=100):
        for document in batch:
            await delete_document(documents=documents, knowledge=knowledge, blobs=blobs, document=document)
            deleted += 1
    await knowledge.delete_assistant(assistant_id)
    return deleted


def _grant(document: Document) -> UploadGrant:
    return UploadGrant(
        user_id=document.owner_id,
        upload_id=grant_id(document),
        size_bytes=document.size_bytes,
        mime_type=document.content_type,
    )


def _signer(tokens: UploadTokens | None) -> UploadTokens:
    if tokens is None:
        raise ConfigurationError("this blob store has no presigned URLs and the service has no signing key")
    return tokens
