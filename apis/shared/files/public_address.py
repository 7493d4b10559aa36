"""Where browsers reach the app API, so that a local upload URL is one a browser can PUT to from any page.

The address is APP_API_PUBLIC_URL when it is set (the way to say it behind any proxy or load balancer).
Otherwise it is the address the request came in on: its scheme, its Host and the ASGI root path. A proxy
in front may say what that address was with X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix,
but those headers are anyone's to send: they count only when the connection comes from an address that
APP_API_FORWARDED_ALLOW_IPS lists (none by default), and only values of the expected shape are used.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$"
)
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+/?$")
_SCHEMES = ("http", "https")
ANY_PROXY = "*"


def parse_public_url(value: str) -> str:
    """APP_API_PUBLIC_URL without a trailing slash; ValueError unless an absolute http(s) URL, no query or fragment."""
    parts = urlsplit(value.strip())
    if parts.scheme not in _SCHEMES or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("APP_API_PUBLIC_URL must be an absolute http(s) URL without a query, e.g. https://host/api")
    return parts.geturl().rstrip("/")


@lru_cache(maxsize=8)
def parse_allowed_proxies(value: str) -> tuple[_Network, ...] | None:
    """APP_API_FORWARDED_ALLOW_IPS as networks; None for `*` (any address). ValueError for an entry that is
    neither an address nor a network."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if ANY_PROXY in entries:
        return None
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as exc:
        raise ValueError(f"APP_API_FORWARDED_ALLOW_IPS: {exc}") from exc


def _trusted(peer: str | None, allowed: str) -> bool:
    networks = parse_allowed_proxies(allowed)
    if networks is None:
        return True
    if not networks or peer is None:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False  # not an IP address (a unix socket's peer): no proxy can be recognised by it
    return any(address in network for network in networks)


def _first(headers: Mapping[str, str], name: str) -> str | None:
    """The first value of a header a chain of proxies may have appended to, stripped; None if absent or empty."""
    value = headers.get(name, "").split(",", 1)[0].strip()
    return value or None


def public_base_url(
    *, configured: str | None, allowed_proxies: str, request_base: str, peer: str | None, headers: Mapping[str, str]
) -> str:
    """The app API's public address, without a trailing slash (see the module's docstring).

    `request_base` is the request's own base URL (scheme, Host, root path), `peer` the address the connection
    came from as the server reports it, `headers` the request's headers (names in lower case).
    """
    if configured:
        return parse_public_url(configured)
    base = urlsplit(request_base)
    scheme, netloc, path = base.scheme, base.netloc, base.path
    if _trusted(peer, allowed_proxies):
        proto, host, prefix = (_first(headers, f"x-forwarded-{name}") for name in ("proto", "host", "prefix"))
        if proto is not None and proto.lower() in _SCHEMES:
            scheme = proto.lower()
        if host is not None and _HOST.match(host):
            netloc = host
        if prefix is not None and _PREFIX.match(prefix):
            path = prefix
    return f"{scheme}://{netloc}{path}".rstrip("/")
