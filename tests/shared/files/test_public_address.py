"""Where browsers reach the app API: the setting, the request's own address, and forwarded headers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from apis.shared.config import FilesSettings
from apis.shared.files.public_address import public_base_url

FORWARDED = {"x-forwarded-proto": "https", "x-forwarded-host": "chat.example.edu", "x-forwarded-prefix": "/api/"}


def address(*, configured: str | None = None, allowed: str = "", peer: str | None = "10.0.0.5", **headers: str) -> str:
    return public_base_url(
        configured=configured,
        allowed_proxies=allowed,
        request_base="http://app-api:8000/root/",
        peer=peer,
        headers=headers,
    )


def test_the_request_base_is_used_without_a_setting() -> None:
    assert address(**FORWARDED) == "http://app-api:8000/root"


def test_the_setting_wins_without_its_trailing_slash() -> None:
    assert (
        address(configured="https://chat.example.edu/api/", allowed="*", **FORWARDED) == "https://chat.example.edu/api"
    )


@pytest.mark.parametrize("allowed", ["*", "10.0.0.5", "10.0.0.0/8", "192.168.1.1, 10.0.0.0/24", "::1, 10.0.0.5"])
def test_a_listed_proxy_names_scheme_host_and_prefix(allowed: str) -> None:
    assert address(allowed=allowed, **FORWARDED) == "https://chat.example.edu/api"


@pytest.mark.parametrize("peer", [None, "10.0.1.5", "not-an-address", ""])
def test_an_unlisted_or_unknown_peer_is_not_a_proxy(peer: str | None) -> None:
    assert address(allowed="10.0.0.0/24", peer=peer, **FORWARDED) == "http://app-api:8000/root"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-forwarded-proto": "HTTPS"}, "https://app-api:8000/root"),
        ({"x-forwarded-proto": "javascript"}, "http://app-api:8000/root"),
        ({"x-forwarded-host": "[::1]:8443"}, "http://[::1]:8443/root"),
        ({"x-forwarded-host": "a.example, b.internal"}, "http://a.example/root"),
        ({"x-forwarded-host": "evil.example/path"}, "http://app-api:8000/root"),
        ({"x-forwarded-host": "user@evil.example"}, "http://app-api:8000/root"),
        ({"x-forwarded-prefix": "/chat/api"}, "http://app-api:8000/chat/api"),
        ({"x-forwarded-prefix": "//evil.example"}, "http://app-api:8000/root"),
        ({"x-forwarded-prefix": "no-slash"}, "http://app-api:8000/root"),
    ],
)
def test_only_values_of_the_expected_shape_count(headers: dict[str, str], expected: str) -> None:
    assert address(allowed="*", **headers) == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"app_api_public_url": "ftp://example.com"},
        {"app_api_public_url": "/api"},
        {"app_api_public_url": "https://example.com/api?x=1"},
        {"app_api_forwarded_allow_ips": "10.0.0.0/8, proxy.internal"},
    ],
)
def test_bad_settings_stop_the_service(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        FilesSettings.model_validate(fields)
