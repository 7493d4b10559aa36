"""Credentials become headers, and a connection's fingerprint changes with any of them but never shows them."""

from __future__ import annotations

import pytest

from apis.shared.errors import RuleViolation
from apis.shared.tools.mcp import API_KEY, BEARER_TOKEN, McpConnection, credential_headers

URL = "https://tools.example.org/mcp"


def test_a_bearer_token_becomes_the_authorization_header() -> None:
    assert credential_headers("bearer-token", {BEARER_TOKEN: "t0k"}) == {"Authorization": "Bearer t0k"}


def test_an_api_key_goes_in_the_named_header_or_x_api_key() -> None:
    assert credential_headers("api-key", {API_KEY: "k"}, api_key_header="X-Secret") == {"X-Secret": "k"}
    assert credential_headers("api-key", {API_KEY: "k"}) == {"x-api-key": "k"}


def test_no_authentication_sends_no_header() -> None:
    assert credential_headers("none", {}) == {}


@pytest.mark.parametrize("auth_type", ["aws-iam", "oauth2"])
def test_an_authentication_nothing_here_can_do_is_refused(auth_type: str) -> None:
    with pytest.raises(RuleViolation, match="not supported"):
        credential_headers(auth_type, {})


def test_a_missing_credential_is_refused() -> None:
    with pytest.raises(RuleViolation, match=BEARER_TOKEN):
        credential_headers("bearer-token", {})


def test_the_fingerprint_follows_the_url_and_every_header_value() -> None:
    first = McpConnection.build(URL, {"Authorization": "Bearer a", "X-Extra": "1"})
    same = McpConnection.build(URL, {"X-Extra": "1", "Authorization": "Bearer a"})
    other_token = McpConnection.build(URL, {"Authorization": "Bearer b", "X-Extra": "1"})
    other_url = McpConnection.build(URL + "2", {"Authorization": "Bearer a", "X-Extra": "1"})

    assert first == same
    assert first.fingerprint == same.fingerprint
    assert len({first.fingerprint, other_token.fingerprint, other_url.fingerprint}) == 3
    assert "Bearer a" not in first.fingerprint


def test_a_connection_shows_its_header_names_but_never_their_values() -> None:
    connection = McpConnection.build(URL, {"Authorization": "Bearer s3cret"})

    assert "s3cret" not in repr(connection)
    assert "s3cret" not in str(connection)
    assert "Authorization" in repr(connection)


@pytest.mark.parametrize("url", ["ftp://example.org/mcp", "stdio", "http://"])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(RuleViolation):
        McpConnection.build(url)
