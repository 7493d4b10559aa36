"""Writing files that survive a crash whole or not at all: a synced temporary file, then a rename, then a
synced directory. Used for the local signing key and the local blob store."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def write_temp(path: Path, data: bytes) -> Path:
    """A synced temporary file beside `path` holding `data` (mode 0600), for the caller to rename or link."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # Whatever stopped the write, the half-written temporary file must not stay behind.
        temp.unlink(missing_ok=True)
        raise
    return temp


def sync_directory(directory: Path) -> None:
    """Make a new, replaced or removed name durable: the name lives in the directory, not in the file."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
