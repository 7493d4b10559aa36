"""SSRF protection for the tools that fetch what the model names: which URLs and addresses they may reach.

The model is steered by whatever it reads (a page, a document, a user's message), so a URL it asks for is
untrusted input: without this guard it could read the cloud's metadata service (credentials), an admin page on
the loopback interface, or any host of the private network the service runs in.

The rule:
- Only `http` and `https`, with a host.
- The host is resolved here, and every address it resolves to is judged: one refused address refuses the URL
  (a name that mixes public and internal addresses is not trusted). The connection is then made to an address
  that was judged (http_fetch.py pins it), so a second DNS answer cannot swap in another ("DNS rebinding").
- Always refused, whatever the settings: link-local (169.254.0.0/16, home of the metadata service at
  169.254.169.254, and fe80::/10), the other clouds' metadata addresses (AWS over IPv6, Alibaba), multicast,
  unspecified, broadcast, reserved, "this network" (0.0.0.0/8) and the deprecated site-local fec0::/10.
- Public addresses (`is_global`) are allowed.
- `TOOLS_ALLOW_PRIVATE_NETWORKS` allows loopback and the private ranges too (10/8, 172.16/12, 192.168/16, the
  shared 100.64/10, fc00::/7): for tests, whose pages are on loopback, and for a deployment that means to let
  its tools read an intranet. It never opens the addresses above.
- An IPv6 address that carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, 6to4 `2002::/16`, NAT64 `64:ff9b::/96`)
  is judged by that IPv4 address, which is where the packets end up.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import anyio
import httpx

from apis.shared.config import ToolsSettings
from apis.shared.tools.tool_results import ToolFailure

logger = logging.getLogger(__name__)

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
# host, port -> the addresses the host resolves to (IP strings); failures raise OSError (socket.gaierror).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

_NEVER: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ip_network(network), why)
    for network, why in (
        ("169.254.0.0/16", "a link-local address (the cloud metadata service lives there)"),
        ("fe80::/10", "a link-local address"),
        ("fd00:ec2::254/128", "the cloud metadata service"),
        ("100.100.100.200/32", "the cloud metadata service"),
        ("0.0.0.0/8", "an unspecified address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("fec0::/10", "a site-local address"),
        ("64:ff9b:1::/48", "a local NAT64 address"),
    )
)
PRIVATE_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ip_network(network)
    for network in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
    )
)
_NAT64 = ip_network("64:ff9b::/96")


class UrlRefused(ToolFailure):
    """The URL names a scheme, host or address the tools may not reach."""


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """The addresses a fetch may reach besides public ones (`also_allowed`); the always-refused ones excepted."""

    also_allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: ToolsSettings) -> AddressPolicy:
        return cls(PRIVATE_NETWORKS if settings.tools_allow_private_networks else ())

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be reached, or None when it may."""
        judged = _carried_ipv4(address) or address
        for network, why in _NEVER:
            if judged.version == network.version and judged in network:
                return why
        if judged.is_multicast:
            return "a multicast address"
        if judged.is_unspecified:
            return "an unspecified address"
        if any(judged.version == network.version and judged in network for network in self.also_allowed):
            return None
        if judged.is_reserved:
            return "a reserved address"
        if judged.is_loopback:
            return "a loopback address"
        if not judged.is_global:
            return "a private address"
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """A URL whose host resolved to addresses that may all be reached; a connection goes to one of them."""

    url: httpx.URL
    host: str  # as sent in SNI: ASCII (IDNA), no brackets
    port: int
    addresses: tuple[IPAddress, ...]


def http_url(url: str | httpx.URL) -> httpx.URL:
    """`url` parsed, if it is an http(s) URL with a host; UrlRefused otherwise."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UrlRefused(f"{str(url)[:200]!r} is not a valid URL") from exc
    if parsed.scheme not in SCHEMES:
        raise UrlRefused(f"only http:// and https:// URLs can be fetched, not {parsed.scheme or 'a relative'} URLs")
    if not parsed.host:
        raise UrlRefused(f"{str(url)[:200]!r} has no host")
    return parsed


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for `host`."""
    answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for *_, sockaddr in answers]


async def checked_target(url: httpx.URL, *, policy: AddressPolicy, resolve: Resolver) -> Target:
    """Resolve the URL's host and judge every address; UrlRefused naming the reason, or ToolFailure if the
    host does not resolve."""
    url = http_url(url)
    host = url.raw_host.decode("ascii")
    port = url.port or _DEFAULT_PORTS[url.scheme]
    addresses = await _addresses(host, port, resolve)
    for address in addresses:
        why = policy.refusal(address)
        if why is not None:
            logger.warning("refused to fetch from %s (%s): %s", host, address, why)
            named = str(address) if _literal(host) is not None else f"{url.host} resolves to {address}, which"
            raise UrlRefused(f"{named} is {why}: this tool may not reach it")
    return Target(url=url, host=host, port=port, addresses=addresses)


async def _addresses(host: str, port: int, resolve: Resolver) -> tuple[IPAddress, ...]:
    literal = _literal(host)
    if literal is not None:
        return (literal,)
    try:
        answers = await resolve(host, port)
    except OSError as exc:
        raise ToolFailure(f"the host {host} could not be resolved") from exc
    addresses = tuple(dict.fromkeys(ip_address(answer.split("%", 1)[0]) for answer in answers))
    if not addresses:
        raise ToolFailure(f"the host {host} could not be resolved")
    return addresses


def _literal(host: str) -> IPAddress | None:
    try:
        return ip_address(host)
    except ValueError:
        return None


def _carried_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries and delivers to, if any."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None
