"""The demo clinics' own data is in their language with the English beside it: the scenarios'
names, what the simulator writes (services, branches, channels with their English translation;
Cyrillic and Chinese patients), feminine Russian surnames, and the patient search by such names."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from clinicflow.acquisition.models import Channel
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization, Region
from clinicflow.core.services import organization_create
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import PatientFilters, patient_list
from clinicflow.simulator.engine.people import RU_LAST, RU_LAST_FEMALE, feminine_surname, last_name
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _named(scn):  # type: ignore[no-untyped-def]
    return [scn, *scn.branches, *scn.services, *scn.channels, *scn.doctors, *scn.administrators]


@pytest.mark.parametrize("scenario", [None, "mid", "chain-1m"])
def test_the_russian_scenarios_name_everything_in_russian_with_english_beside(scenario) -> None:
    scn = load_scenario(scenario)
    for item in _named(scn):
        assert CYRILLIC.search(item.name), item.name
        assert item.name_en and item.name_en.isascii(), (item.name, item.name_en)
    default = load_scenario(None)
    assert default.service("botox-face").name == "Ботулинотерапия, верхняя треть лица"
    assert default.service("botox-face").name_en == "Botulinum therapy, upper face"


def test_the_shanghai_scenario_names_everything_in_chinese_with_english_beside() -> None:
    scn = load_scenario("other")
    for item in _named(scn):
        assert HAN.search(item.name) and not CYRILLIC.search(item.name), item.name
        assert item.name_en and item.name_en.isascii(), (item.name, item.name_en)
    assert scn.service("laser-hair").name == "激光脱毛"
    assert scn.service("laser-hair").name_en == "Laser hair removal"


def test_an_unknown_code_in_the_names_table_is_an_error_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"names\.services\.nope"):
        load_scenario(None, overrides={"names": {"services": {"nope": "x"}}})


def test_russian_women_take_the_feminine_surname() -> None:
    assert feminine_surname("Иванов") == "Иванова"
    assert feminine_surname("Никитин") == "Никитина"
    assert feminine_surname("Вишневский") == "Вишневская"
    assert feminine_surname("Толстой") == "Толстая"
    assert feminine_surname("Черных") == "Черных"
    assert last_name("Иванов", True, "RU") == "Иванова" and last_name("Иванов", False, "RU") == "Иванов"
    assert last_name("王", True, "CN") == "王"
    assert len(RU_LAST_FEMALE) == len(RU_LAST)


def test_a_simulated_clinic_has_both_names_and_patients_named_in_its_language(db) -> None:
    """One short simulation of each demo clinic (in the test's transaction, so nothing is left behind)."""
    ru = organization_create(
        name="Names RU", slug="names-ru", country="RU", currency="RUB", data_region=Region.RU
    )
    cn = organization_create(
        name="Names CN", slug="names-cn", country="CN", currency="CNY", data_region=Region.CN
    )
    short = {"clinic": {"months": 2, "demand_factor": 1.0}}
    simulate_org(org=ru, scenario=load_scenario(None, overrides=short), seed=7)
    simulate_org(org=cn, scenario=load_scenario("other", overrides=short), seed=7)
    _both_names_are_stored(ru, cn)
    _russian_patients_are_named_in_russian(ru)
    _patients_are_found_by_a_cyrillic_or_a_chinese_name(ru, cn)


def _both_names_are_stored(ru: Organization, cn: Organization) -> None:
    botox = Service.objects.for_org(ru).get(code="botox-face")
    assert botox.name == "Ботулинотерапия, верхняя треть лица"
    assert botox.name_i18n == {"en": "Botulinum therapy, upper face"}
    with translation.override("en"):
        assert botox.display_name == "Botulinum therapy, upper face"
        assert Branch.objects.for_org(ru).get(slug="moscow").display_name == "Moscow, Tverskaya"
        assert Channel.objects.for_org(cn).get(code="search_ads").display_name == "Search ads"
    with translation.override("ru"):
        assert Branch.objects.for_org(ru).get(slug="moscow").display_name == "Москва, Тверская"
    with translation.override("zh-hans"):
        assert Channel.objects.for_org(cn).get(code="search_ads").display_name == "搜索广告"
    for org in (ru, cn):
        for model in (Service, Branch, Channel):
            rows = list(model.objects.for_org(org).values_list("name", "name_i18n"))  # type: ignore[attr-defined]
            assert rows and all(names.get("en") for _name, names in rows), model


def _russian_patients_are_named_in_russian(ru: Organization) -> None:
    patients = list(Patient.objects.for_org(ru).values_list("last_name", "first_name", "sex"))
    assert len(patients) > 20
    assert all(CYRILLIC.search(last) and CYRILLIC.search(first) for last, first, _sex in patients)
    women = [last for last, _first, sex in patients if sex == "F"]
    assert women and all(w.endswith(("а", "ая", "ых")) for w in women)


def _patients_are_found_by_a_cyrillic_or_a_chinese_name(ru: Organization, cn: Organization) -> None:
    anna = Patient.objects.for_org(ru).order_by("id").first()
    assert anna is not None
    query = f"{anna.last_name.upper()} {anna.first_name[:3]}"
    found = list(patient_list(org=ru, filters=PatientFilters(q=query)))
    assert anna in found and all(p.last_name == anna.last_name for p in found)
    wang = Patient.objects.for_org(cn).order_by("id").first()
    assert wang is not None and HAN.search(wang.last_name)
    typed = wang.last_name + wang.first_name  # a Chinese name is typed without a space
    found = list(patient_list(org=cn, filters=PatientFilters(q=typed)))
    assert wang in found
    assert all((p.last_name + p.first_name) == typed for p in found)
