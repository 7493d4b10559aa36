"""Files under DATA_DIR: written so that they survive a crash whole or not at all (a synced temporary file, then
a rename, then a synced directory), and private to the user the services run as.

Everything under DATA_DIR is a conversation, an attachment or the signing key, so folders are created 0700 and
files 0600 whatever the umask; other local users cannot list, read or replace any of it. Used for the local
signing key, the local blob store and the SQLite database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from pathlib import Path

from apis.shared.errors import ConfigurationError

TEMP_SUFFIX = ".tmp"
PRIVATE_DIRECTORY_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Bits that let anyone but the owner in.
_SHARED_BITS = 0o077

logger = logging.getLogger(__name__)


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


def ensure_directory(directory: Path) -> None:
    """Create `directory` and any missing parents, each 0700, syncing each parent that gains an entry.

    A folder that exists is left as it is: `make_private` tightens an existing DATA_DIR once, at start.
    """
    missing: list[Path] = []
    current = directory
    while not current.is_dir() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIRECTORY_MODE)
        except FileExistsError:  # noqa: S112 -- control flow, listed in docs/suppressions.md
            # Another writer made it meanwhile; if it is a file instead, the caller's next step fails.
            continue
        path.chmod(PRIVATE_DIRECTORY_MODE)  # mkdir's mode passes through the umask
        sync_directory(path.parent)


def create_private_file(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists, so that whoever opens it next finds those permissions."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)  # the mode given to open passes through the umask
        finally:
            os.close(fd)


def make_private(data_dir: Path) -> bool:
    """Tighten a DATA_DIR that others may enter (made before files were private): every folder 0700, every
    file 0600. True if it had to; an absent or private DATA_DIR is left alone at the cost of one stat.

    DATA_DIR itself is changed last, so that a start interrupted half way walks the tree again next time.
    Symbolic links are not followed: what they point to is not ours to change.
    """
    if not data_dir.is_dir() or stat.S_IMODE(data_dir.stat().st_mode) & _SHARED_BITS == 0:
        return False
    try:
        for folder, folders, files in os.walk(data_dir, topdown=False, onerror=_raise):
            for name in files:
                _chmod_unless_link(Path(folder, name), PRIVATE_FILE_MODE)
            for name in folders:
                _chmod_unless_link(Path(folder, name), PRIVATE_DIRECTORY_MODE)
        data_dir.chmod(PRIVATE_DIRECTORY_MODE)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot make DATA_DIR {data_dir} private (folders 0700, files 0600): {exc.strerror}"
        ) from exc
    logger.warning("DATA_DIR %s was open to other users: its folders are now 0700 and its files 0600", data_dir)
    return True


def _chmod_unless_link(path: Path, mode: int) -> None:
    if path.is_symlink():
        return
    # A temporary file, or the other service's SQLite journal, may go away while we walk.
    with contextlib.suppress(FileNotFoundError):
        path.chmod(mode)


def _raise(error: OSError) -> None:
    """os.walk skips a folder it cannot list unless told otherwise: one left open must stop the start."""
    raise error
