"""The engine's consultations, quotes, signed consents, treatment records and complications,
written through the clinical app's models (issue #14): the planted ``over_promise`` shows in the
recorded expectations, ``over_treatment`` in the procedures doctors add after a course, the
complication rates per service group in the complication log.

The words (expectation, reasons, products, complications) come from a generator of their own, so
they never change the engine's random streams."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils import translation

from clinicflow.catalogue.models import ServiceCategory
from clinicflow.clinical.models import Complication as ClinicalComplication
from clinicflow.clinical.models import (
    ConsentTemplateVersion,
    Consultation,
    ConsultationOutcome,
    Quote,
    QuoteLine,
    QuoteStatus,
    SignedConsent,
    TreatmentProduct,
    TreatmentRecord,
)
from clinicflow.clinical.models.consents import text_digest
from clinicflow.clinical.selectors.consents import current_versions, template_list
from clinicflow.clinical.selectors.consultations import template_current
from clinicflow.clinical.services.consents import (
    consent_template_create,
    consent_version_add,
    rendered_text,
)
from clinicflow.clinical.services.consultations import template_version_create
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient
from clinicflow.simulator.engine.core import DAY_S
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.scenario import CATEGORIES
from clinicflow.simulator.writers import clinical_texts as tx
from clinicflow.simulator.writers.base import Columns, SinkBase

QUOTE_VALID_DAYS = 30
QUOTED_WITHOUT_BOOKING = 0.6  # share of undecided consultations that still got a written quote
SEVERITY_MODERATE = 0.25  # of the complications that are not severe
EXPECTATION_BANDS = np.array([4, 6, 8, 9])  # 0-3 · 4-5 · 6-7 · 8 · 9-10


@dataclass
class ClinicalSetup:
    """The organisation's consent forms and consultation templates (one per service group), the
    patients' names (a consent's text names its signer) and the words' generator."""

    language: str
    rng: np.random.Generator
    consent: dict[int, Any] = field(default_factory=dict)  # category index → consent version
    template: dict[int, Any] = field(default_factory=dict)  # category index → template version
    names: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))


def setup(out: SinkBase) -> ClinicalSetup:
    found = out.cache.get("clinical")
    if isinstance(found, ClinicalSetup):
        return found
    sim, org = out.sim, out.ctx.org
    lang = tx.lang_of(sim.scn.language)
    made = ClinicalSetup(language=lang, rng=np.random.default_rng([sim.seed, 14]))
    with translation.override(lang):
        for k, code in enumerate(CATEGORIES):
            group = str(ServiceCategory(code).label)
            # a simulation into the same organisation again reuses the forms of the last one
            made.template[k] = template_current(org=org, category=code) or template_version_create(
                org=org,
                actor=None,
                category=code,
                contraindications=tx.words(tx.CONTRAINDICATIONS, lang),
                risks=tx.words(tx.RISKS, lang),
            )
            if code == "consultation":
                continue
            current = _consent_current(org, code, lang)
            if current is not None:
                made.consent[k] = current
                continue
            tpl = consent_template_create(
                org=org, actor=None, name=tx.words(tx.CONSENT_TITLE, lang).format(group=group),
                service_category=code,
            )  # fmt: skip
            made.consent[k] = consent_version_add(
                org=org,
                actor=None,
                template=tpl,
                language=lang,
                title=tx.words(tx.CONSENT_TITLE, lang).format(group=group),
                body=tx.words(tx.CONSENT_BODY, lang),
            )
    out.cache["clinical"] = made
    return made


def _consent_current(org: Organization, category: str, language: str) -> ConsentTemplateVersion | None:
    ids = [t.pk for t in template_list(org=org) if t.service_id is None and t.service_category == category]
    for by_language in current_versions(org=org, template_ids=ids).values():
        if language in by_language:
            return by_language[language]
    return None


@functools.lru_cache(maxsize=1 << 16)
def _full_name(first: str, last: str) -> str:
    return Patient(first_name=first, last_name=last).full_name


@functools.lru_cache(maxsize=1 << 16)
def _signer(name: str) -> Patient:
    """A patient of this name, as a consent's text is rendered for them (names repeat: made once)."""
    return Patient(first_name=name)


def remember_names(out: SinkBase, number: np.ndarray, first: list[str], last: list[str]) -> None:
    """Keep each new patient's full name by patient number (for the consents they sign)."""
    s = setup(out)
    top = int(number.max()) + 1 if number.size else 0
    if top > s.names.size:
        grown = np.empty(max(top, 2 * s.names.size), dtype=object)
        grown[: s.names.size] = s.names
        s.names = grown
    s.names[number] = [_full_name(f, n) for f, n in zip(first, last, strict=True)]


def _local_days(out: SinkBase, at: np.ndarray, branch: np.ndarray) -> np.ndarray:
    """The day (days since 1970) of each moment in its branch's zone."""
    cal = out.sim.cal
    day = np.clip(at // DAY_S - cal.day_epoch[0], 0, cal.n_days - 1)
    local: np.ndarray = (at + cal.utc_offset_min[branch, day].astype(np.int64) * 60) // DAY_S
    return local


def write_consultations(out: SinkBase, c: Columns) -> None:
    s, ctx = setup(out), out.ctx
    n = c["id"].shape[0]
    conv = np.asarray(c["converted"], dtype=bool)
    expectation = np.clip(np.round(c["expectation"]), 0, 10).astype(np.int64)
    band = np.searchsorted(EXPECTATION_BANDS, expectation, side="right")
    thinking = ~conv & (s.rng.random(n) < 0.3)
    reason = s.rng.integers(0, 4, n)
    reasons = np.array(tx.words(tx.DECLINE_REASONS, s.language), dtype=object)
    outcome = np.where(conv, ConsultationOutcome.BOOKED.value, np.where(
        thinking, ConsultationOutcome.THINKING.value, ConsultationOutcome.DECLINED.value))  # fmt: skip
    category = np.asarray(c["category"], dtype=np.int64)
    tpl_ids = np.array([s.template[int(k)].pk for k in range(len(CATEGORIES))], dtype=object)
    out.put(
        Consultation,
        {
            "id": c["id"],
            "appointment": c["appointment"],
            "patient": out.pid(c["patient"]),
            "doctor": ctx.doctor[c["doctor"]],
            "branch": ctx.branch[c["branch"]],
            "category": np.array(CATEGORIES, dtype=object)[category].tolist(),
            "template_version": tpl_ids[category].tolist(),
            "expectation": expectation,
            "expectation_words": np.array(tx.words(tx.EXPECTATION_WORDS, s.language), dtype=object)[
                band
            ].tolist(),
            "outcome": outcome.tolist(),
            "outcome_reason": np.where(outcome == "declined", reasons[reason], "").tolist(),
            "created_at": c["at"],
            "updated_at": c["at"],
        },
    )
    _quotes(out, c, conv)
    _consents(out, c, conv)


def _quotes(out: SinkBase, c: Columns, conv: np.ndarray) -> None:
    """A written quote for every booked consultation (accepted) and for some of the others (declined,
    or still open while valid): the planned procedure × sessions at the catalogue price."""
    s, ctx, sim = setup(out), out.ctx, out.sim
    n = conv.size
    quoted = conv | (s.rng.random(n) < QUOTED_WITHOUT_BOOKING)
    svc = np.asarray(c["service"], dtype=np.int64).copy()
    # the undecided were quoted one of their doctor's services
    for i in np.flatnonzero(quoted & (svc < 0)).tolist():
        options = sim.st.doc_services[int(c["doctor"][i])]
        svc[i] = int(options[s.rng.integers(0, len(options))])
    sessions = np.maximum(np.asarray(c["sessions"], dtype=np.int64), 1)
    qi = np.flatnonzero(quoted)
    if not qi.size:
        return
    at = np.asarray(c["at"], dtype=np.int64)[qi]
    day = _local_days(out, at, np.asarray(c["branch"])[qi])
    price = sim.st.svc_price_minor[svc[qi]].astype(np.int64)
    total = price * sessions[qi]
    valid_until = day + QUOTE_VALID_DAYS
    open_still = valid_until * DAY_S > ctx.now
    status = np.where(conv[qi], QuoteStatus.ACCEPTED.value, np.where(
        open_still, QuoteStatus.SENT.value, QuoteStatus.DECLINED.value))  # fmt: skip
    decided = status != QuoteStatus.SENT.value
    ids = uuid7_array(sim.id_rng, (at + 600) * 1000)
    out.put(
        Quote,
        {
            "id": ids,
            "consultation": c["id"][qi],
            "patient": out.pid(c["patient"][qi]),
            "doctor": ctx.doctor[c["doctor"][qi]],
            "branch": ctx.branch[c["branch"][qi]],
            "priced_on": day,
            "valid_until": valid_until,
            "currency": ctx.currency,
            "total": total,
            "status": status.tolist(),
            "created_at": at + 600,
            "sent_at": at + 600,
            "decided_at": np.where(decided, at + 900, 0),
            "decided_at__null": ~decided,
        },
    )
    out.put(
        QuoteLine,
        {
            "id": uuid7_array(sim.id_rng, (at + 600) * 1000),
            "quote": ids,
            "position": 1,
            "kind": "procedure",
            "service": ctx.service[svc[qi]],
            "unit_price": price,
            "quantity": sessions[qi] * 100,
            "unit": "",
            "discount_value": np.zeros(qi.size, dtype=np.int64),
            "total": total,
            "appointment": None,
        },
    )


def _consents(out: SinkBase, c: Columns, conv: np.ndarray) -> None:
    """The booked patient signs the consent of the planned procedure's group after the consultation
    (the exact text with their name, its SHA-256 kept with the signature)."""
    s, sim = setup(out), out.sim
    ci = np.flatnonzero(conv & (np.asarray(c["category"]) > 0))
    if not ci.size:
        return
    numbers = np.asarray(c["patient"], dtype=np.int64)[ci]
    names = [str(s.names[k]) if k < s.names.size and s.names[k] else "" for k in numbers.tolist()]
    versions = [s.consent[int(k)] for k in np.asarray(c["category"])[ci].tolist()]
    texts = [rendered_text(v, _signer(nm)) for v, nm in zip(versions, names, strict=True)]
    at = np.asarray(c["at"], dtype=np.int64)[ci] + 1200
    out.put(
        SignedConsent,
        {
            "id": uuid7_array(sim.id_rng, at * 1000),
            "patient": out.pid(c["patient"][ci]),
            "version": [v.pk for v in versions],
            "language": s.language,
            "rendered_text": texts,
            "text_sha256": [text_digest(t) for t in texts],
            "signer_name": names,
            "signature_png": None,
            "signed_at": at,
            "ip": None,
            "user_agent": "",
            "presented_by": None,
        },
    )


def write_treatments(out: SinkBase, c: Columns) -> None:
    """A signed-off record per done procedure: the service, the drug with its lot where the group
    uses one (a few lots per month, so "which patients got lot X" finds a batch), added procedures
    noted."""
    s, ctx, sim = setup(out), out.ctx, out.sim
    svc = np.asarray(c["service"], dtype=np.int64)
    n = svc.size
    service_ids = ctx.service[svc]
    added = np.asarray(c["added"], dtype=bool)
    category = np.array(CATEGORIES, dtype=object)[sim.st.svc_category[svc]]
    rows: dict[str, list[Any]] = {k: [] for k in ("record", "name", "manufacturer", "lot", "amount", "unit")}
    month = (np.asarray(c["at"], dtype=np.int64) // DAY_S).astype("datetime64[D]").astype("datetime64[M]")
    for i in range(n):
        product = tx.PRODUCTS.get(str(category[i]))
        if product is None:
            continue
        name, maker, prefix, unit, low, high = product
        ym = str(month[i]).replace("-", "")[2:]
        rows["record"].append(i)
        rows["name"].append(name)
        rows["manufacturer"].append(maker)
        rows["lot"].append(f"{prefix}{ym}-{int(s.rng.integers(1, 4))}")
        rows["amount"].append(int(s.rng.integers(low // 10, high // 10 + 1)) * 10)
        rows["unit"].append(unit)
    ri = np.array(rows["record"], dtype=np.int64)
    done = {int(k): [str(_uuid(ctx.service[k]))] for k in np.unique(svc)}  # one list per service
    # the lines first: PostgreSQL refuses lines added to a record already signed off
    out.put(
        TreatmentProduct,
        {
            "id": uuid7_array(sim.id_rng, np.asarray(c["at"], dtype=np.int64)[ri] * 1000),
            "record": c["id"][ri],
            "name": rows["name"],
            "manufacturer": rows["manufacturer"],
            "lot": rows["lot"],
            "amount": np.array(rows["amount"], dtype=np.int64),
            "unit": rows["unit"],
            "area": "",
            "position": 0,
        },
    )
    out.put(
        TreatmentRecord,
        {
            "id": c["id"],
            "appointment": c["appointment"],
            "patient": out.pid(c["patient"]),
            "doctor": ctx.doctor[c["doctor"]],
            "service": service_ids,
            "services_done": [done[int(k)] for k in svc],
            "map_notes": [{} for _ in range(n)],
            "sop_checked": [[] for _ in range(n)],
            "notes": np.where(added, tx.words(tx.FOLLOW_ON_NOTE, s.language), "").tolist(),
            "created_at": c["at"],
            "updated_at": c["at"],
            "signed_at": c["at"],
            "sop_version": None,
            "created_by": None,
            "signed_by": None,
        },
    )


def write_complications(out: SinkBase, c: Columns) -> None:
    """Each complication as logged at onset: severity, what was done, the outcome, a follow-up a
    week later."""
    s, ctx = setup(out), out.ctx
    n = c["id"].shape[0]
    severe = np.asarray(c["severe"], dtype=bool)
    moderate = ~severe & (s.rng.random(n) < SEVERITY_MODERATE)
    severity = np.where(severe, "severe", np.where(moderate, "moderate", "mild"))
    texts = tx.words(tx.COMPLICATION, s.language)
    at = np.asarray(c["at"], dtype=np.int64)
    onset = _local_days(out, at, np.asarray(c["branch"]))
    follow = onset + 7
    resolved = follow * DAY_S <= ctx.now
    outcome = np.where(resolved, np.where(severe, "referred", "resolved"), "ongoing")
    out.put(
        ClinicalComplication,
        {
            "id": c["id"],
            "patient": out.pid(c["patient"]),
            "appointment": c["appointment"],
            "treatment": c["treatment"],
            "doctor": ctx.doctor[c["doctor"]],
            "service": ctx.service[np.asarray(c["service"], dtype=np.int64)],
            "severity": severity.tolist(),
            "onset_date": onset,
            "description": [texts[k][0] for k in severity.tolist()],
            "treatment_given": [texts[k][1] for k in severity.tolist()],
            "outcome": outcome.tolist(),
            "follow_up_date": follow,
            "corrects": None,
            "recorded_by": None,
            "created_at": at,
        },
    )


def _uuid(raw: Any) -> Any:
    return uuid.UUID(bytes=bytes(np.asarray(raw, dtype=np.uint8))) if not isinstance(raw, uuid.UUID) else raw
