"""The OIDC sign-in's signed state, its derived PKCE verifier and nonce, and the web client's redirect rules."""

from __future__ import annotations

import pytest

from apis.shared.auth import InvalidSignInState, RedirectNotAllowed, SignInStates, WebClient
from apis.shared.auth.sign_in import with_query
from apis.shared.auth.sign_in_state import pkce_challenge

SECRET = "a-secret-shared-by-every-replica-0123456789"


def test_any_replica_with_the_secret_derives_the_same_verifier_and_nonce() -> None:
    here, there = SignInStates(SECRET, issuer="web"), SignInStates(SECRET, issuer="web")
    state, issued_handle = here.issue()

    handle = there.verify(state)

    assert handle == issued_handle
    assert there.pkce_verifier(handle) == here.pkce_verifier(handle)
    assert there.nonce(handle) == here.nonce(handle)
    assert there.pkce_verifier(handle) != there.nonce(handle)
    assert len(there.pkce_verifier(handle)) == 43
    assert there.pkce_verifier(handle) not in state
    assert there.nonce(handle) not in state


def test_each_state_has_its_own_verifier() -> None:
    states = SignInStates(SECRET, issuer="web")

    (_, first), (_, second) = states.issue(), states.issue()

    assert first != second
    assert states.pkce_verifier(first) != states.pkce_verifier(second)


def test_the_challenge_is_rfc_7636_s256() -> None:
    verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

    assert pkce_challenge(verifier) == challenge  # RFC 7636, appendix B


@pytest.mark.parametrize(
    "states",
    [
        SignInStates(SECRET, issuer="web", ttl_seconds=-1),  # expired
        SignInStates("another-secret-of-at-least-32-characters", issuer="web"),  # another deployment's
        SignInStates(SECRET, issuer="another-client"),  # another client's
    ],
)
def test_a_state_that_is_expired_or_foreign_is_refused(states: SignInStates) -> None:
    with pytest.raises(InvalidSignInState):
        SignInStates(SECRET, issuer="web").verify(states.issue()[0])


def test_the_web_client_origin_and_callback() -> None:
    client = WebClient("https://chat.example.com:443/auth/callback")

    assert client.origin == "https://chat.example.com"
    assert WebClient("http://[::1]:4200/auth/callback").origin == "http://[::1]:4200"
    assert client.callback(None) == client.callback("https://chat.example.com:443/auth/callback")
    with pytest.raises(RedirectNotAllowed):
        client.callback("https://chat.example.com/other")


@pytest.mark.parametrize(
    ("requested", "allowed"),
    [
        (None, None),
        ("https://chat.example.com", "https://chat.example.com"),
        ("HTTPS://Chat.Example.com:443/bye", "HTTPS://Chat.Example.com:443/bye"),
        ("https://chat.example.com.evil.test/", RedirectNotAllowed),
        ("https://chat.example.com@evil.test/", RedirectNotAllowed),
        ("http://chat.example.com/", RedirectNotAllowed),
        ("javascript:alert(1)", RedirectNotAllowed),
        ("//evil.test", RedirectNotAllowed),
        ("https://chat.example.com:99999/", RedirectNotAllowed),
    ],
)
def test_after_logout_only_the_clients_origin(requested: str | None, allowed: object) -> None:
    client = WebClient("https://chat.example.com/auth/callback")

    if allowed is RedirectNotAllowed:
        with pytest.raises(RedirectNotAllowed):
            client.after_logout(requested)
    else:
        assert client.after_logout(requested) == allowed


def test_query_parameters_join_an_existing_query() -> None:
    assert with_query("https://idp.test/authorize", {"a": "1 2"}) == "https://idp.test/authorize?a=1+2"
    assert with_query("https://idp.test/authorize?p=b2c", {"a": "1"}) == "https://idp.test/authorize?p=b2c&a=1"
