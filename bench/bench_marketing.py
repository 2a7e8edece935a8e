"""Marketing at scale on PostgreSQL: an audience count over 1,000,000 patients with three filters, and
queueing a 100,000-patient campaign.

Seeds (bulk COPY through the simulator's writer) ``BENCH_PATIENTS`` patients (default 1,000,000) in one
organisation across two branches, with sex and birth dates, of whom ``BENCH_CONSENTED`` (default
100,000) have agreed to SMS marketing (a consent event each); and 100,000 patients of another
organisation, so tenant scoping counts.

- ``BENCH audience_count_ms``: the p95 of ``audience_count`` with sex, a minimum age and a branch
  (issue #19: under 300 ms), beside ``BENCH audience_count_raw_sql_ms`` — the same count as one
  hand-written SQL statement — and their ratio. Both read the partial index
  ``patient_org_audience_idx`` (organisation, branch, sex, birth date of the patients not merged and not
  restricted); the seeded tables are vacuumed first, as autovacuum does after a bulk load.
- ``BENCH campaign_enqueue_s``: ``campaign_queue`` of a campaign to the consented audience (every one
  of them becomes a recipient with a reproducible variant or the holdout; issue #19: under 20 s),
  beside ``BENCH campaign_enqueue_raw_sql_s`` — an ``INSERT … SELECT`` of the same recipients — and
  their ratio. Both include the commit (the recipients' deferred foreign-key checks).

Scratch database: ``cf_mk_bench``. ``BENCH_ROUNDS`` (default 30) counts.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile, setup_django

N = int(os.environ.get("BENCH_PATIENTS", "1000000"))
CONSENTED = int(os.environ.get("BENCH_CONSENTED", "100000"))
OTHER = 100_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
CHUNK = 200_000


def _patients(org: Any, branches: list[Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """Write n patients in chunks; returns their ids as (n, 16) uint8."""
    from clinicflow.patients.models import Patient
    from clinicflow.simulator.engine.ids import uuid7_array
    from clinicflow.simulator.writers.bulk import BulkWriter

    now = int(time.time())
    writer = BulkWriter(Patient, now=now, org_id=org.pk)
    all_ids = []
    branch_ids = np.array([np.frombuffer(b.pk.bytes, dtype=np.uint8) for b in branches])
    epoch_day = dt.date(1970, 1, 1)
    for start in range(0, n, CHUNK):
        k = min(CHUNK, n - start)
        ids = uuid7_array(rng, np.full(k, now * 1000) - np.arange(k))
        names = [f"P{start + i}" for i in range(k)]
        birth = (dt.date(1950, 1, 1) - epoch_day).days + rng.integers(0, 365 * 55, k)
        writer.write(
            {
                "id": ids,
                "branch": branch_ids[rng.integers(0, len(branches), k)],
                "last_name": names,
                "first_name": names,
                "search_name": [s.lower() for s in names],
                "sex": np.where(rng.random(k) < 0.8, "F", "M").tolist(),
                "birth_date": birth.astype(np.int64),
                "preferred_language": "ru",
            }
        )
        all_ids.append(ids)
    return np.concatenate(all_ids)


def _consents(org: Any, ids: np.ndarray) -> None:
    from clinicflow.patients.models import ConsentEvent
    from clinicflow.simulator.engine.ids import uuid7_array
    from clinicflow.simulator.writers.bulk import BulkWriter

    now = int(time.time()) - 86_400
    rng = np.random.default_rng(5)
    BulkWriter(ConsentEvent, now=now, org_id=org.pk).write(
        {
            "id": uuid7_array(rng, np.full(ids.shape[0], now * 1000)),
            "patient": ids,
            "purpose": "marketing_sms",
            "kind": "granted",
            "method": "written",
            "at": np.full(ids.shape[0], now, dtype=np.int64),
        }
    )


def _seed() -> tuple[Any, Any]:
    from clinicflow.core.services import branch_create, organization_create

    started = time.perf_counter()
    rng = np.random.default_rng(19)
    made = []
    for slug, n in (("bench", N), ("other", OTHER)):
        org = organization_create(name=slug.title(), slug=slug, country="RU", currency="RUB")
        branches = [
            branch_create(org=org, name=f"Branch {i}", slug=f"b{i}", timezone="Europe/Moscow") for i in (1, 2)
        ]
        ids = _patients(org, branches, n, rng)
        chosen = ids[rng.choice(ids.shape[0], size=min(CONSENTED, n), replace=False)]
        _consents(org, chosen)
        made.append((org, branches[0]))
        print(
            f"   {slug}: {n} patients, {chosen.shape[0]} consented ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    return made[0]


def _count_bench(org: Any, branch: Any) -> None:
    from django.db import connection

    from clinicflow.marketing.selectors.audiences import audience_count
    from clinicflow.patients.models import Patient

    filters = {"sex": "F", "age_min": 40, "branch": str(branch.pk)}
    today = dt.date.today()
    born_by = today.replace(year=today.year - 40)
    sql = (
        f"SELECT count(*) FROM {Patient._meta.db_table} WHERE organization_id = %s "
        "AND merged_into_id IS NULL AND restricted_at IS NULL AND sex = %s AND birth_date <= %s "
        "AND branch_id = %s"
    )
    ours, raw = [], []
    expected = audience_count(org=org, filters=filters)
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        got = audience_count(org=org, filters=filters)
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(sql, [org.pk, "F", born_by, branch.pk])
            anchor = cur.fetchone()[0]
        raw.append((time.perf_counter() - t0) * 1000)
        assert got == expected == anchor, (got, expected, anchor)
    p95, raw95 = percentile(ours, 95), percentile(raw, 95)
    print(f"   audience of {expected} patients out of {N}", flush=True)
    print(f"BENCH audience_count_ms {p95:.1f} ms")
    print(f"BENCH audience_count_raw_sql_ms {raw95:.1f} ms")
    print(f"BENCH audience_count_ratio_to_raw_sql {p95 / raw95:.2f} x", flush=True)


def _enqueue_bench(org: Any) -> None:
    from django.db import connection, transaction

    from clinicflow.marketing.models import Campaign, Recipient
    from clinicflow.marketing.services.audiences import audience_create
    from clinicflow.marketing.services.campaigns import VariantIn, campaign_create, campaign_queue

    audience = audience_create(
        org=org, actor=None, name="Everyone with SMS consent", filters={"channel": "sms"}
    )
    variants = [VariantIn("Spring", "10% off"), VariantIn("Gift", "A free check-up")]
    campaign = campaign_create(
        org=org, actor=None, name="Bench", audience=audience, channel="sms", variants=variants
    )
    t0 = time.perf_counter()
    queued = campaign_queue(org=org, actor=None, campaign=campaign)
    ours = time.perf_counter() - t0
    assert queued == CONSENTED, queued
    # the anchor: the same recipients by one INSERT ... SELECT (no split, no consent check)
    other = campaign_create(
        org=org, actor=None, name="Anchor", audience=audience, channel="sms", variants=variants
    )
    table, consent = Recipient._meta.db_table, "patients_consentevent"
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (id, organization_id, campaign_id, patient_id, variant, status, reason) "
            f"SELECT gen_random_uuid(), %s, %s, c.patient_id, 'A', 'pending', '' FROM {consent} c "
            "WHERE c.organization_id = %s AND c.purpose = 'marketing_sms' AND c.kind = 'granted'",
            [org.pk, other.pk, org.pk],
        )
        anchored = cur.rowcount
    raw = time.perf_counter() - t0
    assert anchored == CONSENTED and Campaign.objects.for_org(org).count() == 2
    print(f"BENCH campaign_enqueue_s {ours:.2f} s")
    print(f"BENCH campaign_enqueue_raw_sql_s {raw:.2f} s")
    print(f"BENCH campaign_enqueue_ratio_to_raw_sql {ours / raw:.2f} x", flush=True)


def main() -> None:
    setup_django("postgres", "cf_mk_bench")
    from django.db import connection

    org, branch = _seed()
    with connection.cursor() as cur:
        # what autovacuum does after a bulk load: statistics, and the visibility map that lets an
        # audience count read the patients' audience index alone (an index-only scan)
        cur.execute("VACUUM ANALYZE")
    _count_bench(org, branch)
    _enqueue_bench(org)


if __name__ == "__main__":
    main()
