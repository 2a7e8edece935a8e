"""Catalogue pages: the list per branch, a service with its price history, forms, per role and per
organisation."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicflow.catalogue import services
from clinicflow.catalogue.models import Service, ServicePrice
from clinicflow.core.money import Money

ROLES = ["owner", "manager", "marketer", "frontdesk", "doctor"]
FORM = {
    "code": "peel",
    "name": "Chemical peel",
    "category": "peels",
    "duration_minutes": "45",
    "buffer_minutes": "0",
    "room_type": "treatment",
    "price": "5500.00",
    "currency": "RUB",
    "course_sessions": "1",
    "course_interval_days": "0",
    "follow_on_codes": "",
    "is_bookable_online": "on",
}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_services_of_a_branch_with_price_and_duration(web, branch, laser, role) -> None:
    page = web(role).get("/catalogue/", {"branch": branch.slug})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Laser resurfacing" in text and "₽12,000.00" in text and "60 min" in text
    assert ("New service" in text) is (role in ("owner", "manager"))


def test_the_list_shows_the_branchs_price_today(web, org, branch, branch2, laser) -> None:
    services.price_set(
        org=org,
        actor=None,
        service=laser,
        price=Money.of("12500", "RUB"),
        valid_from=dt.datetime.now(branch.tz).date(),
        branch=branch,
    )
    assert "₽12,500.00" in web("manager").get("/catalogue/", {"branch": str(branch.pk)}).content.decode()
    assert "₽12,000.00" in web("manager").get("/catalogue/", {"branch": str(branch2.pk)}).content.decode()


def test_the_list_has_a_navigation_entry(web, branch, laser) -> None:
    assert 'href="/catalogue/"' in web("doctor").get("/patients/").content.decode()


def test_another_organisations_branch_is_a_404(web, branch, other_branch) -> None:
    assert web("owner").get("/catalogue/", {"branch": str(other_branch.pk)}).status_code == 404


def test_the_list_page_query_budget(web, org, branch, laser, consult, django_assert_num_queries) -> None:
    client = web("manager")
    client.get("/catalogue/")  # warm the session
    # session, user, organisation; branches, the branch by slug, services, prices; the session's
    # idle-timeout update (savepoint, update, release)
    with django_assert_num_queries(10):
        assert client.get("/catalogue/", {"branch": branch.slug}).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("manager", 200), ("marketer", 403), ("frontdesk", 403), ("doctor", 403)],
)
def test_only_owner_and_manager_open_the_new_service_form(web, branch, role, status) -> None:
    assert web(role).get("/catalogue/new/").status_code == status


def test_a_new_service_is_created_from_the_form(web, org, branch) -> None:
    response = web("manager").post("/catalogue/new/", FORM)
    service = Service.objects.for_org(org).get(code="peel")
    assert response.status_code == 302 and response["Location"] == f"/catalogue/{service.pk}/"
    assert (service.name, str(service.price), service.duration_minutes) == ("Chemical peel", "5500.00", 45)


def test_a_refused_service_shows_the_error_on_the_form(web, org, branch, laser) -> None:
    response = web("manager").post("/catalogue/new/", {**FORM, "code": "laser-face"})
    assert response.status_code == 422
    assert "another service has this code" in response.content.decode()
    response = web("manager").post("/catalogue/new/", {**FORM, "name": ""})
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert Service.objects.for_org(org).count() == 1


def test_the_marketer_cannot_create_a_service(web, org, branch) -> None:
    assert web("marketer").post("/catalogue/new/", FORM).status_code == 403
    assert Service.objects.for_org(org).count() == 0


def test_edit_saves_the_details_but_not_code_or_price(web, laser) -> None:
    form = {**FORM, "name": "Laser, face", "duration_minutes": "75"}
    response = web("owner").post(f"/catalogue/{laser.pk}/edit/", form)
    assert response.status_code == 302
    laser.refresh_from_db()
    assert (laser.name, laser.duration_minutes, laser.code, str(laser.price)) == (
        "Laser, face",
        75,
        "laser-face",
        "12000.00",
    )


def test_the_service_page_shows_the_price_history(web, org, branch, laser) -> None:
    day = dt.datetime.now(branch.tz).date() + dt.timedelta(days=7)
    services.price_set(org=org, actor=None, service=laser, price=Money.of("13000", "RUB"), valid_from=day)
    page = web("marketer").get(f"/catalogue/{laser.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    history = text[text.index('id="price-history"') :]
    assert f"{day.day} {day:%B} {day.year}" in history and "₽13,000.00" in history and "₽12,000.00" in history
    assert "Change the price" not in text  # the marketer may only look


def test_a_price_change_from_the_page_is_appended(web, org, branch, laser) -> None:
    day = dt.datetime.now(branch.tz).date() + dt.timedelta(days=1)
    data = {"price": "12900", "valid_from": day.isoformat(), "branch": str(branch.pk)}
    response = web("manager").post(f"/catalogue/{laser.pk}/price/", data)
    assert response.status_code == 302
    row = ServicePrice.objects.for_org(org).get()
    assert (str(row.price), row.currency, row.valid_from, row.branch_id) == (
        "12900.00",
        "RUB",
        day,
        branch.pk,
    )


def test_a_price_change_for_a_past_date_shows_the_error(web, org, branch, laser) -> None:
    day = dt.datetime.now(branch.tz).date() - dt.timedelta(days=2)
    response = web("manager").post(
        f"/catalogue/{laser.pk}/price/", {"price": "1", "valid_from": day.isoformat()}
    )
    assert response.status_code == 422
    assert "a price change never rewrites history" in response.content.decode()
    assert ServicePrice.objects.for_org(org).count() == 0


def test_archive_from_the_page(web, laser) -> None:
    assert web("frontdesk").post(f"/catalogue/{laser.pk}/archive/").status_code == 403
    assert web("manager").post(f"/catalogue/{laser.pk}/archive/").status_code == 302
    laser.refresh_from_db()
    assert laser.is_active is False
    assert "Laser resurfacing" not in web("manager").get("/catalogue/").content.decode()
    assert "Laser resurfacing" in web("manager").get("/catalogue/", {"archived": "1"}).content.decode()
    assert web("manager").post(f"/catalogue/{laser.pk}/restore/").status_code == 302
    laser.refresh_from_db()
    assert laser.is_active is True


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/catalogue/{id}/"),
        ("get", "/catalogue/{id}/edit/"),
        ("post", "/catalogue/{id}/edit/"),
        ("post", "/catalogue/{id}/price/"),
        ("post", "/catalogue/{id}/archive/"),
        ("post", "/catalogue/{id}/restore/"),
    ],
)
def test_another_organisations_service_is_a_404(web, foreign, method, path) -> None:
    response = getattr(web("owner"), method)(path.format(id=foreign.pk))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active is True and foreign.name == "Laser resurfacing"


def test_the_price_forms_date_is_iso_in_every_language(web, branch, laser) -> None:
    client = web("manager")
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    page = client.get(f"/catalogue/{laser.pk}/").content.decode()
    assert "Изменить цену" in page
    assert f'name="valid_from" value="{dt.datetime.now(branch.tz).date().isoformat()}"' in page
