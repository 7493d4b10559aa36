"""The bare relay that turns are measured beside: one route that streams the provider's SSE back through a shared
`httpx.AsyncClient`, no auth, no storage, on Colloquy's own server stack (FastAPI on uvicorn with its defaults
and the idle timeout `colloquy serve` sets, and its heap frozen once it is built, as `colloquy serve` freezes a
service's: apis/shared/heap.py). `python -m bench.relay PORT PROVIDER_URL`; started by bench.turns."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from apis.shared import heap
from apis.shared.config import HttpSettings


def create_relay(provider_url: str) -> FastAPI:
    app = FastAPI()
    client = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_keepalive_connections=100))

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/relay")
    async def relay(request: Request) -> StreamingResponse:
        body = await request.body()
        upstream = client.build_request(
            "POST",
            f"{provider_url}/chat/completions",
            content=body,
            headers={"Content-Type": "application/json", "Authorization": "Bearer sk"},
        )
        response = await client.send(upstream, stream=True)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return app


def main() -> None:
    port, provider_url = int(sys.argv[1]), sys.argv[2]
    idle_seconds = HttpSettings().http_idle_timeout_seconds
    relay = create_relay(provider_url)
    heap.freeze()
    uvicorn.run(
        relay,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=idle_seconds,
    )


if __name__ == "__main__":
    main()
