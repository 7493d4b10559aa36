"""Signing in from the browser: what both ways of doing it (OIDC, local trial) answer the web client.

The wire follows the reference client (`/auth/login` → `{authorization_url, state}`; the client keeps the
state in sessionStorage, sends the browser to the URL, and its callback page posts `code` and `state` to
`/auth/token`). The routes call one `SignInFlow`, chosen once per service from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from apis.shared.auth.exceptions import RedirectNotAllowed, SignInNotOffered

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class SignInStart:
    """Where to send the browser, and the state its callback must come back with.

    `authorization_url` is absolute, or a path of the app API (the local sign-in page) that the route resolves.
    """

    authorization_url: str
    state: str


@dataclass(frozen=True, slots=True)
class SignInTokens:
    """What the client stores: `access_token` is the bearer token both services accept."""

    access_token: str
    # Empty when none was issued (a provider asked without offline_access): the client then signs in again.
    refresh_token: str
    id_token: str | None
    expires_in: int
    scope: str
    token_type: str = "Bearer"


class SignInFlow(Protocol):
    """One way of signing in; every method raises SignInNotOffered where the configuration offers none."""

    async def begin(self, *, redirect_uri: str | None, prompt: str | None) -> SignInStart:
        """A new state and the URL that starts the sign-in (`redirect_uri` may only name the configured one)."""
        ...

    async def finish(self, *, code: str, state: str, redirect_uri: str | None) -> SignInTokens:
        """Exchange the code the callback received for tokens, after checking it belongs to `state`."""
        ...

    async def refresh(self, refresh_token: str) -> SignInTokens:
        """New tokens for a refresh token; InvalidRefreshToken (401) when it is refused."""
        ...

    async def logout_url(self, *, post_logout_redirect_uri: str | None) -> str:
        """Where the browser goes to end the session (the provider's end-session endpoint, or the client)."""
        ...


class NoSignIn:
    """The flow of a service that offers no browser sign-in: every route is a 404 that says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def begin(self, *, redirect_uri: str | None, prompt: str | None) -> SignInStart:
        raise SignInNotOffered(self.reason)

    async def finish(self, *, code: str, state: str, redirect_uri: str | None) -> SignInTokens:
        raise SignInNotOffered(self.reason)

    async def refresh(self, refresh_token: str) -> SignInTokens:
        raise SignInNotOffered(self.reason)

    async def logout_url(self, *, post_logout_redirect_uri: str | None) -> str:
        raise SignInNotOffered(self.reason)


@dataclass(frozen=True, slots=True)
class WebClient:
    """The configured web client: the only places a sign-in or a sign-out sends a browser (no open redirect)."""

    redirect_uri: str
    post_logout_redirect_uri: str | None = None

    @property
    def origin(self) -> str:
        scheme, host, port = _origin(self.redirect_uri)
        host = f"[{host}]" if ":" in host else host  # an IPv6 literal
        return f"{scheme}://{host}" if port == _DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"

    def callback(self, requested: str | None) -> str:
        """The callback URL; a client may name it again, never another one."""
        if requested is None or requested == self.redirect_uri:
            return self.redirect_uri
        raise RedirectNotAllowed("redirect_uri must be the web client's configured callback URL")

    def after_logout(self, requested: str | None) -> str | None:
        """Where to land after signing out: a URL of the client's own origin (the reference sends its origin),
        else the configured one; None when neither is set."""
        if requested is None:
            return self.post_logout_redirect_uri
        if requested == self.post_logout_redirect_uri or _origin(requested) == _origin(self.redirect_uri):
            return requested
        raise RedirectNotAllowed("post_logout_redirect_uri must be on the web client's origin")


def with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to the query it may already have (Azure B2C's `?p=` policy, for one)."""
    separator = "&" if urlsplit(url).query else ("" if url.endswith("?") else "?")
    return f"{url}{separator}{urlencode(params)}"


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with default ports filled in; a URL that is not plain http(s) matches nothing."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RedirectNotAllowed("the redirect URL is malformed") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        raise RedirectNotAllowed("the redirect URL must be an http(s) URL without credentials")
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]
