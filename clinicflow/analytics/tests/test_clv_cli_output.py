"""``analytics clv`` text output: money with its currency, patients by name with their card link."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinicflow.analytics.clv.report import money_text
from clinicflow.analytics.tests.test_clv_org import make_history

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "transactions.csv"


def clv(*argv: str) -> str:
    out = io.StringIO()
    call_command("analytics", "clv", *argv, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_money_text_groups_digits_and_names_the_currency() -> None:
    assert money_text(Decimal("1234567.5"), "RUB") == "1,234,567.50 RUB"
    assert money_text(1234.5, "JPY") == "1,235 JPY"  # no minor units in yen
    assert money_text(Decimal("1234567.5")) == "1234567.50"  # without a currency: as before


def test_file_mode_lists_ids_and_plain_money_without_currency() -> None:
    text = clv("--transactions", str(EXAMPLE), "--until", "2024-12-31", "--top", "3")
    table = text.split("top 3 patients by CLV:\n")[1].splitlines()
    assert table[0].split()[0] == "patient_id"
    assert table[1].split()[0].startswith("P0")
    assert "RUB" not in text and "," not in table[1]


def test_file_mode_prints_money_with_the_given_currency() -> None:
    text = clv("--transactions", str(EXAMPLE), "--until", "2024-12-31", "--top", "3", "--currency", "EUR")
    total = next(line for line in text.splitlines() if line.startswith("total CLV"))
    assert total.endswith(" EUR") and "," in total
    rows = text.split("top 3 patients by CLV:\n")[1].splitlines()[1:]
    assert all(row.split()[0].startswith("P0") and row.endswith(" EUR") for row in rows)


def test_file_mode_refuses_an_unknown_currency() -> None:
    with pytest.raises(CommandError, match="currency"):
        clv("--transactions", str(EXAMPLE), "--until", "2024-12-31", "--currency", "XXX")


@pytest.mark.django_db
def test_org_mode_names_top_patients_with_card_links_and_org_currency(org, branch, settings) -> None:
    settings.CLINICFLOW = {**settings.CLINICFLOW, "PUBLIC_URL": "https://clinic.example/"}
    patients = make_history(org, branch, n=120)
    by_id = {str(p.pk): p for p in patients}
    text = clv("--org", "demo", "--until", dt.date(2026, 6, 30).isoformat(), "--top", "5")
    total = next(line for line in text.splitlines() if line.startswith("total CLV"))
    assert total.endswith(" RUB")
    rows = text.split("top 5 patients by CLV:\n")[1].splitlines()
    assert rows[0].split()[0] == "patient"
    listed = rows[1:6]
    assert len(listed) == 5
    for row in listed:
        link = row.split()[-1]
        prefix = "https://clinic.example/patients/"
        assert link.startswith(prefix) and link.endswith("/"), row
        patient = by_id[link[len(prefix) : -1]]
        assert row.strip().startswith(patient.full_name)
        assert str(patient.pk) not in row.split(link)[0]  # named, not listed by id
        assert " RUB " in row


@pytest.mark.django_db
def test_org_mode_refuses_a_currency_other_than_the_orgs(org, branch) -> None:
    make_history(org, branch, n=20)
    with pytest.raises(CommandError, match="differs"):
        clv("--org", "demo", "--until", "2026-06-30", "--currency", "EUR")
