"""BlobStore on a local folder (`DATA_DIR/blobs`): one file per key, written so that no reader sees a torn file.

A put writes a temporary file beside its target, fsyncs it, renames it over the target (atomic on POSIX) and
fsyncs the directory, so a crash leaves the old object or the new one, never part of either; concurrent puts
of one key each rename a whole file, and the last rename wins. Temporary names start with a dot, which no key
can, so a reader never meets one. Directories are left in place when their last file goes: removing them
would race with a put that is about to write into them. Folders are made 0700 and files 0600
(`durable_files`): the bytes are the users' attachments.

Every blocking call runs in anyio's worker threads. An OSError becomes `StorageError`, counted and logged
with its cause; the error's detail names the store, never a path or the system's own text.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from apis.shared.assistants.documents import DOCUMENT_KEY_PATTERN
from apis.shared.durable_files import ensure_directory, sync_directory, write_temp
from apis.shared.errors import StorageError
from apis.shared.files.models import ATTACHMENT_KEY_PATTERN
from apis.shared.observability import STORAGE_ERRORS
from apis.shared.storage.write_health import WriteHealth

logger = logging.getLogger(__name__)

BACKEND = "local_blobs"
_KEYS = (re.compile(ATTACHMENT_KEY_PATTERN), re.compile(DOCUMENT_KEY_PATTERN))

T = TypeVar("T")


def checked_key(key: str) -> str:
    """`key` if it has a shape the files or knowledge services make; anything else could name a path outside the
    store."""
    # fullmatch, because the pattern's `$` would also accept a trailing newline.
    if not isinstance(key, str) or not any(pattern.fullmatch(key) for pattern in _KEYS):
        raise ValueError(
            "not a blob key: keys look like attachments/<owner digest>/<upload id>"
            " or knowledge/<assistant id>/<document id>"
        )
    return key


def _write_atomically(path: Path, data: bytes) -> None:
    ensure_directory(path.parent)
    temp = write_temp(path, data)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    sync_directory(path.parent)


def _probe(root: Path) -> None:
    """Create the root if missing, then check that it is a folder this process may write in. Nothing is written:
    GET /health calls this every time, and the real writes report how they fare (write_health.py)."""
    ensure_directory(root)
    if not root.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder")
    if not os.access(root, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "not writable")


class LocalBlobStore:
    """Bytes in files under `root`, one per key, at `root / key`; see the module docstring for the guarantees."""

    def __init__(self, root: Path, *, writes: WriteHealth | None = None) -> None:
        self.root = root
        self.writes = writes or WriteHealth()

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    @contextmanager
    def _translate(self, action: str, *, writing: bool) -> Iterator[None]:
        """Raise StorageError, counted and logged with its cause, for any OSError inside the block; a failed
        write also tells `writes` (by the error's name, such as ENOSPC)."""
        try:
            yield
        except OSError as exc:
            if writing:
                self.writes.failed(f"local blob store: {errno.errorcode.get(exc.errno or 0, type(exc).__name__)}")
            STORAGE_ERRORS.labels(backend=BACKEND, kind="error").inc()
            logger.error("local blob store under %s failed to %s", self.root, action, exc_info=exc)
            raise StorageError(f"the local blob store failed to {action}; the service log has the details") from exc

    async def _run(self, action: str, call: Callable[[], T], *, writing: bool = False) -> T:
        with self._translate(action, writing=writing):
            return await anyio.to_thread.run_sync(call)

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store `data` whole under `key` (the content type is not kept: the file record holds it)."""
        await self._run("write an object", partial(_write_atomically, self._path(key), data), writing=True)
        self.writes.succeeded()

    async def get(self, key: str) -> bytes | None:
        """The bytes under `key`, or None if there are none."""
        return await self._run("read an object", partial(_read, self._path(key)))

    async def size(self, key: str) -> int | None:
        """The size of the file under `key`, or None if there is none."""
        return await self._run("read an object's size", partial(_size, self._path(key)))

    async def delete(self, key: str) -> None:
        """Remove the file under `key`; a missing one is fine, as deleting is retried."""
        await self._run("delete an object", partial(_remove, self._path(key)), writing=True)

    async def presign_upload(self, key: str, *, content_type: str, size_bytes: int, expires_in: int) -> str | None:
        """None: a folder has no URLs, so the app API serves its own signed upload route."""
        checked_key(key)
        return None

    async def presign_download(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str | None:
        """None: the app API streams the bytes itself."""
        checked_key(key)
        return None

    async def ping(self) -> None:
        """Create the root if missing and check that it is a folder we may write in; nothing is written."""
        await self._run("reach its folder", partial(_probe, self.root))
