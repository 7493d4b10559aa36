"""The BlobStore contract on a local folder and on S3 (a moto server), then what each store owes beyond it."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import stat
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx
import pytest
from prometheus_client import REGISTRY

from apis.shared.clock import new_id
from apis.shared.config import StorageSettings
from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.files.models import attachment_key
from apis.shared.files.repository import BlobStore
from apis.shared.storage import dynamo as dynamo_backend
from apis.shared.storage.dynamo.blobs import S3BlobStore, content_disposition
from apis.shared.storage.dynamo.client import s3_client
from apis.shared.storage.local_blobs import BACKEND as LOCAL_BACKEND
from apis.shared.storage.local_blobs import LocalBlobStore
from tests.helpers import random_user_id

BLOB_STORES = ["local", pytest.param("s3", marks=pytest.mark.dynamodb)]
A_KEY = attachment_key("someone", "0190a8e2-7c1d-7b3e-9f00-123456789abc")
INVALID_KEYS = [
    "",
    "../x",
    "attachments/../../etc/passwd",
    "/etc/passwd",
    "/" + A_KEY,
    A_KEY + "\n",
    A_KEY + "/../../../x",
    A_KEY.upper(),
    "attachments/" + "0" * 32 + "/" + "../" * 12,
]
KeyedCall = Callable[[BlobStore, str], Awaitable[object]]
KEYED_CALLS: dict[str, KeyedCall] = {
    "put": lambda store, key: store.put(key, b"data", content_type="text/plain"),
    "get": lambda store, key: store.get(key),
    "size": lambda store, key: store.size(key),
    "delete": lambda store, key: store.delete(key),
    "presign_upload": lambda store, key: store.presign_upload(
        key, content_type="text/plain", size_bytes=4, expires_in=60
    ),
    "presign_download": lambda store, key: store.presign_download(
        key, filename="a.txt", content_type="text/plain", expires_in=60
    ),
}


def random_key() -> str:
    return attachment_key(random_user_id(), new_id())


def files_under(root: Path) -> list[str]:
    """Every file below `root`, temporary ones included, relative to it."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if not path.is_dir())


def storage_errors(backend: str, kind: str) -> float:
    return REGISTRY.get_sample_value("colloquy_storage_errors_total", {"backend": backend, "kind": kind}) or 0.0


@asynccontextmanager
async def s3_store_on(settings: StorageSettings) -> AsyncIterator[S3BlobStore]:
    """A store over the settings' bucket, with its client closed afterwards."""
    client = await anyio.to_thread.run_sync(partial(s3_client, settings))
    try:
        yield S3BlobStore(client, settings.s3_bucket_name)
    finally:
        await anyio.to_thread.run_sync(client.close)


@pytest.fixture
async def s3_store(dynamo_storage_settings: StorageSettings) -> AsyncIterator[S3BlobStore]:
    await dynamo_backend.initialize(dynamo_storage_settings)
    async with s3_store_on(dynamo_storage_settings) as opened:
        yield opened


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def local_store(local_root: Path) -> LocalBlobStore:
    return LocalBlobStore(local_root)


@pytest.fixture(params=BLOB_STORES)
def store(request: pytest.FixtureRequest) -> BlobStore:
    """An empty store of each kind in turn."""
    chosen: BlobStore = request.getfixturevalue("local_store" if request.param == "local" else "s3_store")
    return chosen


# The contract, on every store.


async def test_put_then_get_returns_every_byte_value(store: BlobStore) -> None:
    key, data = random_key(), bytes(range(256)) * 4
    await store.put(key, data, content_type="application/octet-stream")
    assert await store.get(key) == data
    assert await store.size(key) == len(data)


async def test_put_then_get_round_trips_five_megabytes(store: BlobStore) -> None:
    key, data = random_key(), os.urandom(5 * 1024 * 1024 + 17)
    await store.put(key, data, content_type="application/pdf")
    assert await store.get(key) == data
    assert await store.size(key) == len(data)


async def test_an_empty_object_is_stored_and_is_not_a_missing_one(store: BlobStore) -> None:
    key = random_key()
    await store.put(key, b"", content_type="text/plain")
    assert await store.get(key) == b""
    assert await store.size(key) == 0


async def test_put_replaces_the_previous_bytes_whole(store: BlobStore) -> None:
    key = random_key()
    await store.put(key, b"a much longer first version of the object", content_type="text/plain")
    await store.put(key, b"second", content_type="text/plain")
    assert await store.get(key) == b"second"
    assert await store.size(key) == len(b"second")


async def test_get_and_size_of_a_missing_key_are_none(store: BlobStore) -> None:
    key = random_key()
    assert await store.get(key) is None
    assert await store.size(key) is None


async def test_delete_removes_the_object(store: BlobStore) -> None:
    key = random_key()
    await store.put(key, b"gone soon", content_type="text/plain")
    await store.delete(key)
    assert await store.get(key) is None
    assert await store.size(key) is None


async def test_deleting_a_missing_key_twice_is_fine(store: BlobStore) -> None:
    key = random_key()
    await store.delete(key)
    await store.delete(key)
    assert await store.get(key) is None


async def test_keys_hold_their_own_bytes(store: BlobStore) -> None:
    first, second = random_key(), random_key()
    await store.put(first, b"first", content_type="text/plain")
    await store.put(second, b"second", content_type="text/plain")
    await store.delete(first)
    assert await store.get(first) is None
    assert await store.get(second) == b"second"


@pytest.fixture(params=BLOB_STORES)
async def offline_store(request: pytest.FixtureRequest, local_store: LocalBlobStore) -> AsyncIterator[BlobStore]:
    """A store of each kind with no bucket behind it: a key check must refuse before any request is made."""
    if request.param == "local":
        yield local_store
        return
    settings: StorageSettings = request.getfixturevalue("unreachable_storage_settings")
    async with s3_store_on(settings) as opened:
        yield opened


@pytest.mark.parametrize("name", list(KEYED_CALLS))
@pytest.mark.parametrize("key", INVALID_KEYS)
async def test_a_key_outside_the_attachment_shape_is_refused(offline_store: BlobStore, key: str, name: str) -> None:
    # On S3 a call that got past the check would meet a closed port: StorageUnavailableError, not ValueError.
    with pytest.raises(ValueError, match="not a blob key"):
        await KEYED_CALLS[name](offline_store, key)


async def test_concurrent_puts_of_one_key_leave_exactly_one_whole_payload(store: BlobStore) -> None:
    key = random_key()
    # Different lengths too, so that a mix of two writes could not pass for either of them.
    payloads = [bytes([index]) * (64 * 1024 + index * 4099) for index in range(8)]
    await asyncio.gather(*(store.put(key, payload, content_type="text/plain") for payload in payloads))
    stored = await store.get(key)
    assert stored in payloads
    assert await store.size(key) == len(stored or b"")


async def test_ping_answers_on_a_working_store(store: BlobStore) -> None:
    await store.ping()


# The local folder.


async def test_a_local_store_leaves_only_its_objects_behind(local_store: LocalBlobStore, local_root: Path) -> None:
    kept, replaced, deleted = random_key(), random_key(), random_key()
    await local_store.put(kept, b"kept", content_type="text/plain")
    await local_store.put(replaced, b"one", content_type="text/plain")
    await local_store.put(replaced, b"two", content_type="text/plain")
    await local_store.put(deleted, b"gone", content_type="text/plain")
    await local_store.delete(deleted)
    await local_store.ping()
    assert files_under(local_root) == sorted([kept, replaced])
    assert (local_root / replaced).read_bytes() == b"two"


def failing_file_fsync(original: Callable[[int], None]) -> Callable[[int], None]:
    """os.fsync that fails for regular files (the object being written) and works for directories."""

    def fsync(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, "No space left on device")
        original(fd)

    return fsync


def failing_replace(source: object, target: object) -> None:
    raise OSError(errno.EIO, "Input/output error")


@pytest.mark.parametrize("broken", ["fsync", "replace"])
@pytest.mark.parametrize("had_a_version", [False, True])
async def test_a_failed_local_put_leaves_no_torn_or_temporary_file(
    local_store: LocalBlobStore,
    local_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    broken: str,
    had_a_version: bool,
) -> None:
    key = random_key()
    if had_a_version:
        await local_store.put(key, b"the old version", content_type="text/plain")
    counted = storage_errors(LOCAL_BACKEND, "error")
    if broken == "fsync":
        monkeypatch.setattr(os, "fsync", failing_file_fsync(os.fsync))
    else:
        monkeypatch.setattr(os, "replace", failing_replace)

    with caplog.at_level(logging.ERROR), pytest.raises(StorageError) as raised:
        await local_store.put(key, b"the new version, never whole", content_type="text/plain")

    monkeypatch.undo()
    assert type(raised.value) is StorageError
    assert "local blob store" in raised.value.detail
    assert "No space" not in raised.value.detail
    assert "Input/output" not in raised.value.detail
    assert str(local_root) not in raised.value.detail
    assert files_under(local_root) == ([key] if had_a_version else [])
    assert await local_store.get(key) == (b"the old version" if had_a_version else None)
    assert storage_errors(LOCAL_BACKEND, "error") == counted + 1
    assert any(entry.exc_info and isinstance(entry.exc_info[1], OSError) for entry in caplog.records)


@pytest.fixture
def read_only_root(local_root: Path) -> Iterator[Path]:
    local_root.mkdir()
    local_root.chmod(0o500)
    yield local_root
    local_root.chmod(0o700)


@pytest.fixture
def file_root(local_root: Path) -> Path:
    """A root that is a file: no permission bit lets even root make a directory inside it."""
    local_root.write_bytes(b"not a folder")
    return local_root


def kind_of(path: Path) -> str:
    return "folder" if path.is_dir() else "file" if path.exists() else "nothing"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
async def test_a_read_only_local_root_gives_storage_error(local_store: LocalBlobStore, read_only_root: Path) -> None:
    with pytest.raises(StorageError):
        await local_store.put(random_key(), b"data", content_type="text/plain")
    with pytest.raises(StorageError):
        await local_store.ping()
    assert files_under(read_only_root) == []


@pytest.mark.parametrize("name", ["put", "get", "size", "delete"])
async def test_a_local_root_that_is_a_file_gives_storage_error(
    local_store: LocalBlobStore, file_root: Path, name: str
) -> None:
    with pytest.raises(StorageError):
        await KEYED_CALLS[name](local_store, random_key())
    with pytest.raises(StorageError):
        await local_store.ping()
    assert kind_of(file_root) == "file"


async def test_local_ping_creates_a_missing_root(local_store: LocalBlobStore, local_root: Path) -> None:
    assert kind_of(local_root) == "nothing"
    await local_store.ping()
    assert kind_of(local_root) == "folder"
    assert files_under(local_root) == []


async def test_a_local_store_has_no_presigned_urls(local_store: LocalBlobStore) -> None:
    key = random_key()
    assert await local_store.presign_upload(key, content_type="text/plain", size_bytes=4, expires_in=60) is None
    assert await local_store.presign_download(key, filename="a.txt", content_type="text/plain", expires_in=60) is None


# S3.


@pytest.mark.dynamodb
async def test_a_presigned_upload_url_accepts_the_bytes(s3_store: S3BlobStore) -> None:
    key, data = random_key(), bytes(range(256)) * 64
    url = await s3_store.presign_upload(key, content_type="application/pdf", size_bytes=len(data), expires_in=300)
    async with httpx.AsyncClient() as http:
        response = await http.put(url, content=data, headers={"Content-Type": "application/pdf"})
    assert response.status_code == 200, response.text
    assert await s3_store.get(key) == data
    head = await anyio.to_thread.run_sync(partial(s3_store.client.head_object, Bucket=s3_store.bucket, Key=key))
    assert head["ContentType"] == "application/pdf"


@pytest.mark.dynamodb
async def test_a_presigned_upload_url_signs_its_type_and_size(s3_store: S3BlobStore) -> None:
    # moto does not check signatures, so this reads what S3 would check: the signed headers.
    url = await s3_store.presign_upload(random_key(), content_type="image/png", size_bytes=123, expires_in=60)

    signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")

    assert {"content-type", "content-length", "host"} <= set(signed)


@pytest.mark.dynamodb
async def test_a_presigned_download_url_serves_the_bytes_as_a_named_attachment(s3_store: S3BlobStore) -> None:
    key, data, filename = random_key(), os.urandom(4096), 'résumé 2024/25 (final); "v2".pdf'
    await s3_store.put(key, data, content_type="application/octet-stream")
    url = await s3_store.presign_download(key, filename=filename, content_type="application/pdf", expires_in=300)
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%202024%2F25%20%28final%29%3B%20%22v2%22.pdf"
    )
    assert response.headers["content-disposition"] == content_disposition(filename)


@pytest.mark.dynamodb
async def test_put_keeps_the_content_type(s3_store: S3BlobStore) -> None:
    key = random_key()
    await s3_store.put(key, b"<p>hi</p>", content_type="text/html")
    head = await anyio.to_thread.run_sync(partial(s3_store.client.head_object, Bucket=s3_store.bucket, Key=key))
    assert head["ContentType"] == "text/html"


@pytest.mark.dynamodb
@pytest.mark.parametrize("name", ["put", "get", "size", "delete"])
async def test_an_unreachable_s3_endpoint_gives_storage_unavailable(
    unreachable_storage_settings: StorageSettings, name: str
) -> None:
    async with s3_store_on(unreachable_storage_settings) as unreachable:
        with pytest.raises(StorageUnavailableError) as raised:
            await KEYED_CALLS[name](unreachable, random_key())
        assert "cannot be reached" in raised.value.detail
        with pytest.raises(StorageUnavailableError):
            await unreachable.ping()


@pytest.mark.dynamodb
async def test_a_missing_bucket_is_an_error_not_an_empty_store(dynamo_storage_settings: StorageSettings) -> None:
    # Not initialised: the settings' bucket does not exist.
    async with s3_store_on(dynamo_storage_settings) as missing:
        with pytest.raises(StorageError, match="does not exist"):
            await missing.ping()
        with pytest.raises(StorageError, match="does not exist"):
            await missing.get(random_key())
