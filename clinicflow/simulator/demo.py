"""The demo installation: two organisations, staff logins with password ``demo``, a few patients,
and simulated life: the clinic simulator (clinicflow.simulator) fills "demo" with 24 months ending
today (default scenario, fixed seed) and "other" with a small clinic (scenario other.toml).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import user_create
from clinicflow.booking.models import Doctor
from clinicflow.core.models import Branch, Organization, Region
from clinicflow.core.services import branch_create, organization_create
from clinicflow.patients.models import ConsentMethod, ConsentPurpose, Sex, Source
from clinicflow.patients.services import PatientData, consent_record, patient_create
from clinicflow.simulator.runner import has_simulated_data, simulate_org
from clinicflow.simulator.scenario import load_scenario

DEMO_PASSWORD = "demo"

DEMO_USERS = [  # staff named in their clinic's language
    ("demo", "owner@demo.clinic", Role.OWNER, "Ольга Владимирова", False),
    ("demo", "manager@demo.clinic", Role.MANAGER, "Мария Комарова", False),
    ("demo", "marketer@demo.clinic", Role.MARKETER, "Марк Ершов", False),
    ("demo", "frontdesk@demo.clinic", Role.FRONTDESK, "Фаина Гусева", False),
    ("demo", "doctor@demo.clinic", Role.DOCTOR, "Дмитрий Титов", True),
    ("other", "owner@other.clinic", Role.OWNER, "周晓明", False),
]

DEMO_PATIENTS = {
    "demo": [
        (
            "Иванова",
            "Анна",
            "Сергеевна",
            Sex.FEMALE,
            dt.date(1988, 4, 12),
            "8 (916) 123-45-67",
            "anna@example.ru",
            "ru",
            Source.SEARCH_ADS,
            "moscow",
        ),
        (
            "Петрова",
            "Елена",
            "",
            Sex.FEMALE,
            dt.date(1979, 11, 3),
            "+7 903 555 12 34",
            "",
            "ru",
            Source.REFERRAL,
            "moscow",
        ),
        (
            "Смирнов",
            "Павел",
            "Игоревич",
            Sex.MALE,
            dt.date(1990, 1, 25),
            "+7 (383) 210-44-55",
            "pavel@example.ru",
            "ru",
            Source.SOCIAL_ADS,
            "novosibirsk",
        ),
        (
            "Кузнецова",
            "Ольга",
            "",
            Sex.FEMALE,
            dt.date(1995, 7, 30),
            "89137778899",
            "",
            "ru",
            Source.AGGREGATOR,
            "novosibirsk",
        ),
        (
            "王",
            "丽",
            "",
            Sex.FEMALE,
            dt.date(1992, 2, 14),
            "+86 138 0013 8000",
            "li.wang@example.cn",
            "zh-hans",
            Source.ORGANIC,
            "moscow",
        ),
        (
            "Tamm",
            "Kristi",
            "",
            Sex.FEMALE,
            dt.date(1985, 9, 9),
            "+372 5123 4567",
            "kristi@example.ee",
            "en",
            Source.DIRECT,
            "moscow",
        ),
    ],
    "other": [
        (
            "陈",
            "美",
            "",
            Sex.FEMALE,
            dt.date(1990, 6, 1),
            "139 1234 5678",
            "mei@example.cn",
            "zh-hans",
            Source.SOCIAL_ADS,
            "main",
        ),
        (
            "张",
            "伟",
            "",
            Sex.MALE,
            dt.date(1983, 3, 17),
            "+86 21 6123 4567",
            "",
            "zh-hans",
            Source.REFERRAL,
            "main",
        ),
    ],
}


DEMO_SEED = 2026
DEMO_SCENARIOS = {"demo": None, "other": "other"}  # None = the default scenario


@dataclass
class DemoSummary:
    organizations: int
    branches: int
    users: int
    patients: int
    created: bool


def demo_exists() -> bool:
    return Organization.objects.filter(slug="demo").exists()


@transaction.atomic
def demo_setup(*, with_patients: bool = True) -> DemoSummary:
    """Create the demo tenants, branches and users (idempotent: nothing is done if they exist)."""
    if demo_exists():
        return DemoSummary(0, 0, 0, 0, created=False)
    # names in the clinic's language with the English beside them, as in the scenarios
    demo = organization_create(
        name="Демо-клиника эстетической медицины",
        name_i18n={"en": "Demo Aesthetic Clinic"},
        slug="demo",
        country="RU",
        currency="RUB",
        data_region=Region.RU,
        default_language="ru",
    )
    branch_create(
        org=demo,
        name="Москва, Тверская",
        name_i18n={"en": "Moscow, Tverskaya"},
        slug="moscow",
        timezone="Europe/Moscow",
        city="Москва",
        address="ул. Тверская, 15",
        phone="+7 495 123-45-67",
    )
    branch_create(
        org=demo,
        name="Новосибирск, Красный проспект",
        name_i18n={"en": "Novosibirsk, Krasny prospekt"},
        slug="novosibirsk",
        timezone="Asia/Novosibirsk",
        city="Новосибирск",
        address="Красный проспект, 25",
        phone="+7 383 209-00-00",
    )
    other = organization_create(
        name="沪上美学诊所",
        name_i18n={"en": "Other Clinic"},
        slug="other",
        country="CN",
        currency="CNY",
        data_region=Region.CN,
        default_language="zh-hans",
    )
    branch_create(
        org=other,
        name="上海静安店",
        name_i18n={"en": "Shanghai, Jing'an"},
        slug="main",
        timezone="Asia/Shanghai",
        city="上海",
        address="静安区愚园路100号",
        phone="+86 21 6288 0000",
    )
    orgs = {"demo": demo, "other": other}
    users = 0
    for slug, email, role, name, consultant in DEMO_USERS:
        user_create(
            org=orgs[slug],
            actor=None,
            email=email,
            password=DEMO_PASSWORD,
            role=role,
            full_name=name,
            is_consultant=consultant,
            validate=False,
        )
        users += 1
    patients = 0
    if with_patients:
        for slug, rows in DEMO_PATIENTS.items():
            org = orgs[slug]
            owner = User.objects.get(email=f"owner@{slug}.clinic")
            for last, first, middle, sex, birth, phone, email, lang, source, branch_slug in rows:
                branch = Branch.objects.for_org(org).get(slug=branch_slug)
                patient = patient_create(
                    org=org,
                    actor=owner,
                    data=PatientData(
                        last_name=last,
                        first_name=first,
                        middle_name=middle,
                        sex=sex,
                        birth_date=birth,
                        phones=[phone],
                        email=email,
                        preferred_language=lang,
                        source=source,
                        branch=branch,
                    ),
                )
                consent_record(
                    org=org,
                    actor=owner,
                    patient=patient,
                    purpose=ConsentPurpose.HEALTH_DATA,
                    granted=True,
                    method=ConsentMethod.WRITTEN,
                    template_version="2026-01",
                )
                if patients % 2 == 0:
                    consent_record(
                        org=org,
                        actor=owner,
                        patient=patient,
                        purpose=ConsentPurpose.MARKETING_SMS,
                        granted=True,
                        method=ConsentMethod.WEB_FORM,
                    )
                patients += 1
    return DemoSummary(organizations=2, branches=3, users=users, patients=patients, created=True)


def demo_simulate(
    progress: Callable[[str, str, int, float], None] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fill each demo organisation that has no simulated data yet; returns the runs' results by slug.
    ``overrides`` (same shape as a scenario file) shorten the runs in tests."""
    results: dict[str, Any] = {}
    for slug, scenario in DEMO_SCENARIOS.items():
        org = Organization.objects.filter(slug=slug).first()
        if org is None or has_simulated_data(org):
            continue
        scn = load_scenario(scenario, overrides=overrides)

        def on_progress(phase: str, rows: int, seconds: float, slug: str = slug) -> None:
            if progress:
                progress(slug, phase, rows, seconds)

        results[slug] = simulate_org(org=org, scenario=scn, seed=DEMO_SEED, progress=on_progress)
        if slug == "demo":  # the demo doctor's login sees the first simulated doctor's schedule
            login = User.objects.filter(email="doctor@demo.clinic").first()
            Doctor.objects.for_org(org).filter(full_name=scn.doctors[0].name).update(user=login)
    return results
