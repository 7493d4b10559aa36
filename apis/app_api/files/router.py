"""The caller's chat attachments: presign, upload (local backend), complete, list, download, delete, quota."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from apis.app_api.deps import AppSettings, BlobsStore, CurrentUser, FilesRepo, SessionsRepo
from apis.app_api.files.dependencies import AppApiUrl
from apis.app_api.files.schemas import CompleteOut, FilePage, FileRead, PresignIn, PresignOut, QuotaOut
from apis.app_api.signed_uploads import read_granted_body
from apis.shared.errors import InvalidPageToken
from apis.shared.files import FileSort, FileSortBy, SortOrder
from apis.shared.files import service as files_service
from apis.shared.files.upload_tokens import UploadTokens, UploadUrlInvalid

router = APIRouter(prefix="/files", tags=["files"])

UploadIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the upload's id")]
NextToken = Annotated[str | None, Query(max_length=2048, description="the nextToken of the previous page")]
Cursor = Annotated[str | None, Query(max_length=2048, description="the nextCursor of the previous page")]


async def get_upload_tokens(request: Request) -> UploadTokens | None:
    tokens: UploadTokens | None = request.app.state.upload_tokens
    return tokens


UploadTokensDep = Annotated[UploadTokens | None, Depends(get_upload_tokens)]


@router.post("/presign", response_model=PresignOut)
async def presign_upload(
    body: PresignIn,
    user: CurrentUser,
    sessions: SessionsRepo,
    files: FilesRepo,
    blobs: BlobsStore,
    settings: AppSettings,
    upload_tokens: UploadTokensDep,
    app_api_url: AppApiUrl,
) -> PresignOut:
    """A pending upload and the absolute URL to PUT its bytes to; the conversation is created if it is new."""
    upload = await files_service.presign(
        sessions=sessions,
        files=files,
        blobs=blobs,
        upload_tokens=upload_tokens,
        settings=settings.files,
        user_id=user.user_id,
        session_id=body.session_id,
        filename=body.filename,
        mime_type=body.mime_type,
        size_bytes=body.size_bytes,
        app_api_url=app_api_url,
    )
    return PresignOut(
        upload_id=upload.upload_id,
        presigned_url=upload.url,
        expires_at=upload.expires_at,
        upload_url=upload.path_or_url,
    )


@router.put("/uploads/{token}", status_code=status.HTTP_200_OK, response_class=Response)
async def receive_upload(
    token: Annotated[str, Path(max_length=4096)],
    request: Request,
    files: FilesRepo,
    blobs: BlobsStore,
    upload_tokens: UploadTokensDep,
) -> Response:
    """The local backend's presigned PUT: the signed token in the path is the credential, as with S3."""
    if upload_tokens is None:
        raise UploadUrlInvalid("this server takes uploads through presigned storage URLs only")
    grant = upload_tokens.verify(token)
    data = await read_granted_body(request, grant)
    await files_service.receive_upload(files=files, blobs=blobs, grant=grant, data=data)
    return Response(status_code=status.HTTP_200_OK)


@router.post("/{upload_id}/complete", response_model=CompleteOut)
async def complete_upload(
    upload_id: UploadIdPath, user: CurrentUser, files: FilesRepo, blobs: BlobsStore, settings: AppSettings
) -> CompleteOut:
    """Check the bytes (present, declared size, declared type) and make the file ready; charged once."""
    record = await files_service.complete(
        files=files, blobs=blobs, settings=settings.files, user_id=user.user_id, upload_id=upload_id
    )
    return CompleteOut(
        upload_id=record.upload_id, status=record.status, filename=record.filename, size_bytes=record.size_bytes
    )


@router.get("", response_model=FilePage)
async def list_files(
    user: CurrentUser,
    files: FilesRepo,
    settings: AppSettings,
    session_id: Annotated[str | None, Query(alias="sessionId", max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
    next_token: NextToken = None,
    sort_by: Annotated[FileSortBy, Query(alias="sortBy")] = FileSortBy.DATE,
    sort_order: Annotated[SortOrder, Query(alias="sortOrder")] = SortOrder.DESC,
) -> FilePage:
    """The caller's ready files sorted by date (upload), size or type, optionally of one conversation."""
    if cursor is not None and next_token is not None and cursor != next_token:
        raise InvalidPageToken("cursor and next_token name different pages: send one of them")
    page = await files_service.list_files(
        files=files,
        user_id=user.user_id,
        limit=limit,
        page_token=cursor or next_token,
        session_id=session_id,
        sort=FileSort(sort_by, sort_order),
    )
    total = None
    if session_id is None:
        total = (await files_service.quota(files=files, user_id=user.user_id, settings=settings.files)).file_count
    return FilePage(
        files=[FileRead.model_validate(record, from_attributes=True) for record in page.items],
        next_cursor=page.next_token,
        next_token=page.next_token,
        total_count=total,
    )


@router.get("/quota", response_model=QuotaOut)
async def get_quota(user: CurrentUser, files: FilesRepo, settings: AppSettings) -> QuotaOut:
    quota = await files_service.quota(files=files, user_id=user.user_id, settings=settings.files)
    return QuotaOut(used_bytes=quota.used_bytes, max_bytes=quota.max_bytes, file_count=quota.file_count)


@router.get(
    "/{upload_id}/download",
    response_class=Response,
    responses={200: {"description": "the bytes"}, 307: {"description": "to a short-lived storage URL"}},
)
async def download_file(
    upload_id: UploadIdPath, user: CurrentUser, files: FilesRepo, blobs: BlobsStore, settings: AppSettings
) -> Response:
    """A redirect to a presigned URL in the cloud; the bytes themselves on the local backend."""
    download = await files_service.download(
        files=files, blobs=blobs, settings=settings.files, user_id=user.user_id, upload_id=upload_id
    )
    if download.url is not None:
        return RedirectResponse(download.url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    record = download.record
    return Response(
        content=download.data,
        media_type=record.mime_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(record.filename, safe='')}",
            # The type was checked against the content at upload; browsers must not guess another.
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(upload_id: UploadIdPath, user: CurrentUser, files: FilesRepo, blobs: BlobsStore) -> Response:
    """Remove the bytes and the record, and release the quota."""
    await files_service.delete(files=files, blobs=blobs, user_id=user.user_id, upload_id=upload_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
