"""What can go wrong while a browser signs in (`/auth/login`, `/auth/token`, `/auth/refresh`, `/auth/logout`).

    SignInNotOffered        404 sign-in from the browser is not configured in this mode (docs/decisions.md)
    InvalidSignInState      400 a state this service did not issue, or one that has expired
    RedirectNotAllowed      400 a redirect or post-logout URL other than the configured client's
    InvalidGrant            400 the authorization code was refused (unknown, used, expired, wrong PKCE verifier)
    InvalidRefreshToken     401 the refresh token was refused: sign in again
    IdentityProviderError   502 the provider answered with something this service cannot use

An identity provider that cannot be reached is `IdentityProviderUnavailable` (503), as for token validation.
"""

from __future__ import annotations

from apis.shared.errors import AppError, AuthenticationError, NotFoundError, RuleViolation


class SignInNotOffered(NotFoundError):
    """This service offers no browser sign-in in its configuration: a route that does not exist here."""

    code = "sign_in_not_offered"


class InvalidSignInState(RuleViolation):
    """The state is not one this service issued, was altered, or has expired: start the sign-in again."""

    code = "invalid_state"


class RedirectNotAllowed(RuleViolation):
    """A redirect URL outside the configured web client: never followed, so no open redirect."""

    code = "redirect_uri_not_allowed"


class InvalidGrant(RuleViolation):
    """The authorization code was refused: unknown, already used, expired, or not this sign-in's."""

    code = "invalid_grant"


class InvalidRefreshToken(AuthenticationError):
    """The refresh token is unknown, revoked or expired."""

    code = "invalid_refresh_token"


class IdentityProviderError(AppError):
    """The identity provider's answer cannot be used: not JSON, a token missing or not valid, a refused client."""

    status_code = 502
    code = "identity_provider_error"
