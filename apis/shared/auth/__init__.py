"""Authentication: local signing keys and tokens, token validators, and the FastAPI dependency."""

from apis.shared.auth.dependencies import TokenUser, authenticate
from apis.shared.auth.local_keys import LocalKeyPair, load_or_create_key_pair
from apis.shared.auth.models import AuthenticatedUser, ClaimNames, user_from_claims
from apis.shared.auth.tokens import mint_local_token
from apis.shared.auth.validators import (
    IdentityProviderUnavailable,
    LocalTokenValidator,
    OidcTokenValidator,
    TokenValidator,
    build_token_validator,
)

__all__ = [
    "AuthenticatedUser",
    "ClaimNames",
    "TokenUser",
    "IdentityProviderUnavailable",
    "LocalKeyPair",
    "LocalTokenValidator",
    "OidcTokenValidator",
    "TokenValidator",
    "build_token_validator",
    "authenticate",
    "load_or_create_key_pair",
    "mint_local_token",
    "user_from_claims",
]
