"""Reads of patients. Every function takes the organisation first."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import cast

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from clinicflow.core.crypto import email_index, phone_index
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.phones import looks_like_phone, try_normalize
from clinicflow.core.selectors import parse_uuid
from clinicflow.patients.models import (
    ConsentEvent,
    ConsentEventKind,
    Patient,
    PatientPhone,
    PatientPrediction,
    PhoneKind,
)

SORTS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "clv": ("prediction_clv", "id"),
    "-clv": ("-prediction_clv", "-id"),
    "p_alive": ("prediction_p_alive", "id"),
    "-p_alive": ("-prediction_p_alive", "-id"),
}
# Sorts by the stored prediction list the patients that have one, read off the prediction's
# (organization, clv|p_alive, patient) index through an inner join: no sort of the whole table.
PREDICTION_SORTS = frozenset({"clv", "-clv", "p_alive", "-p_alive"})


def default_region(org: Organization, branch: Branch | None = None) -> str:
    return (branch.country if branch is not None else org.country) or "RU"


def _phones(org: Organization) -> Prefetch[str, QuerySet[PatientPhone], str]:
    """Prefetch phones through the org-first index (a bare ``patient_id IN`` scans every tenant's rows)."""
    return Prefetch("phones", queryset=PatientPhone.objects.for_org(org))


def patient_get(*, org: Organization, patient_id: object, with_phones: bool = True) -> Patient:
    """One patient of ``org`` with the branch (and the phones unless ``with_phones`` is False, for
    writes that only need the reference, such as a booking)."""
    pk = parse_uuid(patient_id)
    if pk is None:
        raise NotFound("patient not found")
    qs = Patient.objects.for_org(org).select_related("branch")
    if with_phones:
        qs = qs.prefetch_related(_phones(org))
    patient = qs.filter(pk=pk).first()
    if patient is None:
        raise NotFound("patient not found")
    return patient


@dataclass(frozen=True)
class PatientFilters:
    q: str = ""
    branch: Branch | None = None
    source: str = ""
    sex: str = ""
    min_clv: str = ""
    max_p_alive: str = ""
    sort: str = "name"
    include_merged: bool = False
    # Whether ``q`` may match phones and e-mail: only for a role with ``patients.view_contacts``.
    # Without it every query searches names only, so a partial number or an address is no oracle.
    search_contacts: bool = False


def patient_list(*, org: Organization, filters: PatientFilters | None = None) -> QuerySet[Patient]:
    """The organisation's patients matching ``filters``, in the filters' order. Sorted by a
    prediction (``clv``, ``p_alive``) the list holds the patients with a prediction, each annotated
    with ``prediction_clv``, ``prediction_p_alive`` and ``prediction_currency``."""
    f = filters or PatientFilters()
    sort = f.sort if f.sort in SORTS else "name"
    qs: QuerySet[Patient] = (
        Patient.objects.for_org(org).select_related("branch").prefetch_related(_phones(org))
    )
    if not f.include_merged:
        qs = qs.filter(merged_into__isnull=True)
    query = f.q.strip()
    if query:
        qs = qs.filter(
            _search_condition(org, query, f.branch) if f.search_contacts else _name_condition(query)
        )
    if f.branch is not None:
        qs = qs.filter(branch=f.branch)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.sex:
        qs = qs.filter(sex=f.sex)
    # One filter() call for every prediction condition: each call on a reverse relation adds its own join.
    predicted = Q()
    if f.min_clv:
        predicted &= Q(predictions__clv__gte=f.min_clv)
    if f.max_p_alive:
        predicted &= Q(predictions__p_alive__lte=f.max_p_alive)
    if sort in PREDICTION_SORTS:
        # the prediction's organisation too, so the join walks the org-first index
        predicted &= Q(predictions__organization=org)
    if predicted:
        qs = qs.filter(predicted)
    if sort in PREDICTION_SORTS:
        # the annotations ride on the rows; the queryset's type stays that of the patients
        qs = cast(
            "QuerySet[Patient]",
            qs.annotate(
                prediction_clv=F("predictions__clv"),
                prediction_p_alive=F("predictions__p_alive"),
                prediction_currency=F("predictions__currency"),
            ),
        )
    return qs.order_by(*SORTS[sort])


@dataclass(frozen=True)
class PatientPage:
    """One page of the patient list, read without counting the whole list."""

    object_list: list[Patient]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def patient_page(*, org: Organization, filters: PatientFilters, number: int, size: int) -> PatientPage:
    """Page ``number`` (from 1) of ``size`` rows: one query for size + 1 rows (the extra one tells
    whether a next page exists) and one for their phones; no COUNT over the list."""
    number = max(1, number)
    start = (number - 1) * size
    rows = list(patient_list(org=org, filters=filters)[start : start + size + 1])
    return PatientPage(object_list=rows[:size], number=number, has_next=len(rows) > size)


def _search_condition(org: Organization, query: str, branch: Branch | None) -> Q:
    if looks_like_phone(query):
        # Numbers are encrypted: only a whole number (any format that normalises to E.164) is found,
        # by its blind index; a fragment of digits finds nobody.
        e164 = try_normalize(query, default_region(org, branch))
        if not e164:
            return Q(pk__in=[])
        # Resolve the (few) matching ids first: an IN over a subquery makes SQLite walk the name index.
        ids = list(
            PatientPhone.objects.for_org(org)
            .filter(e164_index=phone_index(org.pk, e164))
            .values_list("patient_id", flat=True)[:500]
        )
        return Q(pk__in=ids)
    if "@" in query:
        # the whole address, case-insensitive (the index is of the lower-cased address)
        return Q(email_index=email_index(org.pk, query))
    return _name_condition(query)


def _name_condition(query: str) -> Q:
    condition = Q()
    for word in query.lower().split()[:4]:
        condition &= _word_condition(word)
    return condition


def _is_cjk(word: str) -> bool:
    return all("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in word)


def _word_condition(word: str) -> Q:
    """A Chinese name is typed without a space (王芳) but stored as "王 芳" (surname, given name):
    a word of Chinese characters also matches with the space at any place within it."""
    found = Q(search_name__contains=word)
    if 1 < len(word) <= 6 and _is_cjk(word):
        for i in range(1, len(word)):
            found |= Q(search_name__contains=f"{word[:i]} {word[i:]}")
    return found


def patient_find_by_phone(*, org: Organization, e164: str) -> list[Patient]:
    ids = PatientPhone.objects.for_org(org).filter(e164_index=phone_index(org.pk, e164)).values("patient_id")
    return list(Patient.objects.for_org(org).filter(pk__in=ids, merged_into__isnull=True))


def patient_text_phone(*, org: Organization, patient_id: uuid.UUID) -> str | None:
    """The number a text message goes to: the primary phone, a mobile before other kinds, then the
    lowest number; ``None`` when the patient has no phone."""
    phones = list(
        PatientPhone.objects.for_org(org)
        .filter(patient_id=patient_id)
        .values_list("e164", "kind", "is_primary")
    )
    if not phones:
        return None
    return min(phones, key=lambda p: (not p[2], p[1] != PhoneKind.MOBILE, p[0]))[0]


def patient_duplicates(
    *, org: Organization, phones: list[str], email: str, exclude_id: uuid.UUID | None = None
) -> list[Patient]:
    """Other live patients of the organisation who share a phone (E.164) or the e-mail."""
    condition = Q()
    if phones:
        indexes = [phone_index(org.pk, e164) for e164 in phones]
        condition |= Q(
            pk__in=PatientPhone.objects.for_org(org).filter(e164_index__in=indexes).values("patient_id")
        )
    if email:
        condition |= Q(email_index=email_index(org.pk, email))
    if not condition:
        return []
    qs = Patient.objects.for_org(org).filter(condition, merged_into__isnull=True)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.prefetch_related(_phones(org))[:20])


def consent_state(*, org: Organization, patient: Patient) -> dict[str, ConsentEvent]:
    """The latest event of each consent purpose for the patient."""
    latest: dict[str, ConsentEvent] = {}
    for event in ConsentEvent.objects.for_org(org).filter(patient=patient).order_by("at", "id"):
        latest[event.purpose] = event
    return latest


def consent_history(*, org: Organization, patient: Patient) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.for_org(org).filter(patient=patient).order_by("-at", "-id")


def patients_with_consent(*, org: Organization, purpose: str) -> QuerySet[Patient]:
    """Patients whose latest event for the purpose is a grant (checked at send time)."""
    latest = (
        ConsentEvent.objects.for_org(org)
        .filter(patient=OuterRef("pk"), purpose=purpose)
        .order_by("-at", "-id")
        .values("kind")[:1]
    )
    granted = ConsentEvent.objects.for_org(org).filter(patient=OuterRef("pk"), purpose=purpose)
    return (
        Patient.objects.for_org(org)
        .filter(merged_into__isnull=True)
        .annotate(has_any=Exists(granted))
        .filter(has_any=True)
        .alias(last_kind=latest)
        .filter(last_kind=ConsentEventKind.GRANTED)
    )


def has_consent(*, org: Organization, patient_id: uuid.UUID, purpose: str) -> bool:
    last = (
        ConsentEvent.objects.for_org(org)
        .filter(patient_id=patient_id, purpose=purpose)
        .order_by("-at", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    return last == ConsentEventKind.GRANTED


def patient_prediction(*, org: Organization, patient: Patient) -> PatientPrediction | None:
    """The lifetime-value engine's stored prediction for the patient, if any."""
    return PatientPrediction.objects.for_org(org).filter(patient=patient).first()


@dataclass(frozen=True)
class PatientCounts:
    total: int
    since: int


def patient_counts(*, org: Organization, since: dt.datetime) -> PatientCounts:
    """Patients on file (merged duplicates not counted) and those created since ``since``, in one query."""
    row = (
        Patient.objects.for_org(org)
        .filter(merged_into__isnull=True)
        .aggregate(total=Count("pk"), since=Count("pk", filter=Q(created_at__gte=since)))
    )
    return PatientCounts(total=row["total"], since=row["since"])


def patients_named(*, org: Organization, ids: list[uuid.UUID]) -> list[Patient]:
    """The organisation's patients among ``ids`` (names only: no phones), for lists that name them."""
    return list(
        Patient.objects.for_org(org)
        .filter(pk__in=ids[:1000])
        .only("id", "organization_id", "last_name", "first_name", "middle_name")
    )
