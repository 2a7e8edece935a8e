"""IN-05: every refusal of an outbound URL, with a mocked resolver (SECURITY.md)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from clinicflow.core.errors import ValidationFailed
from clinicflow.webhooks.outbound import check_url


def resolver(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "not a public"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str, why: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_url("https://hooks.example.com/x", resolve=resolver(address))
    assert why in caught.value.fields["url"][0]


def test_one_bad_address_among_good_ones_is_enough_to_refuse() -> None:
    with pytest.raises(ValidationFailed):
        check_url("https://hooks.example.com/", resolve=resolver("93.184.215.14", "10.0.0.1"))


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://hooks.example.com/", "gopher://x/", "http://hooks.example.com/", "//x/y"],
)
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_url(url, resolve=resolver("93.184.215.14"))
    assert "scheme" in caught.value.fields["url"][0]


def test_user_info_and_bad_ports_are_refused() -> None:
    for url in ("https://user:pw@hooks.example.com/", "https://hooks.example.com:99999/"):
        with pytest.raises(ValidationFailed):
            check_url(url, resolve=resolver("93.184.215.14"))


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(ValidationFailed) as caught:
        check_url("https://nowhere.invalid/", resolve=fail)
    assert "resolve" in caught.value.fields["url"][0]


def test_a_public_https_url_is_accepted_and_pinned_to_the_checked_address() -> None:
    target = check_url("https://hooks.example.com:8443/in?a=1", resolve=resolver("93.184.215.14"))
    assert (target.address, target.port, target.path, target.host) == (
        "93.184.215.14",
        8443,
        "/in?a=1",
        "hooks.example.com",
    )


def test_the_real_resolver_refuses_localhost() -> None:
    with pytest.raises(ValidationFailed):
        check_url("https://localhost/")


@override_settings(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOWED_NETWORKS=["127.0.0.1/32"])
def test_listed_networks_and_http_are_allowed_only_when_configured() -> None:
    assert check_url("http://127.0.0.1:9/", resolve=resolver("127.0.0.1")).address == "127.0.0.1"
    with pytest.raises(ValidationFailed):
        check_url("http://10.0.0.1/", resolve=resolver("10.0.0.1"))
