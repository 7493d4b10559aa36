"""The sign-in routes the reference web client calls: paths, query parameters and bodies as it sends them.

Refusals keep our error body and codes: 404 `sign_in_not_offered` when this configuration offers no browser
sign-in, 400 `invalid_state` / `invalid_grant` / `redirect_uri_not_allowed`, 401 `invalid_refresh_token`,
502 when the provider's answer cannot be used and 503 when it cannot be reached. None of them needs a bearer
token: they are how a client gets one.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urljoin

from fastapi import APIRouter, Query, Request

from apis.app_api.auth.dependencies import SignInDep
from apis.app_api.auth.schemas import LoginOut, LogoutOut, RefreshIn, TokenExchangeIn, TokenOut
from apis.shared.auth import SignInTokens

router = APIRouter(prefix="/auth", tags=["auth"])

RedirectUri = Annotated[
    str | None, Query(max_length=2048, description="the callback URL; only the configured one is accepted")
]
Prompt = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[a-z_]+( [a-z_]+)*$",
        description="OIDC prompt values (the reference sends select_account); those the provider lists as"
        " unsupported are left out",
    ),
]
PostLogoutRedirectUri = Annotated[
    str | None, Query(max_length=2048, description="where to land after signing out: the web client's origin")
]


@router.get("/login", response_model=LoginOut)
async def login(request: Request, flow: SignInDep, redirect_uri: RedirectUri = None, prompt: Prompt = None) -> LoginOut:
    """Start signing in: where to send the browser, and the state its callback must come back with."""
    start = await flow.begin(redirect_uri=redirect_uri, prompt=prompt)
    # The trial sign-in page is a page of ours, named relative to this service: the client is elsewhere.
    return LoginOut(authorization_url=urljoin(str(request.base_url), start.authorization_url), state=start.state)


@router.post("/token", response_model=TokenOut)
async def exchange_token(body: TokenExchangeIn, flow: SignInDep) -> TokenOut:
    """Exchange the code the callback received for tokens."""
    return _token_out(await flow.finish(code=body.code, state=body.state, redirect_uri=body.redirect_uri))


@router.post("/refresh", response_model=TokenOut)
async def refresh_token(body: RefreshIn, flow: SignInDep) -> TokenOut:
    """New tokens for a refresh token (the same refresh token comes back where the provider does not rotate)."""
    return _token_out(await flow.refresh(body.refresh_token))


@router.get("/logout", response_model=LogoutOut)
async def logout(flow: SignInDep, post_logout_redirect_uri: PostLogoutRedirectUri = None) -> LogoutOut:
    """Where to send the browser to end the session; the client forgets its tokens itself."""
    return LogoutOut(logout_url=await flow.logout_url(post_logout_redirect_uri=post_logout_redirect_uri))


def _token_out(tokens: SignInTokens) -> TokenOut:
    return TokenOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        id_token=tokens.id_token,
        token_type=tokens.token_type,
        expires_in=tokens.expires_in,
        scope=tokens.scope,
    )
