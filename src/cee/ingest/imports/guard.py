"""Which URLs a bulk import (or its callback) may reach: no server-side request forgery.

A client hands CEE a URL and CEE fetches it from inside the operator's network, so a URL naming
the metadata service, a database port on loopback or a host on the private network would let a
client read what only the server can reach. Only http and https are fetched, and every address
the host resolves to must be public, unless the operator lists the host or a network holding
the address in `bulk_allow_hosts`.

The check runs three times: when the request arrives (so the caller gets a 400 at once), when
the connection is made (the address actually dialled is the one checked: a DNS answer that
changed in between, "DNS rebinding", is caught) and on every redirect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = ("http", "https")
# Cloud metadata services. Most sit in ranges refused anyway (169.254/16, fd00::/8); listed so
# that the refusal names them, and 100.100.100.200 (Alibaba) is in the shared range 100.64/10.
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class Refused(Exception):
    """The URL or one of its addresses may not be fetched; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # lower-case, IPv6 without brackets
    port: int


@dataclass(frozen=True, slots=True)
class AllowList:
    """The operator's exceptions: host names (exact, any case) and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """`bulk_allow_hosts`: comma-separated host names, addresses or CIDRs."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def parse_url(url: str) -> Target:
    """The scheme, host and port of an http(s) URL; Refused for anything else."""
    if any(ord(c) < 33 for c in url):
        raise Refused("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"'{scheme}:'" if scheme else "none"
        raise Refused(f"only http and https URLs are fetched (the scheme is {shown})")
    host = (parts.hostname or "").lower()
    if not host:
        raise Refused("the URL names no host")
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


def why_refused(address: IPAddress, allow: AllowList) -> str | None:
    """None if the address may be dialled; else what kind of address it is."""
    if allow.allows_address(address):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return why_refused(address.ipv4_mapped, allow)
    if address in METADATA:
        return "a cloud metadata address"
    # The narrowest name first: Python counts loopback, link-local and reserved as private too.
    for kind, flag in (
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("an unspecified", address.is_unspecified),
        ("a reserved", address.is_reserved),
        ("a private", address.is_private),
        # Shared (100.64/10), documentation and other special-purpose ranges: not global.
        ("a non-public", not address.is_global),
    ):
        if flag:
            return f"{kind} address"
    return None


def check_address(host: str, address: IPAddress, allow: AllowList) -> None:
    reason = why_refused(address, allow)
    if reason is not None:
        shown = host if _is_literal(host, address) else f"{host} ({address})"
        raise Refused(f"{shown} is {reason}; the operator can allow it with CEE_BULK_ALLOW_HOSTS")


def _is_literal(host: str, address: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host) == address
    except ValueError:
        return False


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (itself when it is a literal address)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"the host {host} does not resolve ({exc.strerror})") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise Refused(f"the host {host} resolves to no address")
    return found


async def checked_addresses(host: str, port: int, allow: AllowList) -> list[IPAddress]:
    """The host's addresses, every one of them allowed; Refused naming the first that is not.

    All of them, not just one: a host resolving to one public and one private address could
    otherwise be dialled on the private one by a later lookup.
    """
    addresses = await resolve(host, port)
    if allow.allows_host(host):
        return addresses
    for address in addresses:
        check_address(host, address, allow)
    return addresses


async def check_url(url: str, allow: AllowList) -> Target:
    """The request-time check: scheme, host, and every address it resolves to now."""
    target = parse_url(url)
    await checked_addresses(target.host, target.port, allow)
    return target
