"""Catalogue selectors: tenant isolation and the one price rule."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicflow.catalogue import selectors, services
from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.errors import NotFound
from clinicflow.core.money import Money


@pytest.mark.parametrize("value", ["foreign", "not-a-uuid", "00000000-0000-0000-0000-000000000000", None])
def test_service_get_answers_not_found_for_any_id_outside_the_organisation(
    org, laser, foreign, value
) -> None:
    service_id = foreign.pk if value == "foreign" else value
    with pytest.raises(NotFound):
        selectors.service_get(org=org, service_id=service_id)
    assert selectors.service_get(org=org, service_id=str(laser.pk)) == laser


def test_service_list_is_the_organisations_own(org, laser, consult, foreign) -> None:
    assert selectors.service_list(org=org) == [consult, laser]  # by category, then name
    assert selectors.service_list(org=org, among=[laser.pk, foreign.pk]) == [laser]
    services.service_archive(org=org, actor=None, service=consult)
    assert selectors.service_list(org=org) == [laser]
    assert selectors.service_list(org=org, active=False) == [consult]
    assert selectors.service_list(org=org, active=None) == [consult, laser]


def test_service_list_online_only(org, laser) -> None:
    offline = make_service(
        org, code="surgery", category="surgery", room_type="operating", is_bookable_online=False
    )
    assert selectors.service_list(org=org, online_only=True) == [laser]
    assert offline in selectors.service_list(org=org)


def _set(org, service, amount, day, branch=None):  # type: ignore[no-untyped-def]
    return services.price_set(
        org=org, actor=None, service=service, price=Money.of(amount, "RUB"), valid_from=day, branch=branch
    )


def test_the_price_on_a_day_follows_the_history(org, branch, branch2, laser) -> None:
    today = dt.datetime.now(branch.tz).date()
    d10, d20, d30 = (today + dt.timedelta(days=n) for n in (10, 20, 30))
    _set(org, laser, "13000", d10)
    _set(org, laser, "13500", d20, branch)
    _set(org, laser, "14000", d20)
    _set(org, laser, "15000", d30)

    def at(day, b=branch):  # type: ignore[no-untyped-def]
        return selectors.price_at(org=org, service=laser, branch=b, day=day).amount

    assert str(at(today)) == "12000.00"  # no row yet: the list price
    assert str(at(d10)) == "13000.00"
    assert str(at(d20)) == "13500.00"  # the branch's own row before the organisation-wide one
    assert str(at(d20, branch2)) == "14000.00"
    assert str(at(d30)) == "15000.00"  # a later organisation-wide row beats an older branch row


def test_prices_at_agrees_with_price_at_in_one_query(
    org, branch, laser, consult, foreign, django_assert_num_queries
) -> None:
    day = dt.datetime.now(branch.tz).date() + dt.timedelta(days=5)
    _set(org, laser, "13000", day)
    _set(org, laser, "13100", day, branch)
    with django_assert_num_queries(1):
        prices = selectors.prices_at(org=org, services=[laser, consult], branch=branch, day=day)
    assert prices == {
        s.pk: selectors.price_at(org=org, service=s, branch=branch, day=day) for s in (laser, consult)
    }
    assert prices[laser.pk] == Money.of("13100", "RUB") and prices[consult.pk] == Money.of("3000", "RUB")


def test_price_at_reads_one_query(org, branch, laser, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        selectors.price_at(org=org, service=laser, branch=branch, day=dt.date(2030, 1, 1))


def test_price_history_is_the_services_own(org, branch, laser, consult) -> None:
    day = dt.datetime.now(branch.tz).date()
    _set(org, laser, "13000", day)
    _set(org, consult, "3100", day)
    assert [r.price for r in selectors.price_history(org=org, service=laser)] == [
        Money.of("13000", "RUB").amount
    ]
