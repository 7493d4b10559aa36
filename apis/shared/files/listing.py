"""How a user's file list is ordered and resumed: the sorts the reference client offers, and their cursors.

A list is sorted by one key and then by upload id in the same direction, so that every order is total and a
page can resume exactly after the last file it showed. Upload ids are UUIDv7, so upload id order is the
order in which the files were presigned: that is what "date" means. The cursor names the sort and the
session it was made for; used with another, it is refused (400) rather than resuming somewhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from apis.shared.errors import InvalidPageToken
from apis.shared.files.models import FileRecord
from apis.shared.pagination import decode_token, encode_token


class FileSortBy(StrEnum):
    """The reference client's `sortBy`: when it was uploaded, its size in bytes, or its MIME type."""

    DATE = "date"
    SIZE = "size"
    TYPE = "type"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True, slots=True)
class FileSort:
    """One order of the list; the default is the newest first."""

    by: FileSortBy = FileSortBy.DATE
    order: SortOrder = SortOrder.DESC

    @property
    def descending(self) -> bool:
        return self.order is SortOrder.DESC

    def key(self, record: FileRecord) -> tuple[str | int, str]:
        """What the list sorts `record` by: its sort value, then its upload id."""
        match self.by:
            case FileSortBy.SIZE:
                return record.size_bytes, record.upload_id
            case FileSortBy.TYPE:
                return record.mime_type, record.upload_id
            case _:
                return record.upload_id, record.upload_id

    def __str__(self) -> str:
        return f"{self.by}:{self.order}"


NEWEST_FIRST = FileSort()


@dataclass(frozen=True, slots=True)
class FileCursor:
    """Where the next page starts: just after the file with this sort value and upload id."""

    value: str | int
    upload_id: str

    @property
    def key(self) -> tuple[str | int, str]:
        return self.value, self.upload_id


_FIELDS = ("sort", "session", "uploadId", "value")
# What a cursor may hold, so that a forged one is a 400 here rather than a key the store refuses.
_UPLOAD_ID = re.compile(r"^[0-9a-f][0-9a-f-]{35}$")
_MAX_VALUE_LENGTH = 255


def encode_cursor(last: FileRecord, *, sort: FileSort, session_id: str | None) -> str:
    """The token of the page that follows `last`, the last file shown."""
    value, upload_id = sort.key(last)
    return encode_token({"sort": str(sort), "session": session_id or "", "uploadId": upload_id, "value": str(value)})


def decode_cursor(token: str, *, sort: FileSort, session_id: str | None) -> FileCursor:
    """The cursor inside `token`; InvalidPageToken (400) if it was made for another list or is damaged."""
    cursor = decode_token(token, fields=_FIELDS)
    if cursor["sort"] != str(sort) or cursor["session"] != (session_id or ""):
        raise InvalidPageToken("this cursor belongs to a list with another order or session: start again")
    upload_id, value = cursor["uploadId"], cursor["value"]
    if not _UPLOAD_ID.match(upload_id) or len(value) > _MAX_VALUE_LENGTH:
        raise InvalidPageToken("nextToken is not a token this list issued")
    if sort.by is not FileSortBy.SIZE:
        return FileCursor(value=value, upload_id=upload_id)
    if not (value.isascii() and value.isdigit() and len(value) <= 20):
        raise InvalidPageToken("nextToken is not a token this list issued")
    return FileCursor(value=int(value), upload_id=upload_id)
