"""The SSRF guard: which addresses and URLs the fetching tools may reach, and that each host is judged by every
address it resolves to."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_address

import httpx
import pytest

from apis.shared.config import ToolsSettings
from apis.shared.tools.network_guard import (
    PRIVATE_NETWORKS,
    AddressPolicy,
    Resolver,
    UrlRefused,
    checked_target,
    http_url,
    system_resolver,
)
from apis.shared.tools.tool_results import ToolFailure

PUBLIC_ONLY = AddressPolicy.from_settings(ToolsSettings(tools_allow_private_networks=False))
WITH_PRIVATE = AddressPolicy.from_settings(ToolsSettings(tools_allow_private_networks=True))

ALWAYS_REFUSED = [
    "169.254.169.254",  # the cloud metadata service
    "169.254.0.1",
    "fe80::1",
    "fd00:ec2::254",  # AWS's metadata service over IPv6
    "100.100.100.200",  # Alibaba's
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "ff02::1",
    "255.255.255.255",
    "240.0.0.1",
    "fec0::1",
    "::ffff:169.254.169.254",  # IPv4-mapped
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
]
PRIVATE_OR_LOOPBACK = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
]
NEITHER_PUBLIC_NOR_PRIVATE = ["192.0.2.1", "198.18.0.1", "2001:db8::1", "2001::1"]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", ALWAYS_REFUSED)
@pytest.mark.parametrize("policy", [PUBLIC_ONLY, WITH_PRIVATE], ids=["public-only", "private-allowed"])
def test_link_local_metadata_and_special_addresses_are_always_refused(address: str, policy: AddressPolicy) -> None:
    assert policy.refusal(ip_address(address)) is not None


def test_the_metadata_address_is_refused_as_link_local() -> None:
    assert "link-local" in (WITH_PRIVATE.refusal(ip_address("169.254.169.254")) or "")


@pytest.mark.parametrize("address", PRIVATE_OR_LOOPBACK)
def test_private_and_loopback_addresses_need_the_setting(address: str) -> None:
    assert PUBLIC_ONLY.refusal(ip_address(address)) is not None
    assert WITH_PRIVATE.refusal(ip_address(address)) is None


@pytest.mark.parametrize("address", NEITHER_PUBLIC_NOR_PRIVATE)
def test_documentation_and_benchmark_ranges_are_refused_either_way(address: str) -> None:
    assert PUBLIC_ONLY.refusal(ip_address(address)) is not None
    assert WITH_PRIVATE.refusal(ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert PUBLIC_ONLY.refusal(ip_address(address)) is None


def test_a_narrower_policy_allows_only_what_it_names() -> None:
    loopback_only = AddressPolicy((PRIVATE_NETWORKS[0],))

    assert loopback_only.refusal(ip_address("127.0.0.1")) is None
    assert loopback_only.refusal(ip_address("10.0.0.1")) == "a private address"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/file", "file:///etc/passwd", "gopher://example.org/", "javascript:alert(1)", "example.org"],
)
def test_only_http_and_https_urls_are_accepted(url: str) -> None:
    with pytest.raises(UrlRefused, match="only http:// and https://"):
        http_url(url)


def test_a_url_without_a_host_is_refused() -> None:
    with pytest.raises(UrlRefused, match="has no host"):
        http_url("http:///path")


def fixed_resolver(answers: dict[str, Sequence[str]], calls: list[str] | None = None) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError(f"no such host {host}")
        return answers[host]

    return resolve


async def test_a_hostname_that_resolves_to_a_private_address_is_refused() -> None:
    resolve = fixed_resolver({"intranet.example": ["10.20.30.40"]})

    with pytest.raises(UrlRefused) as refused:
        await checked_target(httpx.URL("http://intranet.example/"), policy=PUBLIC_ONLY, resolve=resolve)

    assert str(refused.value) == (
        "intranet.example resolves to 10.20.30.40, which is a private address: this tool may not reach it"
    )


async def test_one_internal_address_among_public_ones_refuses_the_host() -> None:
    resolve = fixed_resolver({"mixed.example": ["93.184.215.14", "169.254.169.254"]})

    with pytest.raises(UrlRefused, match="link-local"):
        await checked_target(httpx.URL("https://mixed.example/"), policy=WITH_PRIVATE, resolve=resolve)


async def test_a_public_host_gives_its_checked_addresses_once_each() -> None:
    resolve = fixed_resolver({"www.example": ["93.184.215.14", "2606:2800::1", "93.184.215.14"]})

    target = await checked_target(httpx.URL("https://www.example:8443/a?b=c"), policy=PUBLIC_ONLY, resolve=resolve)

    assert (target.host, target.port) == ("www.example", 8443)
    assert target.addresses == (ip_address("93.184.215.14"), ip_address("2606:2800::1"))


async def test_an_ip_literal_is_judged_without_asking_the_resolver() -> None:
    calls: list[str] = []
    resolve = fixed_resolver({}, calls)

    with pytest.raises(UrlRefused, match=r"^169\.254\.169\.254 is a link-local address"):
        await checked_target(httpx.URL("http://169.254.169.254/latest/"), policy=WITH_PRIVATE, resolve=resolve)
    with pytest.raises(UrlRefused, match="loopback"):
        await checked_target(httpx.URL("http://[::ffff:127.0.0.1]/"), policy=PUBLIC_ONLY, resolve=resolve)
    assert calls == []


async def test_a_host_that_does_not_resolve_is_a_tool_failure() -> None:
    with pytest.raises(ToolFailure, match="could not be resolved"):
        await checked_target(httpx.URL("http://nowhere.example/"), policy=PUBLIC_ONLY, resolve=fixed_resolver({}))


async def test_localhost_resolved_by_the_system_is_refused() -> None:
    with pytest.raises(UrlRefused, match="localhost resolves to"):
        await checked_target(httpx.URL("http://localhost:8080/"), policy=PUBLIC_ONLY, resolve=system_resolver)
