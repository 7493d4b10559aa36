"""What a web client needs beyond the routes: CORS for a client served from another origin, and paths that answer
with or without a trailing slash.

The reference Angular client is served from its own origin (its dev server, a CDN) and calls both services
with a bearer token, never a cookie; it also calls some collections with a trailing slash (`/admin/roles/`).
Starlette would answer those with a 307 whose absolute `Location` names the host it saw, which leaves the origin
of a proxy in front of us, so both spellings are routed alike instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Besides the CORS-safelisted ones (Accept, Content-Type of forms...): the token, a JSON body, the AgentCore
# session header of POST /invocations, and a request id the client wants echoed.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", "X-Request-ID")
# A browser hides every other response header from the page: the request id to quote in a report, the turn's
# session id, and how long to wait after a 429 or 503.
EXPOSED_HEADERS = ("X-Request-ID", "X-Session-ID", "Retry-After")


def install_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Answer preflights and mark answers for `origins` (`*`: any). No origin: nothing is installed, and a
    browser on another origin gets no access, as before. Credentials are not allowed: the clients send tokens."""
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
        )


def cors_headers(origins: Sequence[str], origin: str | None) -> dict[str, str]:
    """The headers CORSMiddleware would add for `origin`, for an answer that leaves past it (a 500 is sent by
    Starlette's outermost middleware): without them the page could not read the error."""
    if origin is None or not (origin in origins or "*" in origins):
        return {}
    return {
        "Access-Control-Allow-Origin": "*" if "*" in origins else origin,
        "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
        "Vary": "Origin",
    }


class TrailingSlashRouting:
    """Routes `/x/` as `/x` when no route takes `/x/` itself, so both spellings answer directly, never with a
    redirect. The scope is changed in place: the access log reads the route the router put there."""

    def __init__(self, app: ASGIApp, *, router: Router) -> None:
        self.app = app
        self.router = router

    def _routed_as_is(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] is not Match.NONE for route in self.router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            # The common case costs one string check: only a path ending in a slash is looked at further.
            if len(path) > 1 and path.endswith("/") and not self._routed_as_is(scope):
                scope["path"] = path.rstrip("/") or "/"
                raw_path = scope.get("raw_path")
                if isinstance(raw_path, bytes):
                    scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


def install_trailing_slash_routing(app: FastAPI) -> None:
    """Route both spellings of every path of `app`, and turn off Starlette's redirect for the other one."""
    app.router.redirect_slashes = False
    app.add_middleware(TrailingSlashRouting, router=app.router)
