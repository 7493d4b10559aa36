"""An assistant's documents: upload URL, list, status, download link, delete; and the local backend's signed
upload and download routes (the app API's answer to S3's presigned URLs)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response, status

from apis.app_api.assistants.dependencies import OwnedAssistant, ReadableAssistant
from apis.app_api.assistants.document_schemas import (
    DocumentPage,
    DocumentRead,
    DownloadUrlOut,
    UploadUrlIn,
    UploadUrlOut,
)
from apis.app_api.assistants.knowledge_runtime import KnowledgeRuntimeDep
from apis.app_api.deps import AppSettings, BlobsStore, DocumentsRepo, KnowledgeIdx
from apis.app_api.files.dependencies import AppApiUrl
from apis.app_api.signed_uploads import read_granted_body
from apis.shared.assistants import Document, DocumentNotFound
from apis.shared.files.upload_tokens import UploadUrlInvalid
from apis.shared.knowledge import documents_service

router = APIRouter(prefix="/assistants/{assistant_id}/documents", tags=["documents"])
signed_router = APIRouter(prefix="/assistants/documents", tags=["documents"])

DocumentIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the document's id")]
NextToken = Annotated[str | None, Query(max_length=2048, description="the nextToken of the previous page")]
TokenPath = Annotated[str, Path(max_length=4096)]
# Without `limit` the whole list is answered, read this many at a time: the reference client sends no limit.
_WHOLE_LIST_CHUNK = 200


@router.post("/upload-url", response_model=UploadUrlOut)
async def request_upload_url(
    body: UploadUrlIn,
    assistant: OwnedAssistant,
    documents: DocumentsRepo,
    blobs: BlobsStore,
    settings: AppSettings,
    runtime: KnowledgeRuntimeDep,
    app_api_url: AppApiUrl,
) -> UploadUrlOut:
    """A document in status uploading and the absolute URL to PUT its bytes to; ingestion starts on arrival."""
    upload = await documents_service.request_upload(
        documents=documents,
        blobs=blobs,
        upload_tokens=runtime.upload_tokens,
        settings=settings.knowledge,
        assistant=assistant,
        filename=body.filename,
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        app_api_url=app_api_url,
    )
    return UploadUrlOut(document_id=upload.document.document_id, upload_url=upload.url, expires_in=upload.expires_in)


@router.get("", response_model=DocumentPage, response_model_exclude_none=True)
async def list_documents(
    assistant: OwnedAssistant,
    documents: DocumentsRepo,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    next_token: NextToken = None,
) -> DocumentPage:
    """The assistant's documents, oldest first (owner only); every one of them when no `limit` is sent."""
    listed: list[Document] = []
    token = next_token
    while True:
        page = await documents_service.list_documents(
            documents=documents,
            assistant_id=assistant.assistant_id,
            limit=limit or _WHOLE_LIST_CHUNK,
            page_token=token,
        )
        listed += page.items
        token = page.next_token
        if limit is not None or token is None:
            return DocumentPage(documents=[DocumentRead.of(d) for d in listed], next_token=token)


@router.get("/{document_id}", response_model=DocumentRead, response_model_exclude_none=True)
async def get_document(
    document_id: DocumentIdPath,
    assistant: OwnedAssistant,
    documents: DocumentsRepo,
    blobs: BlobsStore,
    runtime: KnowledgeRuntimeDep,
) -> DocumentRead:
    """The document's status, chunk count and error; polling it starts ingestion once the bytes are in S3."""
    document = await documents_service.get_and_notice_arrival(
        documents=documents,
        blobs=blobs,
        assistant_id=assistant.assistant_id,
        document_id=document_id,
        on_arrival=runtime.worker.submit,
    )
    return DocumentRead.of(document)


@router.get("/{document_id}/download", response_model=DownloadUrlOut)
async def get_download_url(
    document_id: DocumentIdPath,
    assistant: ReadableAssistant,
    documents: DocumentsRepo,
    blobs: BlobsStore,
    settings: AppSettings,
    runtime: KnowledgeRuntimeDep,
    app_api_url: AppApiUrl,
) -> DownloadUrlOut:
    """A short-lived link to the document's bytes, for anyone who may use the assistant (a citation's source)."""
    document = await documents_service.get_or_raise(
        documents=documents, assistant_id=assistant.assistant_id, document_id=document_id
    )
    link = await documents_service.download_link(
        blobs=blobs,
        download_tokens=runtime.download_tokens,
        settings=settings.knowledge,
        document=document,
        app_api_url=app_api_url,
    )
    return DownloadUrlOut(download_url=link.url, filename=link.filename, expires_in=link.expires_in)


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_document(
    document_id: DocumentIdPath,
    assistant: OwnedAssistant,
    documents: DocumentsRepo,
    knowledge: KnowledgeIdx,
    blobs: BlobsStore,
) -> Response:
    """Index entries, bytes and record; a failure is a 503 and the same DELETE finishes the work."""
    document = await documents_service.get_or_raise(
        documents=documents, assistant_id=assistant.assistant_id, document_id=document_id
    )
    await documents_service.delete_document(documents=documents, knowledge=knowledge, blobs=blobs, document=document)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@signed_router.put("/uploads/{token}", response_class=Response)
async def receive_upload(
    token: TokenPath,
    request: Request,
    documents: DocumentsRepo,
    blobs: BlobsStore,
    runtime: KnowledgeRuntimeDep,
) -> Response:
    """The local backend's presigned PUT: the signed token in the path is the only credential, as with S3."""
    if runtime.upload_tokens is None:
        raise UploadUrlInvalid("this server takes uploads through presigned storage URLs only")
    grant = runtime.upload_tokens.verify(token)
    data = await read_granted_body(request, grant)
    document = await documents_service.receive_upload(documents=documents, blobs=blobs, grant=grant, data=data)
    runtime.worker.submit(document)
    return Response(status_code=status.HTTP_200_OK)


@signed_router.get("/downloads/{token}", response_class=Response)
async def serve_download(
    token: TokenPath, documents: DocumentsRepo, blobs: BlobsStore, runtime: KnowledgeRuntimeDep
) -> Response:
    """The local backend's presigned GET: the bytes, as an attachment, to whoever holds the signed link."""
    if runtime.download_tokens is None:
        raise UploadUrlInvalid("this server serves documents through presigned storage URLs only")
    grant = runtime.download_tokens.verify(token)
    assistant_id, document_id = documents_service.ids_of_grant(grant)
    document = await documents.get(assistant_id, document_id)
    data = None if document is None else await blobs.get(document.storage_key)
    if document is None or data is None:
        raise DocumentNotFound.of(document_id)
    return Response(
        content=data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
