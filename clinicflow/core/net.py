"""The client's address, behind the proxies listed in ``settings.TRUSTED_PROXIES``.

``X-Forwarded-For`` is only believed when the connection comes from a trusted proxy; the chain is
then walked from the right, skipping trusted hops, and the first untrusted address is the client.
Anything else (no trusted proxy, a malformed hop) falls back to the connection's own address, so a
client cannot choose the address that login throttling, rate limits, tracking or the audit log see.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _parse(value: str) -> Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that made ``request`` (None when the server did not say)."""
    remote = _parse(str(request.META.get("REMOTE_ADDR") or ""))
    if remote is None:
        return None
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not _trusted(remote, networks):
        return str(remote)
    hops = str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    client = remote
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break  # a malformed hop: trust nothing to its left
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
