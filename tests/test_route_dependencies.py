"""Every dependency of every route of both services is a coroutine function.

FastAPI runs a plain `def` dependency in a worker thread: a thread hand-off per dependency per request, for
what is an attribute read. A chat turn had a dozen of them (about 0.4 ms of CPU and as much latency before its
first byte, docs/decisions.md). This keeps them out.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from apis.app_api.main import create_app as create_app_api
from apis.inference_api.main import create_app as create_inference_api
from tests.fixtures.services import service_settings
from tests.helpers import local_storage_settings


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """The routes of an app, through the routers it includes (however this FastAPI version nests them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None) or getattr(route, "app", None)
        if included is not None and hasattr(included, "routes") and not isinstance(route, APIRoute):
            yield from api_routes(included.routes)


def sync_dependencies(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        call: Callable[..., Any] | None = dependency.call
        if call is not None and not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
            yield f"{call.__module__}.{call.__qualname__}"
        yield from sync_dependencies(dependency)


@pytest.mark.parametrize("create_app", [create_app_api, create_inference_api], ids=["app", "inference"])
def test_no_route_runs_a_dependency_in_a_worker_thread(create_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    app = create_app(service_settings(local_storage_settings(tmp_path)))
    routes = list(api_routes(app.routes))
    found = {name for route in routes for name in sync_dependencies(route.dependant)}

    assert len(routes) > 2, "the routes were found"
    assert found == set()
