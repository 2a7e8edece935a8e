"""Audited writes of one organisation on PostgreSQL: 50 threads, each with its own connection, each
transaction updating one branch row of its own and appending one audit row.

Prints BENCH audited_writes_per_s (AUDIT_CHAIN_INLINE off, the production default: rows are chained
later). Where the chain has a chainer it also prints BENCH audit_chain_rows_per_s (the chainer
linking that backlog of 2,000 rows, writers idle), BENCH audited_writes_inline_per_s (writers chain
their row when the chain is free) and BENCH audit_pending_after_inline_writes.
Runs on older trees too: there it measures the chain head locked from the audit INSERT to COMMIT.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import setup_django

THREADS = int(os.environ.get("BENCH_AUDIT_THREADS", "50"))
PER_THREAD = int(os.environ.get("BENCH_AUDIT_WRITES", "40"))


def main() -> None:
    setup_django("postgres", "bench_audit")
    # imported after setup_django(): models need the app registry, which needs the scratch database's settings
    from django.db import connections, transaction
    from django.test import override_settings

    from clinicflow.core import audit
    from clinicflow.core.models import AuditEvent, Branch, Organization, Region

    org = Organization.objects.create(
        name="Bench", slug="bench", country="RU", currency="RUB", data_region=Region.RU
    )
    branches = Branch.objects.bulk_create(
        Branch(organization=org, name=f"B{i}", slug=f"b{i}", country="RU", timezone="UTC", currency="RUB")
        for i in range(THREADS)
    )
    audit.audit_record(org=org, actor=None, action="create", object_type="branch", object_id=branches[0].pk)
    chain = getattr(audit, "audit_chain", None)  # None: the old lock-until-commit chain

    def run_writers() -> float:
        barrier = threading.Barrier(THREADS + 1)
        errors: list[str] = []

        def writer(i: int) -> None:
            branch = branches[i]
            try:
                barrier.wait(timeout=60)
                for j in range(PER_THREAD):
                    with transaction.atomic():
                        Branch.objects.filter(pk=branch.pk).update(name=f"B{i}-{j}")
                        audit.audit_record(
                            org=org,
                            actor=None,
                            action="update",
                            object_type="branch",
                            object_id=branch.pk,
                            fields=["name"],
                        )
            except Exception as exc:  # reported below
                errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        barrier.wait(timeout=60)
        started = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        if errors:
            print(f"errors: {len(errors)}, first: {errors[0]}", file=sys.stderr)
            raise SystemExit(1)
        return THREADS * PER_THREAD / elapsed

    # the production default: writers leave their rows to the chainer (AUDIT_CHAIN_INLINE off)
    with override_settings(AUDIT_CHAIN_INLINE=False):
        print(f"BENCH audited_writes_per_s {run_writers():.0f} writes/s")
    if chain is not None:
        from clinicflow.core.models import AuditPending

        backlog = AuditPending.objects.filter(organization=org).count()
        started = time.perf_counter()
        linked = chain(org_id=org.pk, wait=True)
        elapsed = time.perf_counter() - started
        assert linked == backlog, (linked, backlog)
        print(f"BENCH audit_chain_rows_per_s {linked / elapsed:.0f} rows/s")
        # writers that chain their row when the chain is free (never waiting for it)
        with override_settings(AUDIT_CHAIN_INLINE=True):
            print(f"BENCH audited_writes_inline_per_s {run_writers():.0f} writes/s")
        pending = AuditPending.objects.filter(organization=org).count()
        print(f"BENCH audit_pending_after_inline_writes {pending} rows")
    checked, broken, reason = audit.audit_verify(org=org)
    total = AuditEvent.objects.filter(organization=org).count()
    if broken is not None or reason or checked != total:
        print(f"chain broken: {checked} of {total} rows, {reason}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
