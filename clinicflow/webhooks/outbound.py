"""Outbound requests to tenant-configured URLs (SECURITY.md IN-05).

A URL is accepted only with an allowed scheme (``https``; ``http`` too when
``settings.WEBHOOKS_ALLOW_HTTP``), a host name, no user info, and a port; every address its host
resolves to must be public: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
(169.254/16 with the cloud metadata address, fe80::/10), shared (100.64/10), multicast, reserved and
unspecified addresses are refused, as are IPv4-mapped forms of them. The request then goes to the
checked address itself (no second lookup, so DNS rebinding cannot swap it), with the host name in the
``Host`` header and for TLS in SNI and certificate checking. Redirects are never followed: a 3xx is a
failed delivery. ``settings.WEBHOOKS_ALLOWED_NETWORKS`` may list networks to let through anyway
(a test's local server; an on-premises receiver)."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from clinicflow.core.errors import ValidationFailed

Resolver = Callable[[str, int], list[str]]
TIMEOUT = 10.0
MAX_RESPONSE = 4096


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the request goes to


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "WEBHOOKS_ALLOWED_NETWORKS", ())]


def address_refusal(raw: str) -> str | None:
    """Why this address may not be called, or None."""
    try:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if any(address in network for network in _allowed_networks()):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_refusal(str(address.ipv4_mapped))
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_private, "a private address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    for bad, why in checks:
        if bad:
            return why
    return None


def check_url(url: str, *, resolve: Resolver | None = None) -> Target:
    """The URL's checked target; ``ValidationFailed`` on ``url`` naming the reason otherwise."""
    parts = urlsplit(url.strip())
    schemes = {"https", "http"} if getattr(settings, "WEBHOOKS_ALLOW_HTTP", False) else {"https"}
    if parts.scheme not in schemes:
        raise ValidationFailed.field("url", f"the scheme must be {' or '.join(sorted(schemes))}")
    if not parts.hostname or parts.username or parts.password:
        raise ValidationFailed.field("url", "a host name is required, without user or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ValidationFailed.field("url", "the port is not valid") from exc
    try:
        addresses = (resolve or system_resolve)(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        raise ValidationFailed.field("url", "the host name does not resolve") from exc
    if not addresses:
        raise ValidationFailed.field("url", "the host name does not resolve")
    for address in addresses:
        why = address_refusal(address)
        if why:
            raise ValidationFailed.field("url", f"the host resolves to {why} ({address})")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, verifying the certificate for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT) -> Response:
    """POST ``body`` to the checked target; no redirect is followed."""
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPS(target.host, target.address, target.port, timeout)
    else:
        conn = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    try:
        host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        conn.request("POST", target.path, body=body, headers={**headers, "Host": host})
        response = conn.getresponse()
        return Response(response.status, response.read(MAX_RESPONSE))
    finally:
        conn.close()
