"""The engine alone (no database): ids, phones, schedules and the planted truth."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import defaultdict

import numpy as np
import pytest

from clinicflow.acquisition.ingestion.rules import unique_window
from clinicflow.booking.availability import interval_is_free
from clinicflow.core.ids import uuid7
from clinicflow.core.phones import normalize
from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.engine.ids import to_uuid, uuid7_array
from clinicflow.simulator.engine.people import PhoneSpace
from clinicflow.simulator.scenario import load_scenario
from clinicflow.simulator.truth import build_truth

Z = 3.29  # 99.9% two-sided: many planted figures are checked at once

WINDOW = unique_window().days


@pytest.fixture(scope="module")
def mid_run():
    scn = load_scenario("mid")
    sim = Simulation(scn, 11, unique_window_days=WINDOW)
    chunks: dict[str, list[dict]] = defaultdict(list)
    sim.run(lambda table, cols: chunks[table].append(cols))
    tables = {t: {k: np.concatenate([c[k] for c in parts]) for k in parts[0]} for t, parts in chunks.items()}
    return sim, tables, build_truth(sim)


def test_ids_have_the_core_uuid7_layout():
    rng = np.random.default_rng(1)
    ms = np.array([1_700_000_000_123, 1_800_000_000_456])
    ids = uuid7_array(rng, ms)
    for row, m in zip(ids, ms, strict=True):
        u = to_uuid(row)
        assert u == uuid7(ms=int(m), rand=row.tobytes()[6:])
        assert u.version == 7
        assert int.from_bytes(row.tobytes()[:6], "big") == m


@pytest.mark.parametrize(("country", "region", "prefix"), [("RU", "RU", "+79"), ("CN", "CN", "+861")])
def test_generated_phones_are_valid_unique_e164(country, region, prefix):
    space = PhoneSpace(country, np.random.default_rng(5))
    numbers = space.format(space.take(3000))
    assert len(set(numbers)) == 3000
    for number in numbers[:600]:
        assert number.startswith(prefix)
        assert normalize(number, region) == number


def test_same_seed_same_chunks_and_another_seed_differs():
    scn = load_scenario("mid", overrides={"clinic": {"months": 3}})

    def raw(v: np.ndarray) -> bytes:
        if v.dtype == object:
            return "\x00".join(map(str, v.tolist())).encode()
        return np.ascontiguousarray(v).tobytes()

    def digest(seed: int) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        Simulation(scn, seed, unique_window_days=WINDOW).run(
            lambda t, c: out.append((t, b"".join(raw(np.asarray(v)) for v in c.values())))
        )
        return out

    assert digest(3) == digest(3)
    assert digest(3) != digest(4)


def test_no_doctor_or_room_is_double_booked_and_visits_lie_in_working_hours(mid_run):
    sim, t, _ = mid_run
    a = t["appointments"]
    st = sim.st
    for key in ("doctor", "room"):
        o = np.lexsort((a["start"], a[key]))
        same = a[key][o][1:] == a[key][o][:-1]
        assert not (same & (a["start"][o][1:] < a["end"][o][:-1])).any(), key
    # the booking app's own rule, appointment by appointment, for the first doctor
    utc = dt.UTC
    d = 0
    tz = zoneinfo.ZoneInfo(sim.scn.branches[int(st.doc_branch[d])].timezone)
    mine = np.flatnonzero(a["doctor"] == d)
    mine = mine[np.argsort(a["start"][mine])]
    taken: list[tuple[dt.datetime, dt.datetime]] = []
    for i in mine:
        start = dt.datetime.fromtimestamp(int(a["start"][i]), utc)
        end = dt.datetime.fromtimestamp(int(a["end"][i]), utc)
        local_midnight = start.astimezone(tz).replace(hour=0, minute=0, second=0)
        window = (
            (local_midnight + dt.timedelta(minutes=int(st.doc_start_min[d]))).astimezone(utc),
            (local_midnight + dt.timedelta(minutes=int(st.doc_end_min[d]))).astimezone(utc),
        )
        assert st.doc_weekdays[d, local_midnight.weekday()]
        assert interval_is_free(windows=[window], taken=taken, start=start, end=end)
        taken.append((start, end))


def test_money_is_consistent_payments_equal_done_visit_prices(mid_run):
    _, t, truth = mid_run
    a, p = t["appointments"], t["payments"]
    done = a["status"] == 3
    assert int(p["amount"].sum()) == int(a["price"][done].sum())
    assert (p["amount"] > 0).all()
    assert len({bytes(x) for x in p["appointment"]}) == p["amount"].size
    # revenue is what was received: less the visits paid with an included procedure or with bonus
    # (issue #16: the ``tenders`` say how each payment row was paid)
    tn = t["tenders"]
    assert tn["bonus"].size == p["amount"].size
    lost = int(p["amount"][tn["included"] >= 0].sum()) + int(tn["bonus"].sum())
    assert round(lost / 100, 2) == truth["loyalty_use"]["realised"]["unrecognised"]
    assert round((int(a["price"][done].sum()) - lost) / 100, 2) == truth["revenue"]["total"]


def within(k: int, n: int, p: float) -> bool:
    se = math.sqrt(p * (1 - p) / n)
    return abs(k / n - p) <= Z * se + 1e-9


def test_each_administrators_conversion_is_realised(mid_run):
    sim, _, truth = mid_run
    for a in truth["administrators"]:
        r = a["realised"]
        assert r["unique_contacts_handled"] > 100
        assert within(r["booked_first_visits"], r["unique_contacts_handled"], a["planted"]["conversion"]), a
        assert abs(r["mean_call_score"] - a["planted"]["quality"]) < 2.5


def test_no_show_rates_are_realised(mid_run):
    _, t, truth = mid_run
    a = t["appointments"]
    past = np.isin(a["status"], [3, 4, 5])
    for first, planted in (
        (False, truth["appointments"]["planted"]["no_show"]),
        (True, truth["appointments"]["planted"]["first_visit_no_show"]),
    ):
        sel = past & (a["is_first"] == first)
        assert within(int((a["status"][sel] == 4).sum()), int(sel.sum()), planted)


def test_doctors_repeat_rates_conversion_and_nps_are_realised(mid_run):
    _, _, truth = mid_run
    for d in truth["doctors"]:
        r, p = d["realised"], d["planted"]
        assert within(round(r["conversion"] * r["consultations"]), r["consultations"], p["conversion"]), d[
            "name"
        ]
        if r["episodes_observed"] >= 30:
            k = round(r["repeat_rate"] * r["episodes_observed"])
            assert within(k, r["episodes_observed"], p["repeat_rate"]), d["name"]
        # NPS: a difference of two shares; its standard error from the planted shares' bound
        n = r["nps_answers"]
        assert n > 30
        assert abs(r["nps"] - p["nps"]) <= Z * 100 / math.sqrt(n), d["name"]


def test_over_treatment_and_over_promising_show_in_the_truth(mid_run):
    _, _, truth = mid_run
    by = {d["name"]: d for d in truth["doctors"]}
    volkov, sokolova = by["Игорь Волков"], by["Анна Соколова"]
    assert volkov["realised"]["expectation_mean"] > sokolova["realised"]["expectation_mean"] + 1
    assert (
        volkov["realised"]["extra_services_per_episode"] > sokolova["realised"]["extra_services_per_episode"]
    )
    assert volkov["realised"]["nps"] < sokolova["realised"]["nps"] - 50


def test_truth_carries_planted_and_realised_figures_for_every_lever(mid_run):
    _, _, truth = mid_run
    for section in ("calls", "appointments", "price_elasticity", "recall", "aftercare", "loyalty"):
        assert set(truth[section]) == {"planted", "realised"}, section
    paid = [c for c in truth["channels"] if c["planted"]["cost_per_first_patient"]]
    assert paid and all(c["realised"]["cost_per_first_patient"] for c in paid)
    assert truth["price_elasticity"]["realised"]["calls_change_per_step"] is not None
    assert truth["recall"]["realised"]["contacted"] > 0


def test_recall_response_matches_the_plant_on_a_longer_run():
    # the mid clinic's own demand: beyond it its doctors' planted weeks are full and the week's
    # returners wait longer than a week
    scn = load_scenario("mid", overrides={"clinic": {"months": 18}})
    sim = Simulation(scn, 5, unique_window_days=WINDOW)
    sim.run(lambda t, c: None)
    truth = build_truth(sim)
    r, p = truth["recall"]["realised"], truth["recall"]["planted"]
    n = r["contacted"]
    assert n > 500
    assert within(round(r["return_week"] * n), n, p["return_week"])
    assert within(round(r["return_two_months"] * n), n, p["return_two_months"])


def test_price_elasticity_is_recovered_roughly():
    scn = load_scenario(overrides={"clinic": {"demand_factor": 4.0, "end_date": "2026-06-30"}})
    sim = Simulation(scn, 9, unique_window_days=WINDOW)
    sim.run(lambda t, c: None)
    truth = build_truth(sim)
    assert truth["price_elasticity"]["realised"]["calls_change_per_step"] == pytest.approx(0.30, abs=0.08)
