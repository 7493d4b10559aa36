"""The HTTP client the providers' streams are read over (openai_stream, gemini_stream, bedrock_stream).

aiohttp, not httpx: httpx parses HTTP in Python (h11), aiohttp in C (llhttp), and a turn's stream is dozens of
chunks. Reading the benchmark's 64-chunk answer from the OpenAI fake costs 1.5 ms of CPU through httpx and
0.9 ms through aiohttp on uvloop (docs/decisions.md, "A lean turn path"): a tenth of a turn. One pooled session
per model (models are cached per configuration and event loop, chat_models.py), made on first use in the loop
that uses it, so turns reuse kept-alive connections.

What httpx did by default is kept: PROVIDER_TIMEOUT_SECONDS bounds connecting, waiting for a free connection
and every wait for bytes (not the whole stream); no redirects are followed; proxies and certificates come from
the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY; SSL_CERT_FILE through OpenSSL). The proxy is found here
once per host rather than through aiohttp's `trust_env`, which also looks for a ~/.netrc password in a worker
thread on every request (httpx stopped reading .netrc in 0.24). Transport failures are aiohttp.ClientError,
which failures.py reports as `provider_unreachable`.
"""

from __future__ import annotations

import asyncio
import urllib.request
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

# As many connections to one provider as httpx allowed (its default pool), kept alive for a minute.
MAX_CONNECTIONS = 100
KEEPALIVE_SECONDS = 60.0


class ProviderResponse:
    """A provider's answer: its status and headers at once, its body as it arrives."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        return self._response.status

    @property
    def reason_phrase(self) -> str:
        return self._response.reason or ""

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._response.headers

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body as each network read brings it."""
        return self._response.content.iter_any()

    async def read(self) -> bytes:
        return await self._response.read()

    def close(self) -> None:
        """Give the connection back to the pool if the body was read to its end, else close it."""
        self._response.release()


class ProviderHttp:
    """One model's pooled HTTP session, made in the event loop that first uses it."""

    def __init__(self, *, timeout_seconds: float) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout_seconds, sock_connect=timeout_seconds, sock_read=timeout_seconds
        )
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}
        _OPEN.add(self)

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # A session belongs to the loop it was made in (tests run a loop each; a service runs one).
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
            self._loop = loop
        return self._session

    async def send(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> ProviderResponse:
        """POST `body`; the answer once its status and headers arrived. The caller closes it."""
        session = self._current()
        response = await session.post(
            url, data=body, headers=dict(headers), allow_redirects=False, proxy=self._proxy_for(URL(url))
        )
        return ProviderResponse(response)

    def _proxy_for(self, url: URL) -> str | None:
        """The proxy the environment names for `url`'s scheme, unless NO_PROXY exempts its host."""
        key = (url.scheme, url.host or "")
        if key not in self._proxies:
            proxy = urllib.request.getproxies().get(url.scheme)
            self._proxies[key] = None if proxy is None or urllib.request.proxy_bypass(key[1]) else proxy
        return self._proxies[key]

    @asynccontextmanager
    async def stream(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> AsyncIterator[ProviderResponse]:
        """`send`, closed when the block ends however it ends."""
        response = await self.send(url, body=body, headers=headers)
        try:
            yield response
        finally:
            response.close()

    async def aclose(self) -> None:
        """Close the session if it belongs to the running loop (one of a loop already closed is gone with it)."""
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()


_OPEN: weakref.WeakSet[ProviderHttp] = weakref.WeakSet()


async def close_provider_sessions() -> None:
    """Close every provider session of the running loop: a service's shutdown, so no connection is left open."""
    for http in list(_OPEN):
        await http.aclose()
