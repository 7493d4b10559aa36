"""Signed upload URLs for the local backend: the app API's answer to S3's presigned PUT.

Like a presigned URL, the token in the path is the only credential: it names one upload (its owner, id,
size and type) and expires. It is signed with the local signing key in DATA_DIR, under an audience of its
own, so an upload token is never accepted as a bearer token, nor a bearer token as an upload token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import jwt

from apis.shared.auth import LocalKeyPair
from apis.shared.errors import ForbiddenError

UPLOAD_AUDIENCE = "colloquy-upload"
_ALGORITHM = "ES256"


class UploadUrlInvalid(ForbiddenError):
    """The upload URL was not issued here, was altered, or has expired (S3 answers 403 too)."""

    code = "upload_url_invalid"


@dataclass(frozen=True, slots=True)
class UploadGrant:
    """What a valid upload token allows: one PUT of at most `size_bytes` to one pending upload."""

    user_id: str
    upload_id: str
    size_bytes: int
    mime_type: str


class UploadTokens:
    """Issues and checks upload tokens with the service's local key pair.

    `audience` tells one kind of signed URL from another (attachment uploads, knowledge-base uploads and
    downloads): a token issued for one is refused by the others.
    """

    def __init__(self, key_pair: LocalKeyPair, *, issuer: str, audience: str = UPLOAD_AUDIENCE) -> None:
        self.key_pair = key_pair
        self.issuer = issuer
        self.audience = audience

    def issue(self, grant: UploadGrant, *, expires_at: datetime) -> str:
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": grant.user_id,
            "uid": grant.upload_id,
            "size": grant.size_bytes,
            "type": grant.mime_type,
            "exp": int(expires_at.timestamp()),
        }
        return jwt.encode(claims, self.key_pair.private_key, algorithm=_ALGORITHM, headers={"kid": self.key_pair.kid})

    def verify(self, token: str) -> UploadGrant:
        """The grant inside `token`; UploadUrlInvalid if it is forged, altered, expired or of another kind."""
        try:
            claims = jwt.decode(
                token,
                self.key_pair.public_key,
                algorithms=[_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "uid", "size", "type"]},
            )
        except jwt.PyJWTError as exc:
            raise UploadUrlInvalid("this upload URL is invalid or has expired: ask for a new one") from exc
        if not isinstance(claims["size"], int) or not all(
            isinstance(claims[name], str) for name in ("sub", "uid", "type")
        ):
            raise UploadUrlInvalid("this upload URL is invalid or has expired: ask for a new one")
        return UploadGrant(
            user_id=claims["sub"], upload_id=claims["uid"], size_bytes=claims["size"], mime_type=claims["type"]
        )
