"""BlobStore on an S3 bucket: one object per key; S3 itself makes every PUT whole and the last one win.

Each boto3 call runs in anyio's worker threads inside `map_exceptions`, so failures arrive as
`StorageUnavailableError` or `StorageError` (see errors.py). A missing key answers None; a missing bucket is an
error, except on HeadObject, whose 404 has no body to tell the two apart: `ping` at start catches that case.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

import anyio.to_thread
from botocore.exceptions import ClientError

from apis.shared.errors import StorageError
from apis.shared.storage.dynamo.errors import error_code, map_exceptions, record
from apis.shared.storage.local_blobs import checked_key

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

T = TypeVar("T")
# GetObject says NoSuchKey; HeadObject has no body and says only its status.
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_MISSING_BUCKET_CODES = frozenset({"NoSuchBucket", "404", "NotFound"})


def content_disposition(filename: str) -> str:
    """An attachment header that carries any filename intact (RFC 6266 with RFC 5987's UTF-8 encoding)."""
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


class S3BlobStore:
    """Bytes as objects of one bucket, which `colloquy storage init` creates."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.resource = f"bucket {bucket}"

    async def _run(self, call: Callable[[], T]) -> T:
        """Run one blocking boto3 call off the event loop; AWS failures become storage errors."""
        with map_exceptions(self.resource):
            return await anyio.to_thread.run_sync(call)

    def _get_object(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) == "NoSuchKey":
                return None
            raise
        body = response["Body"]
        try:
            # Read in the worker thread too: the bytes arrive over the network after the headers.
            return body.read()
        finally:
            body.close()

    def _head_object(self, key: str) -> int | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in _MISSING_KEY_CODES:
                return None
            raise
        return response["ContentLength"]

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store `data` under `key` with its content type, which downloads are served with."""
        call = partial(
            self.client.put_object, Bucket=self.bucket, Key=checked_key(key), Body=data, ContentType=content_type
        )
        await self._run(call)

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is no such key."""
        return await self._run(partial(self._get_object, checked_key(key)))

    async def size(self, key: str) -> int | None:
        """The object's size from HeadObject (no bytes move), or None if there is no such key."""
        return await self._run(partial(self._head_object, checked_key(key)))

    async def delete(self, key: str) -> None:
        """Remove the object; S3 answers a missing key as a success, so deleting twice is fine."""
        await self._run(partial(self.client.delete_object, Bucket=self.bucket, Key=checked_key(key)))

    async def presign_upload(self, key: str, *, content_type: str, size_bytes: int, expires_in: int) -> str:
        """A presigned PutObject URL bound to its key, type and size: `Content-Type` and `Content-Length` are
        signed headers, so S3 refuses a PUT of another type or size. `complete` checks both again anyway.
        """
        params = {
            "Bucket": self.bucket,
            "Key": checked_key(key),
            "ContentType": content_type,
            "ContentLength": size_bytes,
        }
        call = partial(self.client.generate_presigned_url, "put_object", Params=params, ExpiresIn=expires_in)
        # Signing makes no request, but resolving credentials may read files or the network: off the loop too.
        return await self._run(call)

    async def presign_download(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str:
        """A presigned GetObject URL whose response names `filename` as an attachment, with `content_type`."""
        params = {
            "Bucket": self.bucket,
            "Key": checked_key(key),
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": content_type,
        }
        call = partial(self.client.generate_presigned_url, "get_object", Params=params, ExpiresIn=expires_in)
        return await self._run(call)

    def _bucket_exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            # HeadBucket's 404 has no body, so map_exceptions could not name it for what it is.
            if error_code(exc) in _MISSING_BUCKET_CODES:
                return False
            raise
        return True

    async def ping(self) -> None:
        """HeadBucket: the bucket exists and these credentials may use it."""
        if not await self._run(self._bucket_exists):
            raise record(StorageError(f"{self.resource} does not exist: run `colloquy storage init`"))
