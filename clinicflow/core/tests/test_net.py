from __future__ import annotations

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.test import Client, RequestFactory, override_settings

from clinicflow.core.audit import request_meta
from clinicflow.core.net import client_ip


def _request(remote: str, forwarded: str | None = None) -> HttpRequest:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return RequestFactory(REMOTE_ADDR=remote).get("/", headers=headers)


def test_trusted_proxies_is_empty_by_default() -> None:
    assert settings.TRUSTED_PROXIES == []


def test_a_spoofed_forwarded_for_from_an_untrusted_client_is_ignored() -> None:
    request = _request("203.0.113.9", "198.51.100.1")
    assert client_ip(request) == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_spoofed_forwarded_for_from_a_client_outside_the_trusted_proxies_is_ignored() -> None:
    assert client_ip(_request("203.0.113.9", "10.1.1.1, 198.51.100.1")) == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.5"])
def test_behind_a_trusted_proxy_the_real_client_is_used() -> None:
    assert client_ip(_request("10.0.0.5", "198.51.100.7")) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "2001:db8::/32"])
def test_the_chain_is_walked_from_the_right_skipping_trusted_hops() -> None:
    # the client prepends a forged hop; the proxies append what they saw
    request = _request("10.0.0.5", "1.2.3.4, 198.51.100.7, 2001:db8::1, 10.9.9.9")
    assert client_ip(request) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_malformed_hop_stops_the_walk() -> None:
    assert client_ip(_request("10.0.0.5", "198.51.100.7, junk")) == "10.0.0.5"
    assert client_ip(_request("10.0.0.5")) == "10.0.0.5"


@override_settings(TRUSTED_PROXIES=["10.0.0.5"])
def test_the_audit_log_records_the_client_behind_a_trusted_proxy() -> None:
    assert request_meta(_request("10.0.0.5", "198.51.100.7")).ip == "198.51.100.7"
    assert request_meta(_request("203.0.113.9", "198.51.100.7")).ip == "203.0.113.9"


def test_login_throttling_uses_the_same_client_address() -> None:
    assert settings.AXES_CLIENT_IP_CALLABLE == "clinicflow.core.net.client_ip"


def _fail_login(client: Client, n: int, forwarded: str) -> int:
    response = client.post(
        settings.LOGIN_URL_PATH,
        {"username": f"nobody{n}@example.org", "password": "wrong"},
        headers={"X-Forwarded-For": forwarded},
    )
    return response.status_code


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_does_not_escape_the_login_lockout() -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [_fail_login(client, n, f"198.51.100.{n}") for n in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["10.0.0.5"])
def test_behind_a_trusted_proxy_login_lockout_is_per_real_client() -> None:
    proxy = Client(REMOTE_ADDR="10.0.0.5")
    statuses = [_fail_login(proxy, n, "198.51.100.7") for n in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert _fail_login(proxy, 99, "198.51.100.8") == 200
