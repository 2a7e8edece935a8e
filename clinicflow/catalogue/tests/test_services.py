"""Catalogue services: validation names the field, writes are audited, price changes append history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clinicflow.catalogue import selectors, services
from clinicflow.catalogue.models import Service, ServicePrice
from clinicflow.catalogue.tests.factories import details, make_service
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditEvent
from clinicflow.core.money import Money


def _today(branch) -> dt.date:  # type: ignore[no-untyped-def]
    return dt.datetime.now(branch.tz).date()


def _audit(org, object_type: str) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    rows = AuditEvent.objects.filter(organization=org, object_type=object_type).order_by("seq")
    return [(e.action, e.fields) for e in rows]


def test_a_created_service_has_its_list_price_and_an_audit_row(org, users) -> None:
    service = services.service_create(
        org=org,
        actor=users["manager"],
        code=" Laser-Face ",
        price=Money.of("12000", "RUB"),
        details=details(name="  Laser resurfacing "),
    )
    service.refresh_from_db()
    assert (service.code, service.name, service.price, service.currency) == (
        "laser-face",
        "Laser resurfacing",
        Decimal("12000.00"),
        "RUB",
    )
    assert service.is_active is True
    [event] = AuditEvent.objects.filter(organization=org, object_type="service")
    assert event.action == "create" and event.actor_email == "manager@demo.test"
    assert event.object_id == str(service.pk)
    assert {"code", "price", "currency", "name", "duration_minutes"} <= set(event.fields)


@pytest.mark.parametrize(
    ("code", "overrides", "field"),
    [
        ("bad code!", {}, "code"),
        ("ok", {"name": "   "}, "name"),
        ("ok", {"category": "magic"}, "category"),
        ("ok", {"room_type": "garage"}, "room_type"),
        ("ok", {"duration_minutes": 0}, "duration_minutes"),
        ("ok", {"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ("ok", {"buffer_minutes": -5}, "buffer_minutes"),
        ("ok", {"course_sessions": 0}, "course_sessions"),
        ("ok", {"course_sessions": 3, "course_interval_days": 0}, "course_interval_days"),
        ("ok", {"follow_on_codes": ["nope"]}, "follow_on_codes"),
        ("ok", {"follow_on_codes": ["ok"]}, "follow_on_codes"),
    ],
)
def test_an_invalid_service_is_refused_naming_the_field(org, code, overrides, field) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.service_create(
            org=org, actor=None, code=code, price=Money.of("100", "RUB"), details=details(**overrides)
        )
    assert list(caught.value.fields) == [field]
    assert Service.objects.for_org(org).count() == 0
    assert _audit(org, "service") == []


@pytest.mark.parametrize(
    "price", [Money(Decimal("-1.00"), "RUB"), Money(Decimal("10.005"), "RUB"), Money(Decimal("1.5"), "JPY")]
)
def test_a_bad_price_is_refused_naming_the_price(org, price) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.service_create(org=org, actor=None, code="x", price=price, details=details())
    assert list(caught.value.fields) == ["price"]


def test_a_code_is_unique_in_the_organisation_only(org, other_org) -> None:
    make_service(org)
    with pytest.raises(ValidationFailed) as caught:
        make_service(org)
    assert caught.value.fields == {"code": ["another service has this code"]}
    assert make_service(other_org, currency="CNY").organization_id == other_org.pk


def test_follow_on_codes_name_existing_services(org, laser) -> None:
    consult = make_service(org, code="consult", follow_on_codes=["laser-face", " laser-face "])
    assert consult.follow_on_codes == ["laser-face"]


def test_update_saves_and_audits_only_the_changed_fields(org, users, laser) -> None:
    services.service_update(
        org=org,
        actor=users["owner"],
        service=laser,
        details=details(name="Laser resurfacing", duration_minutes=90, buffer_minutes=15),
    )
    laser.refresh_from_db()
    assert (laser.duration_minutes, laser.buffer_minutes, laser.price) == (90, 15, Decimal("12000.00"))
    assert _audit(org, "service")[-1] == ("update", ["buffer_minutes", "duration_minutes"])
    before = AuditEvent.objects.filter(organization=org).count()
    services.service_update(
        org=org,
        actor=users["owner"],
        service=laser,
        details=details(name="Laser resurfacing", duration_minutes=90, buffer_minutes=15),
    )
    assert AuditEvent.objects.filter(organization=org).count() == before


def test_a_refused_update_changes_nothing(org, laser) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.service_update(
            org=org, actor=None, service=laser, details=details(duration_minutes=0, name="X")
        )
    assert list(caught.value.fields) == ["duration_minutes"]
    laser.refresh_from_db()
    assert (laser.name, laser.duration_minutes) == ("Laser resurfacing", 60)


def test_another_organisations_service_is_refused(org, foreign) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.service_archive(org=org, actor=None, service=foreign)
    assert list(caught.value.fields) == ["service"]
    foreign.refresh_from_db()
    assert foreign.is_active is True


def test_archive_and_restore_are_audited_once(org, users, laser) -> None:
    services.service_archive(org=org, actor=users["manager"], service=laser)
    services.service_archive(org=org, actor=users["manager"], service=laser)
    assert selectors.service_list(org=org) == []
    services.service_restore(org=org, actor=users["manager"], service=laser)
    assert selectors.service_list(org=org) == [laser]
    assert _audit(org, "service")[1:] == [("update", ["is_active"]), ("update", ["is_active"])]


def test_a_price_change_appends_history_and_never_rewrites_it(org, branch, users, laser) -> None:
    today = _today(branch)
    first = services.price_set(
        org=org, actor=users["owner"], service=laser, price=Money.of("13000", "RUB"), valid_from=today
    )
    kept = list(ServicePrice.objects.for_org(org).values_list("id", "price", "valid_from", "branch_id"))
    services.price_set(
        org=org,
        actor=users["owner"],
        service=laser,
        price=Money.of("14000", "RUB"),
        valid_from=today + dt.timedelta(days=30),
        branch=branch,
    )
    rows = list(ServicePrice.objects.for_org(org).values_list("id", "price", "valid_from", "branch_id"))
    assert len(rows) == 2 and kept[0] in rows
    laser.refresh_from_db()
    assert laser.price == Decimal("12000.00")  # the list price stays what it was
    assert selectors.price_at(org=org, service=laser, branch=branch, day=today) == Money.of("13000", "RUB")
    assert _audit(org, "service_price") == [
        ("create", ["branch", "currency", "price", "service", "valid_from"]),
        ("create", ["branch", "currency", "price", "service", "valid_from"]),
    ]
    assert AuditEvent.objects.get(object_type="service_price", object_id=str(first.pk)).role == "owner"


def _refused_price_fields(org, service, price, day, branch) -> list[str]:  # type: ignore[no-untyped-def]
    """Try a price change that must be refused; the fields its error names. Nothing may be written."""
    with pytest.raises(ValidationFailed) as caught:
        services.price_set(org=org, actor=None, service=service, price=price, valid_from=day, branch=branch)
    assert ServicePrice.objects.for_org(org).count() == 0
    assert _audit(org, "service_price") == []
    return list(caught.value.fields)


def test_a_price_from_a_past_date_is_refused_and_nothing_is_written(org, branch, laser) -> None:
    yesterday = _today(branch) - dt.timedelta(days=1)
    assert _refused_price_fields(org, laser, Money.of("1", "RUB"), yesterday, branch) == ["valid_from"]
    assert _refused_price_fields(org, laser, Money.of("1", "RUB"), dt.date(2000, 1, 1), None) == [
        "valid_from"
    ]


def test_a_branch_price_is_in_the_branchs_currency(org, branch, laser) -> None:
    assert _refused_price_fields(org, laser, Money.of("10", "EUR"), _today(branch), branch) == ["price"]


def test_a_price_at_another_organisations_branch_is_refused(org, laser, other_branch) -> None:
    today = _today(other_branch)
    assert _refused_price_fields(org, laser, Money.of("10", "CNY"), today, other_branch) == ["branch"]


def test_two_changes_from_one_date_the_later_applies_and_both_stay(org, branch, laser) -> None:
    day = _today(branch) + dt.timedelta(days=3)
    for amount in ("15000", "15500"):
        services.price_set(org=org, actor=None, service=laser, price=Money.of(amount, "RUB"), valid_from=day)
    assert selectors.price_at(org=org, service=laser, branch=branch, day=day) == Money.of("15500", "RUB")
    assert [r.price for r in selectors.price_history(org=org, service=laser)] == [
        Decimal("15500.00"),
        Decimal("15000.00"),
    ]
