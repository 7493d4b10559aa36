"""Where an MCP server is and what to send it: its URL and the headers its credentials become.

Only streamable HTTP is spoken. The credentials are stored sealed (secrets.py) as a small mapping, opened when a
connection is made, and turned into headers here: a bearer token into `Authorization`, an API key into the header
the admin named (`x-api-key` by default, as the reference's).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from apis.shared.errors import RuleViolation

# The keys of the sealed credentials mapping.
BEARER_TOKEN = "bearerToken"
API_KEY = "apiKey"
DEFAULT_API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True, slots=True)
class McpConnection:
    """A server's URL and the headers sent on every request to it; `repr` leaves the header values out."""

    url: str
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(cls, url: str, headers: Mapping[str, str] | None = None) -> McpConnection:
        """A connection to `url` (http or https) with `headers`, in a stable order."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RuleViolation(f"an MCP server URL must be an http:// or https:// URL, not {url!r}")
        return cls(url=url, headers=tuple(sorted((headers or {}).items(), key=lambda item: item[0].lower())))

    @property
    def fingerprint(self) -> str:
        """Changes whenever the URL or any header (a credential included) does: a changed server's key.

        A SHA-256 over the lot, so the credentials cannot be read back from it; still, it is not logged.
        """
        canonical = json.dumps([self.url, [[name.lower(), value] for name, value in self.headers]])
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.headers)
        return f"McpConnection(url={self.url!r}, headers=[{names}])"


def credential_headers(
    auth_type: str, credentials: Mapping[str, str], *, api_key_header: str | None = None
) -> dict[str, str]:
    """The headers that carry `credentials` for `auth_type` (`none`, `api-key` or `bearer-token`)."""
    match auth_type:
        case "none":
            return {}
        case "bearer-token":
            return {"Authorization": f"Bearer {_required(credentials, BEARER_TOKEN, auth_type)}"}
        case "api-key":
            return {api_key_header or DEFAULT_API_KEY_HEADER: _required(credentials, API_KEY, auth_type)}
    raise RuleViolation(f"MCP servers with authType {auth_type!r} are not supported: use none, api-key or bearer-token")


def _required(credentials: Mapping[str, str], name: str, auth_type: str) -> str:
    value = credentials.get(name)
    if not value:
        raise RuleViolation(f"authType {auth_type!r} needs its credential ({name}), and none is stored")
    return value
