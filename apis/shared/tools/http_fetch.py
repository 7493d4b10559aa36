"""One GET of a URL the model named, within the guard and the limits: the bytes of the page it ends on.

How the guard's decision is kept (network_guard.py): each hop's host is resolved and judged there, and the
request goes to the judged address itself. The URL sent to httpx names that IP; the `Host` header and, for
https, the TLS server name (httpx's `sni_hostname` request extension) name the host, so the server sees an
ordinary request and the certificate is verified against the host's name. httpx never resolves the name, so
nothing between the check and the connection can answer differently. Connections are not kept alive: a pooled
connection, keyed by IP, could otherwise carry a request for another host name.

Redirects are followed here, not by httpx: each Location is judged like the first URL (a public page that
redirects to the metadata service is refused), at most TOOLS_FETCH_MAX_REDIRECTS of them. Proxies from the
environment are not used (the request must reach the judged address). The body is read as it streams and
reading stops at TOOLS_FETCH_MAX_BYTES, counting decompressed bytes (gzip and deflate are inflated here, within
that bound), and TOOLS_FETCH_TIMEOUT_SECONDS bounds the whole fetch, redirects and DNS included.
"""

from __future__ import annotations

import ssl
import zlib
from dataclasses import dataclass

import anyio
import httpx

from apis.shared.config import ToolsSettings
from apis.shared.tools.network_guard import (
    AddressPolicy,
    IPAddress,
    Resolver,
    Target,
    checked_target,
    http_url,
    system_resolver,
)
from apis.shared.tools.tool_results import ToolFailure

USER_AGENT = "Mozilla/5.0 (compatible; Colloquy/1.0; fetch_url_content)"
_ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.1"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class FetchLimits:
    timeout_seconds: float
    max_bytes: int
    max_redirects: int

    @classmethod
    def from_settings(cls, settings: ToolsSettings) -> FetchLimits:
        return cls(
            timeout_seconds=settings.tools_fetch_timeout_seconds,
            max_bytes=settings.tools_fetch_max_bytes,
            max_redirects=settings.tools_fetch_max_redirects,
        )


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """The page a fetch ended on: `url` after redirects (as named, not the address it was fetched from)."""

    url: str
    status_code: int
    content_type: str  # the header as sent; "" when there is none
    body: bytes
    truncated: bool  # the page is longer than the bytes read


async def fetch(
    url: str,
    *,
    limits: FetchLimits,
    policy: AddressPolicy,
    resolve: Resolver = system_resolver,
    verify: ssl.SSLContext | bool = True,
) -> FetchedPage:
    """GET `url` within the guard and the limits; ToolFailure (UrlRefused for the guard) saying what went wrong."""
    start = http_url(url)
    try:
        with anyio.fail_after(limits.timeout_seconds):
            return await _follow(start, limits=limits, policy=policy, resolve=resolve, verify=verify)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise ToolFailure(f"fetching {url} took longer than {limits.timeout_seconds:g} seconds") from exc
    except httpx.HTTPError as exc:
        raise ToolFailure(f"fetching {url} failed: the connection broke off ({type(exc).__name__})") from exc


async def _follow(
    url: httpx.URL,
    *,
    limits: FetchLimits,
    policy: AddressPolicy,
    resolve: Resolver,
    verify: ssl.SSLContext | bool,
) -> FetchedPage:
    async with httpx.AsyncClient(
        verify=verify,
        trust_env=False,
        follow_redirects=False,
        timeout=limits.timeout_seconds,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        for _ in range(limits.max_redirects + 1):
            target = await checked_target(url, policy=policy, resolve=resolve)
            answer = await _get(client, target, limits.max_bytes)
            if isinstance(answer, FetchedPage):
                return answer
            url = http_url(answer)
    raise ToolFailure(f"the page redirected more than {limits.max_redirects} times")


async def _get(client: httpx.AsyncClient, target: Target, max_bytes: int) -> FetchedPage | httpx.URL:
    """The page, or where it redirects to; each judged address is tried in turn until one connects."""
    refused: httpx.ConnectError | None = None
    for address in target.addresses:
        try:
            response = await client.send(_pinned_request(client, target, address), stream=True)
        except httpx.ConnectError as exc:
            refused = exc
            continue
        try:
            return await _answer(response, target, max_bytes)
        finally:
            await response.aclose()
    raise ToolFailure(
        f"could not connect to {target.host} (refused, unreachable, or its TLS certificate is not valid)"
    ) from refused


def _pinned_request(client: httpx.AsyncClient, target: Target, address: IPAddress) -> httpx.Request:
    """A GET of the target's URL sent to `address`, naming the host in `Host` and in TLS."""
    host_header = httpx.Request("GET", target.url).headers["host"]
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    return client.build_request(
        "GET",
        target.url.copy_with(host=str(address), fragment=None),
        headers={"Host": host_header, "User-Agent": USER_AGENT, "Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"},
        extensions=extensions,
    )


async def _answer(response: httpx.Response, target: Target, max_bytes: int) -> FetchedPage | httpx.URL:
    status = response.status_code
    location = response.headers.get("location")
    if status in _REDIRECTS and location:
        try:
            return target.url.join(location)
        except httpx.InvalidURL as exc:
            raise ToolFailure(f"{target.url} redirects to an invalid URL") from exc
    if not 200 <= status < 300:
        raise ToolFailure(f"{target.url} answered HTTP {status} {response.reason_phrase}".rstrip())
    body, truncated = await _read_body(response, max_bytes)
    return FetchedPage(
        url=str(target.url.copy_with(fragment=None)),
        status_code=status,
        content_type=response.headers.get("content-type", ""),
        body=body,
        truncated=truncated,
    )


async def _read_body(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """At most `max_bytes` of the decoded body, and whether there was more; the wire bytes are bounded alike."""
    decoder = _Decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    size = received = 0
    async for raw in response.aiter_raw():
        if size >= max_bytes or received >= max_bytes:  # more arrives past the bound
            return b"".join(parts), True
        received += len(raw)
        piece, more = decoder.feed(raw, max_bytes - size)
        parts.append(piece)
        size += len(piece)
        if more:
            return b"".join(parts), True
    return b"".join(parts), False


class _Decoder:
    """Undoes the Content-Encoding one chunk at a time, never producing more than it is given room for."""

    def __init__(self, content_encoding: str) -> None:
        codings = [coding.strip().lower() for coding in content_encoding.split(",") if coding.strip()]
        codings = [coding for coding in codings if coding != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise ToolFailure(f"the page is compressed with {content_encoding}, which this tool cannot read")
        self._inflater = None
        if codings:
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | (16 if "gzip" in codings[0] else 0))

    def feed(self, data: bytes, room: int) -> tuple[bytes, bool]:
        """Up to `room` decoded bytes of `data`, and whether more output is pending past them."""
        if self._inflater is None:
            return data[:room], len(data) > room
        try:
            piece = self._inflater.decompress(data, room)
        except zlib.error as exc:
            raise ToolFailure("the page's compressed body is damaged") from exc
        return piece, bool(self._inflater.unconsumed_tail)
