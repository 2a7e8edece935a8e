"""Retention periods per kind of record and legal region, in days. One table; the sources are in
``docs/privacy.md``. ``settings.PRIVACY_RETENTION`` may override any cell:
``{"RU": {"call_recording": 180}}``.

Statutory periods (medical records, accounting) are minimums the clinic must keep; the others are
this product's defaults for data kept only for the clinic's own purposes (storage limitation,
GDPR Art 5(1)(e), 152-FZ Art 5 part 7, PIPL Art 19)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Organization, Region
from clinicflow.privacy.jurisdictions import EEA

YEAR = 365

MEDICAL = "medical_record"
ACCOUNTING = "accounting"
CALL_RECORDING = "call_recording"
WEB_SESSION = "web_session"
MARKETING = "marketing"

KIND_LABELS = {
    MEDICAL: _("Medical records (treatment records, consents, photos, complications)"),
    ACCOUNTING: _("Accounting records (payments, ledger)"),
    CALL_RECORDING: _("Links to call recordings"),
    WEB_SESSION: _("Web-session identifiers (client ids, click ids, referrers)"),
    MARKETING: _("Marketing data of lapsed patients"),
}

# region -> kind -> days
PERIODS: dict[str, dict[str, int]] = {
    Region.RU: {
        MEDICAL: 25 * YEAR,  # outpatient card 025/u: Minzdrav letters 734/MZ-14 (2005), 13-2/1538 (2015)
        ACCOUNTING: 5 * YEAR,  # 402-FZ Art 29
        CALL_RECORDING: YEAR,
        WEB_SESSION: 395,
        MARKETING: 3 * YEAR,
    },
    Region.EU: {
        MEDICAL: 10 * YEAR,  # Germany BGB §630f(3); national law varies (docs/privacy.md)
        ACCOUNTING: 10 * YEAR,  # Germany HGB §257, AO §147
        CALL_RECORDING: 180,
        WEB_SESSION: 395,  # 13 months (CNIL guidance on cookies and trackers)
        MARKETING: 3 * YEAR,  # CNIL: three years after the last contact
    },
    Region.CN: {
        MEDICAL: 15 * YEAR,  # 医疗机构病历管理规定 (2013) Art 29: outpatient records >= 15 years
        ACCOUNTING: 30 * YEAR,  # 会计档案管理办法 (2015): accounting vouchers 30 years
        CALL_RECORDING: YEAR,
        WEB_SESSION: 395,
        MARKETING: 3 * YEAR,
    },
    Region.OTHER: {
        MEDICAL: 10 * YEAR,
        ACCOUNTING: 7 * YEAR,
        CALL_RECORDING: YEAR,
        WEB_SESSION: 395,
        MARKETING: 3 * YEAR,
    },
}


def legal_region(org: Organization) -> str:
    """Whose retention law applies: the country where the clinic treats patients, else its data region."""
    country = (org.country or "").upper()
    if country == "RU":
        return str(Region.RU)
    if country == "CN":
        return str(Region.CN)
    if country in EEA:
        return str(Region.EU)
    return str(org.data_region) if org.data_region in PERIODS else str(Region.OTHER)


def period_days(org: Organization, kind: str) -> int:
    region = legal_region(org)
    overrides: dict[str, dict[str, int]] = getattr(settings, "PRIVACY_RETENTION", {}) or {}
    if kind in overrides.get(region, {}):
        return int(overrides[region][kind])
    return PERIODS[region][kind]


def table(org: Organization) -> list[tuple[str, str, int]]:
    """``(kind, label, days)`` for the organisation, for the page and the command."""
    return [(kind, str(label), period_days(org, kind)) for kind, label in KIND_LABELS.items()]
