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
from clinicflow.messaging.tasks import Worker


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

    def handle(self, *args: Any, **options: Any) -> None:
        batch, attempts = options["batch"], options["max_attempts"]
        lease, interval = options["lease"], options["interval"]
        if batch < 1 or attempts < 1 or interval <= 0 or lease < 1:
            raise CommandError("--batch, --max-attempts, --lease and --interval must be positive")
        worker = Worker(batch=batch, max_attempts=attempts, lease_seconds=lease)
        chain_every = options["audit_chain_interval"]
        if chain_every <= 0:
            raise CommandError("--audit-chain-interval must be positive")
        if options["once"]:
            self.stdout.write(f"worker {worker.worker_id}: audit rows linked={audit_chain_all()}")
            self.stdout.write(f"worker {worker.worker_id}: {worker.run_once()}")
            return
        stop = threading.Event()
        chainer = threading.Thread(
            target=_chain_audit_log, args=(chain_every, stop, self.stdout.write), daemon=True
        )
        chainer.start()

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
        self.stdout.write(f"worker {worker.worker_id} stopped: {total}")
