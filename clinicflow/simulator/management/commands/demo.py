from __future__ import annotations

import io
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicflow.patients.models import PatientPrediction
from clinicflow.simulator.demo import DEMO_PASSWORD, DEMO_USERS, demo_exists, demo_setup, demo_simulate


class Command(BaseCommand):
    help = (
        "Load the demo clinics, their staff logins and data (idempotent). 'Demo Aesthetic Clinic' (slug "
        "demo, two branches) and 'Other Clinic' (slug other); staff logins have the password 'demo'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply database migrations first."
        )
        parser.add_argument(
            "--no-simulate", action="store_true", help="Do not generate the simulated clinic data."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Allow loading the demo under production settings (never do this with real data).",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if getattr(settings, "PRODUCTION", False) and not o["force"]:
            raise CommandError(
                "refusing to load demo logins under production settings (use --force to insist)"
            )
        t0 = time.perf_counter()
        if not o["no_migrate"]:
            self.stdout.write("Applying database migrations…")
            call_command("migrate", interactive=False, verbosity=0)
        existed = demo_exists()
        summary = demo_setup()
        if existed:
            self.stdout.write("The demo organisations already exist.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo loaded: {summary.organizations} organisations, {summary.branches} branches, "
                    f"{summary.users} staff users, {summary.patients} patients."
                )
            )
        if not o["no_simulate"]:
            self._simulate()
            self._predict_lifetime_value()
        self.stdout.write(f"Done in {time.perf_counter() - t0:.1f} s.")
        self.stdout.write(f"\nDemo logins (password: {DEMO_PASSWORD}):")
        for slug, email, role, _name, _c in DEMO_USERS:
            self.stdout.write(f"  {email:<24} {role:<10} ({slug})")

    def _predict_lifetime_value(self) -> None:
        """Fit the lifetime-value models to the demo clinic and store each patient's prediction."""
        for slug in ("demo",):
            if PatientPrediction.objects.filter(organization__slug=slug).exists():
                continue
            quiet = io.StringIO()
            try:
                call_command("analytics", "clv", org=slug, stdout=quiet, stderr=quiet)
            except CommandError as exc:
                self.stdout.write(f"Lifetime-value predictions for {slug!r} skipped: {exc}")
                continue
            count = PatientPrediction.objects.filter(organization__slug=slug).count()
            self.stdout.write(f"Lifetime-value predictions stored for {count:,} patients of {slug!r}.")

    def _simulate(self) -> None:
        out = self.stdout
        last = {"t": -10.0}

        def progress(slug: str, phase: str, rows: int, seconds: float) -> None:
            if phase == "done" or seconds - last["t"] >= 2.0:
                last["t"] = seconds
                out.write(
                    f"  simulating {slug:<6} {phase:<14} {rows:>9,} rows {seconds:6.1f} s "
                    f"({rows / max(seconds, 1e-9):,.0f} rows/s)"
                )

        out.write("Simulating clinic life (24 months for 'demo', 12 for 'other')…")
        results = demo_simulate(progress)
        if not results:
            out.write("Simulated data already present; nothing generated.")
            return
        out.write(
            f"\n{'organisation':<14}{'patients':>10}{'appointments':>14}{'calls':>10}{'payments':>10}"
            f"{'rows':>12}{'seconds':>9}"
        )
        for slug, r in results.items():
            rows = r.rows
            out.write(
                f"{slug:<14}{r.truth['patients']:>10,}{rows.get('booking.Appointment', 0):>14,}"
                f"{rows.get('acquisition.Call', 0):>10,}{rows.get('booking.Payment', 0):>10,}"
                f"{r.total_rows:>12,}{r.seconds:>9.1f}"
            )
