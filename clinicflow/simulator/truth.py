"""The truth document: every planted parameter next to the figure the simulated data realised,
so tests and users can compare any report with what was planted."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.engine.recall import RETURN_TWO_MONTHS, RETURN_WEEK
from clinicflow.simulator.engine.setup import ST_CANCELLED, ST_DONE, ST_NO_SHOW, STATUSES
from clinicflow.simulator.engine.visits import DETRACTOR_NPS, PROMOTER_NPS
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS, ROOM_TYPES
from clinicflow.simulator.truth_loyalty import loyalty_use_truth
from clinicflow.simulator.truth_ops import operations_truth

DEFINITIONS = {
    "administrator_conversion": "booked first visits / unique calls and web forms the administrator handled "
    "(answered, or reached on the callback of a missed call)",
    "first_patient": "a patient whose first visit (the first-visit consultation) was done",
    "first_visits_share": "revenue of done visits on each patient's first-visit day (the consultation and "
    "the procedure done after it that day) / revenue of all done visits; first_appointments_share: of "
    "the first-visit appointments (the consultations) alone",
    "cost_per_first_patient": "channel spend / first patients whose first contact came through the channel; "
    "planted = cost_per_contact / (P(handled) × mean administrator conversion × P(first visit done)) at "
    "the channel's base monthly spend",
    "doctor_conversion": "consultations converted into a treatment plan / first-visit consultations done",
    "doctor_repeat_rate": "first treatment episodes after which the patient decided to return for a new "
    "episode / first episodes ended at least 200 days before the end (later episodes are left out: their "
    "patients are selected by their own dropout propensity)",
    "heterogeneity": "each patient's own return rate λ (per week, Gamma(shape r, rate alpha)) and dropout "
    "propensity p (Beta(a, b)) drawn at registration; realised = the moments of the drawn values",
    "doctor_clv": "revenue (payments for done visits) per first patient, by the doctor of the first visit",
    "nps": "(promoters 9-10 − detractors 0-6) / answers × 100; planted = the model's expectation for the "
    "doctor's visits (outcome quality − the patients' expectation − over-treatment penalty, normal noise)",
    "price_elasticity": "calls_change_per_step: relative change of unique contacts when the first-visit "
    "price falls by `step`; realised from a log-linear fit of monthly unique contacts divided by the "
    "planted non-price demand, against the month's price",
    "marketing": "uplift = booked share of a variant's recipients − the holdout's; planted per audience and "
    "variant (offer); capacity: next week's booked minutes of the targeted branch and room type rise by "
    "recipients × response × the service's minutes (less those turned away once the slots were filled)",
    "recall": "share of contacted lapsed patients whose new visit was booked within 7 days (week) or "
    "within 8-60 days (two_months) of the recall call",
}


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def wilson(k: int, n: int, z: float = 1.96) -> list[float] | None:
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(max(0.0, c - h), 4), round(min(1.0, c + h), 4)]


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def planted_nps(sim: Simulation, d: int) -> float:
    sat = sim.scn.satisfaction
    doc = sim.scn.doctors[d]
    mu = (
        doc.quality
        - (sat["expectation_mean"] + doc.over_promise)
        - doc.over_treatment * sat["over_treatment_penalty"]
    )
    sd = math.sqrt(sat["expectation_sd"] ** 2 + sat["noise_sd"] ** 2)
    c, s = sat["nps_center"], sat["nps_slope"]
    # an answer is the rounded score: a promoter's is at least PROMOTER_NPS - 0.5
    promoters = 1 - _phi(((PROMOTER_NPS - 0.5 - c) / s - mu) / sd)
    detractors = _phi(((DETRACTOR_NPS + 0.5 - c) / s - mu) / sd)
    return round(100 * (promoters - detractors), 2)


def nps_of(scores: np.ndarray) -> float | None:
    if scores.size == 0:
        return None
    promoters, detractors = scores >= PROMOTER_NPS, scores <= DETRACTOR_NPS
    return round(100 * (float(promoters.mean()) - float(detractors.mean())), 2)


def _heterogeneity(sim: Simulation) -> dict[str, Any]:
    """The planted population of return rates and dropout propensities, and the drawn values' moments."""
    h, n = sim.scn.heterogeneity, sim.pat.n
    rate, dropout = sim.pat["rate"][:n], sim.pat["dropout"][:n]

    def moments(x: np.ndarray) -> dict[str, float | None]:
        if not x.size:
            return {"mean": None, "sd": None}
        return {"mean": round(float(x.mean()), 6), "sd": round(float(x.std()), 6)}

    return {
        "planted": {
            "enabled": h.enabled,
            "r": h.r,
            "alpha_weeks": h.alpha,
            "a": h.a,
            "b": h.b,
            "rate_per_week": {"mean": h.mean_rate, "sd": math.sqrt(h.r) / h.alpha if h.enabled else 0.0},
            "dropout": {
                "mean": h.mean_dropout,
                "sd": math.sqrt(h.a * h.b / ((h.a + h.b) ** 2 * (h.a + h.b + 1))) if h.enabled else 0.0,
            },
        },
        "realised": {"patients": n, "rate_per_week": moments(rate), "dropout": moments(dropout)},
    }


def build_truth(
    sim: Simulation,
    *,
    org_slug: str = "",
    rows: dict[str, int] | None = None,
    admin_emails: list[str] | None = None,
) -> dict[str, Any]:
    scn, t, pat, st = sim.scn, sim.tally, sim.pat, sim.st
    n = pat.n
    cur = scn.currency
    ap = scn.appointments
    c = scn.contacts
    handled_p = 1 - c["call_share"] * c["missed_share"] * (1 - c["callback_done"] * c["callback_recovery"])
    w = np.array([a.weight for a in scn.administrators])
    mean_conv = float((sim.adm_conv * w).sum() / w.sum())
    q = ap["first_visit_no_show"] + ap["cancelled"]
    r = ap["reschedule"]
    p_done = (1 - q) * sum((q * r) ** k for k in range(4))

    admins = []
    for i, a in enumerate(scn.administrators):
        h, b = int(t.adm_unique_handled[i]), int(t.adm_unique_booked[i])
        admins.append(
            {
                "name": a.name,
                "branch": a.branch,
                "email": (admin_emails or [""] * len(scn.administrators))[i],
                "planted": {"conversion": a.conversion, "quality": a.quality},
                "realised": {
                    "unique_contacts_handled": h,
                    "booked_first_visits": b,
                    "conversion": _rate(b, h),
                    "conversion_ci95": wilson(b, h),
                    "mean_call_score": round(float(t.adm_score_sum[i] / t.adm_score_n[i]), 2)
                    if t.adm_score_n[i]
                    else None,
                    "scored_calls": int(t.adm_score_n[i]),
                },
            }
        )

    nps_d = np.concatenate([x[0] for x in t.nps_answers]) if t.nps_answers else np.zeros(0, np.int16)
    nps_s = np.concatenate([x[1] for x in t.nps_answers]) if t.nps_answers else np.zeros(0, np.int8)
    first_doc = pat["first_doctor"][:n]
    revenue = pat["revenue"][:n]
    visits = pat["done_visits"][:n]
    doctors = []
    for d, doc in enumerate(scn.doctors):
        mine = first_doc == d
        fp = int(mine.sum())
        ans = nps_s[nps_d == d]
        doctors.append(
            {
                "name": doc.name,
                "branch": doc.branch,
                "specialty": doc.specialty,
                "planted": {
                    "conversion": doc.conversion,
                    "over_promise": doc.over_promise,
                    "quality": doc.quality,
                    "course_completion": doc.course_completion,
                    "repeat_rate": doc.repeat_rate,
                    "over_treatment": doc.over_treatment,
                    "expectation_mean": round(scn.satisfaction["expectation_mean"] + doc.over_promise, 3),
                    "nps": planted_nps(sim, d),
                },
                "realised": {
                    "first_patients": fp,
                    "consultations": int(t.consults[d]),
                    "conversion": _rate(int(t.converted[d]), int(t.consults[d])),
                    "conversion_ci95": wilson(int(t.converted[d]), int(t.consults[d])),
                    "expectation_mean": round(float(t.expectations[d] / t.consults[d]), 3)
                    if t.consults[d]
                    else None,
                    "episodes_observed": int(t.episode_ends[d]),
                    "repeat_rate": _rate(int(t.episode_returns[d]), int(t.episode_ends[d])),
                    "repeat_rate_ci95": wilson(int(t.episode_returns[d]), int(t.episode_ends[d])),
                    "course_sessions_share": _rate(
                        int(t.course_planned[d]), int(t.course_sessions_possible[d])
                    ),
                    "extra_services_per_episode": _rate(int(t.extra_services[d]), int(t.episodes[d])),
                    "nps": nps_of(ans),
                    "nps_answers": int(ans.size),
                    "clv": round(float(revenue[mine].sum()) / fp / 100, 2) if fp else None,
                    "done_visits_per_first_patient": round(float(visits[mine].sum()) / fp, 3) if fp else None,
                    "currency": cur,
                },
            }
        )

    channels = []
    for i, ch in enumerate(scn.channels):
        spend = int(t.spend_channel[i])
        fp = int(t.first_patients_channel[i])
        cpc = ch.cost_per_contact * scn.price_factor
        channels.append(
            {
                "code": ch.code,
                "kind": ch.kind,
                "planted": {
                    "monthly_spend": ch.monthly_spend * scn.price_factor,
                    "cost_per_contact": cpc if ch.returns > 0 else None,
                    "returns": ch.returns,
                    "contacts_per_month": ch.contacts if ch.returns == 0 else None,
                    "cost_per_first_patient": round(cpc / (handled_p * mean_conv * p_done), 2)
                    if ch.returns > 0
                    else None,
                },
                "realised": {
                    "spend": round(spend / 100, 2),
                    "contacts": int(t.contacts_channel[i]),
                    "booked": int(t.booked_channel[i]),
                    "first_patients": fp,
                    "cost_per_contact": round(spend / 100 / t.contacts_channel[i], 2)
                    if t.contacts_channel[i] and spend
                    else None,
                    "cost_per_first_patient": round(spend / 100 / fp, 2) if fp and spend else None,
                },
            }
        )

    st_ = t.appt_status
    past = st_[:, [ST_DONE, ST_NO_SHOW, ST_CANCELLED]]  # booked/confirmed are future visits

    def share(row: np.ndarray, col: int) -> float | None:
        return _rate(int(row[col]), int(row.sum()))

    # price elasticity: log(contacts / non-price demand) against price
    months = np.flatnonzero(t.expected_no_price_month > 0)
    months = months[months < scn.months - 1] if months.size > 2 else months
    realised_change = None
    if months.size >= 3 and np.ptp(t.price_month[months]) > 0:
        y = np.log(np.maximum(t.contacts_month[months], 1) / (t.expected_no_price_month[months] * sim.scale))
        x = t.price_month[months]
        slope = float(np.polyfit(x, y, 1)[0])
        realised_change = round(math.exp(-slope * scn.elasticity_step * scn.price_factor) - 1, 4)
    recall_out = sim.recall_outcome
    week, two_months = recall_out == RETURN_WEEK, recall_out == RETURN_TWO_MONTHS
    total_rev = int(t.revenue_branch.sum())
    return {
        "scenario": scn.source,
        "clinic": scn.name,
        "organization": org_slug,
        "seed": sim.seed,
        "start_date": sim.cal.start.isoformat(),
        "end_date": sim.cal.end.isoformat(),
        "months": scn.months,
        "currency": cur,
        "definitions": DEFINITIONS,
        "rows": dict(rows if rows is not None else t.rows),
        "patients": n,
        "administrators": admins,
        "doctors": doctors,
        "channels": channels,
        "calls": {
            "planted": {
                k: c[k]
                for k in (
                    "call_share",
                    "missed_share",
                    "callback_done",
                    "callback_recovery",
                    "repeat_call_rate",
                )
            },
            "realised": {
                "calls": t.calls_total,
                "unique_calls": t.calls_unique,
                "web_forms": t.web_forms,
                "web_sessions": t.sessions,
                "missed_share_unique": _rate(t.unique_missed, t.calls_unique),
                "missed_share_all": _rate(t.calls_missed, t.calls_total),
                "recovered_by_callback": t.calls_recovered,
                "call_share": _rate(t.calls_unique, t.calls_unique + t.web_forms),
            },
        },
        "appointments": {
            "planted": {
                "no_show": ap["no_show"],
                "first_visit_no_show": ap["first_visit_no_show"],
                "cancelled": ap["cancelled"],
                "reschedule": ap["reschedule"],
            },
            "realised": {
                "by_status": {STATUSES[k]: int(st_[:, k].sum()) for k in range(len(STATUSES))},
                "no_show": share(past[0], 1),
                "no_show_ci95": wilson(int(past[0][1]), int(past[0].sum())),
                "first_visit_no_show": share(past[1], 1),
                "first_visit_no_show_ci95": wilson(int(past[1][1]), int(past[1].sum())),
                "cancelled": _rate(int(past[:, 2].sum()), int(past.sum())),
                "capacity_dropped": t.capacity_dropped,
            },
        },
        "price_elasticity": {
            "planted": {
                "schedule": [{"month": m, "price": p * scn.price_factor} for m, p in scn.price_schedule],
                "step": scn.elasticity_step * scn.price_factor,
                "calls_change_per_step": scn.calls_change_per_step,
                "changes": [{"month": c.month, "set": {c.lever: c.value}} for c in scn.changes],
            },
            "realised": {
                "calls_change_per_step": realised_change,
                "monthly": [
                    {
                        "month": int(m),
                        "price": round(float(t.price_month[m]), 2),
                        "unique_contacts": int(t.contacts_month[m]),
                    }
                    for m in range(scn.months)
                ],
            },
        },
        "recall": {
            "planted": {
                k: scn.recall[k]
                for k in ("every_months", "lapsed_days", "contact_share", "return_week", "return_two_months")
            },
            "realised": {
                "contacted": int(recall_out.size),
                "return_week": _rate(int(week.sum()), recall_out.size),
                "return_week_ci95": wilson(int(week.sum()), int(recall_out.size)),
                "return_two_months": _rate(int(two_months.sum()), recall_out.size),
                "return_two_months_ci95": wilson(int(two_months.sum()), int(recall_out.size)),
            },
        },
        "aftercare": {
            "planted": {
                "followup_done": scn.aftercare["followup_done"],
                "complication_rates": scn.aftercare["complication_rates"],
            },
            "realised": {
                "followups": t.followups,
                "followup_done": _rate(t.followups_done, t.followups),
                "complications": t.complications,
                "complication_rate": _rate(t.complications, t.treatment_visits),
            },
        },
        "loyalty": {
            "planted": dict(scn.loyalty.items()),
            "realised": {
                "memberships": {
                    MEMBERSHIP_KINDS[k]: int(t.memberships[k]) for k in range(len(MEMBERSHIP_KINDS))
                },
                "points_earned": t.points_earned,
                "points_redeemed": t.points_redeemed,
                "referral_contacts": t.referral_contacts,
                "referred_patients": t.referral_patients,
            },
        },
        # marketing campaigns (issue #19): planted uplift per audience and offer, each campaign's groups
        # as drawn, the capacity-aware campaign's planted response and the minutes it booked
        "marketing": sim.campaigns.truth(),
        # memberships used, cancelled and renewed, balances spent (issue #16, truth_loyalty.py)
        "loyalty_use": loyalty_use_truth(sim),
        "heterogeneity": _heterogeneity(sim),
        "operations": operations_truth(sim),
        "revenue": {
            "total": round(total_rev / 100, 2),
            # seed 004: about a third of revenue comes from first visits
            "first_visits_share": _rate(t.first_day_revenue, total_rev),
            "first_appointments_share": _rate(t.first_visit_revenue, total_rev),
            "by_branch": {
                b.slug: round(int(t.revenue_branch[i]) / 100, 2) for i, b in enumerate(scn.branches)
            },
            "currency": cur,
        },
        "structure": {
            "doctors_rooms": [
                {
                    "doctor": scn.doctors[d].name,
                    "room": st.room_name[int(st.doc_room[d])],
                    "room_type": ROOM_TYPES[int(st.room_type[int(st.doc_room[d])])],
                    "hours": f"{int(st.doc_start_min[d]) // 60:02d}:{int(st.doc_start_min[d]) % 60:02d}-"
                    f"{int(st.doc_end_min[d]) // 60:02d}:{int(st.doc_end_min[d]) % 60:02d}",
                    "weekdays": [int(x) for x in np.flatnonzero(st.doc_weekdays[d])],
                }
                for d in range(len(scn.doctors))
            ],
        },
    }
