"""Opaque page tokens: a cursor serialised as url-safe base64 JSON. A token that does not decode is 400."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from apis.shared.errors import InvalidPageToken

T = TypeVar("T")
_MAX_TOKEN_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; `next_token` is None on the last page."""

    items: list[T]
    next_token: str | None


def encode_token(cursor: Mapping[str, str]) -> str:
    raw = json.dumps(dict(cursor), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, *, fields: tuple[str, ...]) -> dict[str, str]:
    """The cursor inside `token`, which must carry exactly `fields`, each a string."""
    if len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidPageToken("nextToken is not a token this list issued")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPageToken("nextToken is not a token this list issued") from exc
    if (
        not isinstance(cursor, dict)
        or set(cursor) != set(fields)
        or not all(isinstance(value, str) for value in cursor.values())
    ):
        raise InvalidPageToken("nextToken is not a token this list issued")
    return cursor
