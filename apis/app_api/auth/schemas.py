"""Bodies of the `/auth` routes, in the reference's snake_case: the contract for routes its client calls
(API.md), where every other route of ours answers camelCase. Request bodies take camelCase too."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from apis.shared.schemas import ApiModel

Token = Annotated[str, StringConstraints(min_length=1, max_length=16_384)]


class WireModel(BaseModel):
    """An answer named as the reference names it."""

    model_config = ConfigDict(extra="forbid")


class LoginOut(WireModel):
    authorization_url: str = Field(description="send the browser here to sign in")
    state: str = Field(description="keep it; the callback must come back with the same state")


class TokenExchangeIn(ApiModel):
    code: Token
    state: Token
    redirect_uri: str | None = Field(default=None, max_length=2048, description="only the configured callback")


class RefreshIn(ApiModel):
    refresh_token: Token


class TokenOut(WireModel):
    access_token: str = Field(description="the bearer token both services accept")
    refresh_token: str = Field(description="for POST /auth/refresh; empty when none was issued")
    id_token: str | None = None
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds until access_token expires")
    scope: str


class LogoutOut(WireModel):
    logout_url: str = Field(description="send the browser here to end the session")
