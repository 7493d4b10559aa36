"""Which way of signing in this service offers, chosen from the settings on first use."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request

from apis.shared.auth import (
    LocalSignIn,
    NoSignIn,
    OidcClient,
    OidcSignIn,
    OidcTokenValidator,
    SignInFlow,
    SignInNotOffered,
    SignInStates,
    TokenValidator,
    WebClient,
    load_or_create_key_pair,
)
from apis.shared.config import AuthMode, Settings
from apis.shared.errors import ConfigurationError

# The trial sign-in page, relative to the app API's base URL (so a path prefix of a proxy is kept).
LOCAL_PAGE_PATH = "auth/local/sign-in"


async def get_sign_in(request: Request) -> SignInFlow:
    """The flow of this app, built at the first sign-in request rather than at start: nothing is fetched from
    the provider, nor a key read, by a service that nobody signs in to."""
    flow: SignInFlow | None = getattr(request.app.state, "sign_in", None)
    if flow is None:
        settings: Settings = request.app.state.settings
        validator: TokenValidator = request.app.state.token_validator
        flow = await anyio.to_thread.run_sync(partial(build_sign_in, settings, validator))
        request.app.state.sign_in = flow
    return flow


def build_sign_in(settings: Settings, validator: TokenValidator) -> SignInFlow:
    """OIDC mode with OIDC_CLIENT_ID: the provider's sign-in; local mode with LOCAL_SIGNIN_ENABLED: the trial
    page; anything else: a 404 on every sign-in route that says what is missing. Reads the key in local mode."""
    auth = settings.auth
    match auth.mode_for(settings.storage.storage_backend):
        case AuthMode.OIDC:
            secret = auth.oidc_state_secret or auth.oidc_client_secret
            if not (auth.oidc_client_id and auth.oidc_issuer and auth.oidc_redirect_uri and secret):
                return NoSignIn("signing in from the browser is not configured here (OIDC_CLIENT_ID)")
            if not isinstance(validator, OidcTokenValidator):
                raise ConfigurationError("OIDC sign-in needs the service's OIDC token validator")
            client = OidcClient(
                issuer=auth.oidc_issuer,
                client_id=auth.oidc_client_id,
                client_secret=auth.oidc_client_secret,
                scopes=auth.oidc_scope,
            )
            return OidcSignIn(
                settings=auth,
                client=client,
                states=SignInStates(secret, issuer=auth.oidc_client_id),
                validator=validator,
                web_client=WebClient(auth.oidc_redirect_uri, auth.oidc_post_logout_redirect_uri),
            )
        case AuthMode.LOCAL:
            if not (auth.local_signin_enabled and auth.local_signin_redirect_uri):
                return NoSignIn("the trial sign-in is off here (LOCAL_SIGNIN_ENABLED)")
            return LocalSignIn(
                settings=auth,
                storage=settings.storage,
                key_pair=load_or_create_key_pair(settings.storage.data_dir),
                web_client=WebClient(auth.local_signin_redirect_uri),
                page_path=LOCAL_PAGE_PATH,
            )


async def get_local_sign_in(flow: Annotated[SignInFlow, Depends(get_sign_in)]) -> LocalSignIn:
    """The trial sign-in, or a 404: its page exists only in local mode with LOCAL_SIGNIN_ENABLED."""
    if isinstance(flow, LocalSignIn):
        return flow
    if isinstance(flow, NoSignIn):
        raise SignInNotOffered(flow.reason)
    raise SignInNotOffered("the trial sign-in is offered in local auth mode only")


SignInDep = Annotated[SignInFlow, Depends(get_sign_in)]
LocalSignInDep = Annotated[LocalSignIn, Depends(get_local_sign_in)]
