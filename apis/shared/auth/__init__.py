"""Authentication: local signing keys and tokens, token validators, and signing in from the browser (OIDC with
PKCE, or the local trial page). No FastAPI here: the dependency that reads the bearer token is
`apis.shared.dependencies.authenticate`, so a domain may use a key pair without reaching the web framework."""

from apis.shared.auth.exceptions import (
    IdentityProviderError,
    InvalidGrant,
    InvalidRefreshToken,
    InvalidSignInState,
    RedirectNotAllowed,
    SignInNotOffered,
)
from apis.shared.auth.local_keys import LocalKeyPair, load_or_create_key_pair
from apis.shared.auth.local_sign_in import LocalSignIn, user_name_problem
from apis.shared.auth.models import AuthenticatedUser, ClaimNames, user_from_claims
from apis.shared.auth.oidc_client import OidcClient
from apis.shared.auth.oidc_discovery import IdentityProviderUnavailable
from apis.shared.auth.oidc_sign_in import OidcSignIn
from apis.shared.auth.sign_in import NoSignIn, SignInFlow, SignInStart, SignInTokens, WebClient
from apis.shared.auth.sign_in_state import SignInStates
from apis.shared.auth.tokens import mint_local_token
from apis.shared.auth.validators import (
    LocalTokenValidator,
    OidcTokenValidator,
    TokenValidator,
    build_token_validator,
)

__all__ = [
    "AuthenticatedUser",
    "ClaimNames",
    "IdentityProviderError",
    "IdentityProviderUnavailable",
    "InvalidGrant",
    "InvalidRefreshToken",
    "InvalidSignInState",
    "LocalKeyPair",
    "LocalSignIn",
    "LocalTokenValidator",
    "NoSignIn",
    "OidcClient",
    "OidcSignIn",
    "OidcTokenValidator",
    "RedirectNotAllowed",
    "SignInFlow",
    "SignInNotOffered",
    "SignInStart",
    "SignInStates",
    "SignInTokens",
    "WebClient",
    "TokenValidator",
    "build_token_validator",
    "load_or_create_key_pair",
    "mint_local_token",
    "user_from_claims",
    "user_name_problem",
]
