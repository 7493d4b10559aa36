"""The fakes' shared machinery, which later chat fakes rely on: what a request leaves behind, and the switch."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeProviderState, fake_app, serve


def plain_error(status: int, message: str) -> Response:
    return JSONResponse({"problem": message}, status_code=status)


async def echo(request: Request) -> Response:
    return JSONResponse({"received": await request.json()})


async def test_records_each_request_and_still_hands_its_body_to_the_app() -> None:
    state = FakeProviderState()
    app = fake_app([Route("/v1/chat/completions", echo, methods=["POST"])], state, plain_error)

    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.post(
                "/v1/chat/completions?stream=true&tag=a&tag=b",
                json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                headers={"Authorization": "Bearer sk-1", "X-Custom": "yes"},
            )

    assert response.json() == {"received": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}
    [request] = state.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.query == {"stream": ["true"], "tag": ["a", "b"]}
    assert request.header("Authorization") == "Bearer sk-1"
    assert request.headers["x-custom"] == "yes"
    assert request.json == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def test_a_body_that_is_not_json_is_kept_raw() -> None:
    state = FakeProviderState()
    app = fake_app([Route("/upload", echo, methods=["POST"])], state, plain_error)
    state.fail_status = 418  # the app itself must not try to parse it

    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            await client.post("/upload", content=b"\x00not json")

    [request] = state.requests
    assert (request.body, request.json) == (b"\x00not json", None)


async def test_the_fail_switch_answers_every_route_in_the_providers_shape_and_can_be_turned_off() -> None:
    state = FakeProviderState(fail_status=503)
    app = fake_app([Route("/models", echo, methods=["POST"])], state, plain_error)

    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            failed = await client.post("/models", json={})
            unknown = await client.get("/not-a-route")
            state.fail_status = None
            recovered = await client.post("/models", json={"again": True})

    assert (failed.status_code, failed.json()) == (503, {"problem": "the fake was told to fail with 503"})
    assert unknown.status_code == 503
    assert (recovered.status_code, recovered.json()) == (200, {"received": {"again": True}})
    assert [request.path for request in state.requests] == ["/models", "/not-a-route", "/models"]
