"""google-genai's async calls stay on httpx.

The SDK sends its async requests through aiohttp whenever aiohttp is installed, and it is: the streams we read
ourselves go over aiohttp (provider_http.py). Its aiohttp path raises other errors (a bare TimeoutError for a
timeout), which the model listing, the embedder and failures.py would not recognise. A transport of our own is
what the SDK takes as the wish to stay on httpx, so its calls behave as they did and as the tests pin.
"""

from __future__ import annotations

from typing import Any

import httpx


def httpx_client_args() -> dict[str, Any]:
    """`async_client_args` for a genai client's HttpOptions: a transport of its own (one per client)."""
    return {"transport": httpx.AsyncHTTPTransport()}
