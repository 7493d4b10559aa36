"""Which knowledge-base documents are accepted, by declared type or, for a browser that declares none, by name."""

from __future__ import annotations

from pathlib import PurePosixPath

from apis.shared.files import FileType
from apis.shared.files.exceptions import FileTypeNotAllowed
from apis.shared.files.file_types import FILE_TYPES, declared_type

# What browsers send for a file they have no type for (a .md file on most systems): the name decides then.
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def document_type(filename: str, content_type: str, allowed: list[str]) -> FileType:
    """The accepted type of a document; FileTypeNotAllowed (400) names the accepted ones otherwise."""
    if content_type.split(";", 1)[0].strip().lower() not in _UNDECLARED:
        return declared_type(filename, content_type, allowed)
    extension = PurePosixPath(filename.lower()).suffix
    for name in allowed:
        file_type = FILE_TYPES[name]
        if extension in file_type.extensions:
            return file_type
    raise FileTypeNotAllowed(f"{filename}: this kind of file is not accepted (accepted: {', '.join(allowed)})")
