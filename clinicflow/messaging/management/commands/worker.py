"""``clinicflow worker``: deliver the outbox (SMS and e-mail); the work is ``messaging.tasks.Worker``."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from clinicflow.core.audit import audit_chain_all
from clinicflow.core.periodic import Scheduler
from clinicflow.messaging.tasks import Worker


def _run_periodic(interval: float, stop: threading.Event, write: Callable[[str], object]) -> None:
    """Run the apps' periodic jobs that are due, checking every ``interval`` seconds (own connection)."""
    scheduler = Scheduler()
    try:
        while True:
            for line in scheduler.run_due():
                write(f"periodic: {line}")
            if stop.wait(interval):
                break
    finally:
        connection.close()


def _chain_audit_log(interval: float, stop: threading.Event, write: Callable[[str], object]) -> None:
    """Link the audit rows left for the chainer every ``interval`` seconds (own connection)."""
    try:
        while not stop.wait(interval):
            try:
                linked = audit_chain_all()
            except Exception as exc:  # keep chaining on the next round; the outbox goes on regardless
                write(f"audit chainer: {type(exc).__name__}: {exc}")
                continue
            if linked:
                write(f"audit chainer: {linked} rows linked")
    finally:
        connection.close()


class Command(BaseCommand):
    help = (
        "Deliver queued messages (SMS, e-mail) from the outbox. Claims due messages atomically, so "
        "several workers can run side by side; retries temporary failures with exponential back-off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Process what is due now, then exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help="Seconds to sleep between polls of the outbox (default 5).",
        )
        parser.add_argument(
            "--batch", type=int, default=50, metavar="N", help="Messages claimed per round (default 50)."
        )
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=5,
            metavar="N",
            help="Delivery attempts before a message is marked failed (default 5).",
        )
        parser.add_argument(
            "--lease",
            type=int,
            default=300,
            metavar="SECONDS",
            help="How long a claim lasts before another worker may take the message over (default 300).",
        )
        parser.add_argument(
            "--audit-chain-interval",
            type=float,
            default=2.0,
            metavar="SECONDS",
            help="Seconds between runs of the audit chainer, which links pending audit rows (default 2).",
        )
        parser.add_argument(
            "--jobs-interval",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="Seconds between checks for due periodic jobs (follow-up tasks, surveys, purges; "
            "each app declares its own with their intervals); 0 turns them off (default 30).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch, attempts = options["batch"], options["max_attempts"]
        lease, interval = options["lease"], options["interval"]
        if batch < 1 or attempts < 1 or interval <= 0 or lease < 1:
            raise CommandError("--batch, --max-attempts, --lease and --interval must be positive")
        worker = Worker(batch=batch, max_attempts=attempts, lease_seconds=lease)
        chain_every = options["audit_chain_interval"]
        if chain_every <= 0:
            raise CommandError("--audit-chain-interval must be positive")
        jobs_every = options["jobs_interval"]
        if jobs_every < 0:
            raise CommandError("--jobs-interval must not be negative")
        if options["once"]:
            self.stdout.write(f"worker {worker.worker_id}: audit rows linked={audit_chain_all()}")
            if jobs_every:
                for line in Scheduler().run_due(force=True):
                    self.stdout.write(f"worker {worker.worker_id}: periodic: {line}")
            self.stdout.write(f"worker {worker.worker_id}: {worker.run_once()}")
            return
        stop = threading.Event()
        chainer = threading.Thread(
            target=_chain_audit_log, args=(chain_every, stop, self.stdout.write), daemon=True
        )
        chainer.start()
        jobs = None
        if jobs_every:
            jobs = threading.Thread(
                target=_run_periodic, args=(jobs_every, stop, self.stdout.write), daemon=True
            )
            jobs.start()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write(f"worker {worker.worker_id}: polling every {interval} s (Ctrl+C to stop)")
        total = worker.run_forever(
            interval=interval,
            stop=stop.is_set,
            report=lambda summary: self.stdout.write(f"worker {worker.worker_id}: {summary}"),
        )
        stop.set()
        chainer.join(timeout=30)
        if jobs is not None:
            jobs.join(timeout=60)
        self.stdout.write(f"worker {worker.worker_id} stopped: {total}")
