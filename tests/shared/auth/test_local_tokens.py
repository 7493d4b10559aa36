"""Local mode end to end: tokens minted with the DATA_DIR key, and every way a token is refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from apis.shared.auth import (
    AuthenticatedUser,
    LocalKeyPair,
    LocalTokenValidator,
    build_token_validator,
    load_or_create_key_pair,
    mint_local_token,
)
from apis.shared.config import AuthMode, AuthSettings, Settings, StorageBackend, StorageSettings
from apis.shared.errors import AuthenticationError, RuleViolation

LEEWAY = 30


@pytest.fixture
def settings() -> AuthSettings:
    return AuthSettings(
        auth_mode=AuthMode.LOCAL,
        local_token_issuer="colloquy-local",
        local_token_audience="colloquy",
        local_token_ttl_seconds=3600,
        oidc_leeway_seconds=LEEWAY,
    )


@pytest.fixture
def key_pair(tmp_path: Path) -> LocalKeyPair:
    return load_or_create_key_pair(tmp_path)


@pytest.fixture
def validator(settings: AuthSettings, key_pair: LocalKeyPair) -> LocalTokenValidator:
    return LocalTokenValidator(settings, key_pair)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "colloquy-local",
        "aud": "colloquy",
        "sub": "user-1",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _sign(key_pair: LocalKeyPair, claims: dict[str, Any], *, key: ec.EllipticCurvePrivateKey | None = None) -> str:
    return jwt.encode(claims, key or key_pair.private_key, algorithm="ES256", headers={"kid": key_pair.kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _refusal(validator: LocalTokenValidator, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(token)
    return caught.value.detail


async def test_a_minted_token_round_trips_to_the_same_user(
    settings: AuthSettings, tmp_path: Path, validator: LocalTokenValidator
) -> None:
    token = mint_local_token(
        settings=settings,
        data_dir=tmp_path,
        user_id="user-42",
        email="ada@example.com",
        name="Ada",
        roles=["admin", "staff"],
    )

    user = await validator.validate(token)

    assert user == AuthenticatedUser(user_id="user-42", email="ada@example.com", name="Ada", roles=("admin", "staff"))


def test_a_minted_token_carries_the_standard_claims_and_the_key_id(
    settings: AuthSettings, tmp_path: Path, key_pair: LocalKeyPair
) -> None:
    token = mint_local_token(settings=settings, data_dir=tmp_path, user_id="user-1", ttl_seconds=120)

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["kid"] == key_pair.kid
    assert header["alg"] == "ES256"
    assert claims["iss"] == "colloquy-local"
    assert claims["aud"] == "colloquy"
    assert claims["sub"] == "user-1"
    assert claims["roles"] == []
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == 120
    assert claims["jti"]
    assert "email" not in claims


def test_each_minted_token_has_its_own_id(settings: AuthSettings, tmp_path: Path) -> None:
    tokens = [mint_local_token(settings=settings, data_dir=tmp_path, user_id="user-1") for _ in range(3)]

    ids = {jwt.decode(token, options={"verify_signature": False})["jti"] for token in tokens}
    assert len(ids) == 3


def test_minting_refuses_an_empty_user_a_useless_lifetime_and_a_bare_role_string(
    settings: AuthSettings, tmp_path: Path
) -> None:
    with pytest.raises(RuleViolation):
        mint_local_token(settings=settings, data_dir=tmp_path, user_id=" ")
    with pytest.raises(RuleViolation):
        mint_local_token(settings=settings, data_dir=tmp_path, user_id="user-1", ttl_seconds=0)
    with pytest.raises(TypeError):
        mint_local_token(settings=settings, data_dir=tmp_path, user_id="user-1", roles="admin")


async def test_the_validator_built_for_local_mode_accepts_tokens_minted_with_the_same_data_dir(
    settings: AuthSettings, tmp_path: Path
) -> None:
    full = Settings(
        storage=StorageSettings(storage_backend=StorageBackend.LOCAL, data_dir=tmp_path / "data"),
        auth=settings.model_copy(update={"auth_mode": None}),
    )
    validator = build_token_validator(full)  # creates the key, as the first service to start would
    token = mint_local_token(settings=settings, data_dir=tmp_path / "data", user_id="user-7", roles=["x"])

    assert isinstance(validator, LocalTokenValidator)
    assert await validator.validate(token) == AuthenticatedUser(user_id="user-7", roles=("x",))


async def test_a_token_expired_within_the_leeway_is_accepted(
    validator: LocalTokenValidator, key_pair: LocalKeyPair
) -> None:
    now = int(time.time())
    token = _sign(key_pair, _claims(iat=now - 600, nbf=now - 600, exp=now - LEEWAY // 3))

    assert (await validator.validate(token)).user_id == "user-1"


async def test_a_token_expired_beyond_the_leeway_is_refused(
    validator: LocalTokenValidator, key_pair: LocalKeyPair
) -> None:
    now = int(time.time())
    token = _sign(key_pair, _claims(iat=now - 600, nbf=now - 600, exp=now - LEEWAY * 4))

    assert await _refusal(validator, token) == "token expired"


async def test_a_token_not_valid_yet_is_refused(validator: LocalTokenValidator, key_pair: LocalKeyPair) -> None:
    now = int(time.time())
    token = _sign(key_pair, _claims(nbf=now + LEEWAY * 4, exp=now + 3600))

    assert await _refusal(validator, token) == "token not yet valid"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "someone-else"}, "token issuer not accepted"),
        ({"aud": "another-app"}, "token audience not accepted"),
        ({"exp": None}, "token lacks the exp claim"),
        ({"iss": None}, "token lacks the iss claim"),
        ({"sub": None}, "token has no user id"),
        ({"sub": ""}, "token has no user id"),
    ],
)
async def test_a_token_with_wrong_or_missing_claims_is_refused(
    validator: LocalTokenValidator, key_pair: LocalKeyPair, overrides: dict[str, Any], reason: str
) -> None:
    assert await _refusal(validator, _sign(key_pair, _claims(**overrides))) == reason


async def test_a_token_signed_by_another_key_under_our_kid_is_refused(
    validator: LocalTokenValidator, key_pair: LocalKeyPair
) -> None:
    token = _sign(key_pair, _claims(), key=ec.generate_private_key(ec.SECP256R1()))

    assert await _refusal(validator, token) == "token signature invalid"


async def test_a_token_naming_another_kid_is_refused(validator: LocalTokenValidator, key_pair: LocalKeyPair) -> None:
    token = jwt.encode(_claims(), key_pair.private_key, algorithm="ES256", headers={"kid": "someone-elses"})

    assert await _refusal(validator, token) == "token signed by an unknown key"


async def test_an_unsigned_alg_none_token_is_refused(validator: LocalTokenValidator, key_pair: LocalKeyPair) -> None:
    token = jwt.encode(_claims(), "", algorithm="none", headers={"kid": key_pair.kid})

    assert await _refusal(validator, token) == "token algorithm not accepted"


async def test_an_hs256_token_keyed_with_our_public_key_is_refused(
    validator: LocalTokenValidator, key_pair: LocalKeyPair
) -> None:
    # Forged by hand: PyJWT itself refuses to use a PEM as an HMAC secret, an attacker's tool would not.
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key_pair.kid}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    signature = hmac.new(key_pair.public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()

    assert await _refusal(validator, f"{header}.{payload}.{_b64(signature)}") == "token algorithm not accepted"


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "e30", "....", "Bearer x"])
async def test_garbage_is_refused_as_malformed(validator: LocalTokenValidator, garbage: str) -> None:
    assert await _refusal(validator, garbage) == "token malformed"


async def test_a_token_accepted_once_is_refused_once_it_expires(
    validator: LocalTokenValidator, key_pair: LocalKeyPair
) -> None:
    """Verified tokens are remembered (verified_tokens.py), never past their own expiry and leeway."""
    now = int(time.time())
    token = _sign(key_pair, _claims(iat=now - 600, nbf=now - 600, exp=now - LEEWAY + 1))
    assert (await validator.validate(token)).user_id == "user-1"

    await asyncio.sleep(1.5)  # not a timing assertion: the token's exp plus the leeway passes

    assert await _refusal(validator, token) == "token expired"


async def test_a_forgery_of_a_token_accepted_before_is_still_refused(
    validator: LocalTokenValidator, key_pair: LocalKeyPair
) -> None:
    token = _sign(key_pair, _claims())
    assert (await validator.validate(token)).user_id == "user-1"
    header, payload, signature = token.split(".")
    other_payload = _b64(json.dumps(_claims(sub="user-2")).encode())
    other_signature = _b64(bytes(64))

    assert await _refusal(validator, f"{header}.{other_payload}.{signature}") == "token signature invalid"
    assert await _refusal(validator, f"{header}.{payload}.{other_signature}") == "token signature invalid"
    assert (await validator.validate(token)).user_id == "user-1"
