"""The clv command: predictions assembled from the models, outputs and clear failures."""

import argparse
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from clinicflow.analytics.clv import bgnbd, cli, gammagamma
from clinicflow.analytics.clv.predict import MONTH_IN_UNITS, predict

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "transactions.csv"
BG = bgnbd.BGNBDParams(0.243, 4.414, 0.793, 2.426)
GG = gammagamma.GammaGammaParams(6.25, 3.74, 15.44)


def run(*argv: str, rows_loader=None) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(vars(parser.parse_args(list(argv))), out, err, rows_loader)
    return code, out.getvalue(), err.getvalue()


def test_clv_is_the_discounted_sum_of_monthly_expected_visits_times_value() -> None:
    x, t_x, T, m = (
        np.array([0, 1, 6]),
        np.array([0.0, 3.0, 20.0]),
        np.array([10.0, 12.0, 30.0]),
        np.array([0.0, 40.0, 25.0]),
    )
    got = predict(
        BG,
        GG,
        x,
        t_x,
        T,
        m,
        time_unit="week",
        predict_units=8.0,
        horizon_months=12,
        discount_monthly=0.01,
        margin=0.6,
    )
    month = MONTH_IN_UNITS["week"]
    cumulative = [bgnbd.conditional_expected_visits(BG, k * month, x, t_x, T) for k in range(13)]
    value = gammagamma.conditional_expected_value(GG, x, m)
    expected = 0.6 * value * sum((cumulative[k] - cumulative[k - 1]) / 1.01**k for k in range(1, 13))
    assert got.clv.tolist() == pytest.approx(expected.tolist(), rel=1e-12)
    assert got.expected_visits.tolist() == pytest.approx(
        bgnbd.conditional_expected_visits(BG, 8.0, x, t_x, T).tolist(), rel=1e-13
    )
    assert got.p_alive.tolist() == pytest.approx(bgnbd.probability_alive(BG, x, t_x, T).tolist(), rel=1e-15)


def test_undiscounted_clv_telescopes_to_value_times_visits_over_the_horizon() -> None:
    x, t_x, T, m = np.array([2]), np.array([5.0]), np.array([9.0]), np.array([30.0])
    got = predict(
        BG,
        GG,
        x,
        t_x,
        T,
        m,
        time_unit="day",
        predict_units=0.0,
        horizon_months=6,
        discount_monthly=0.0,
        margin=1.0,
    )
    visits = bgnbd.conditional_expected_visits(BG, 6 * 30.4375, x, t_x, T)
    assert got.clv.tolist() == pytest.approx(
        (visits * gammagamma.conditional_expected_value(GG, x, m)).tolist(), rel=1e-12
    )
    assert got.expected_visits.tolist() == [0.0]


def test_json_output_on_the_example_file_has_the_documented_shape() -> None:
    code, out, err = run("--transactions", str(EXAMPLE), "--until", "2024-12-31", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert list(doc) == ["time_unit", "until", "bgnbd", "gamma_gamma", "patients"]
    assert (doc["time_unit"], doc["until"]) == ("week", "2024-12-31")
    assert set(doc["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood", "std_err"}
    assert set(doc["gamma_gamma"]["std_err"]) == {"p", "q", "v"}
    assert len(doc["patients"]) == 14
    first = doc["patients"][0]
    assert list(first) == [
        "patient_id",
        "frequency",
        "recency",
        "T",
        "monetary",
        "p_alive",
        "expected_visits",
        "expected_value",
        "clv",
    ]
    # P001: first seen 2024-01-27, back on 2024-01-31 for 39000.00; the 2025 row is ignored.
    assert (first["patient_id"], first["frequency"], first["recency"], first["monetary"]) == (
        "P001",
        1,
        0.571429,
        39000.0,
    )
    assert first["T"] == round(339 / 7, 4)


def test_csv_output_writes_the_patient_table(tmp_path: Path) -> None:
    target = tmp_path / "clv.csv"
    code, out, _ = run(
        "--transactions", str(EXAMPLE), "--until", "2024-12-31", "--time-unit", "day", "--csv", str(target)
    )
    assert (code, out) == (0, "")
    with target.open() as handle:
        table = list(csv.reader(handle))
    assert table[0] == [
        "patient_id",
        "frequency",
        "recency",
        "T",
        "monetary",
        "p_alive",
        "expected_visits",
        "expected_value",
        "clv",
    ]
    assert table[1][:5] == ["P001", "1", "4", "339", "39000.00"]
    assert len(table) == 15


def test_text_summary_lists_parameters_and_top_patients() -> None:
    code, out, _ = run("--transactions", str(EXAMPLE), "--until", "2024-12-31", "--top", "3")
    assert code == 0
    assert "BG/NBD visit model" in out and "Gamma-Gamma value-per-visit model" in out
    assert "patients: 14, with repeat visits: 11, repeat visits: 21" in out
    assert "top 3 patients by CLV:" in out


def test_bad_rows_stop_the_command_without_output(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(EXAMPLE.read_text() + "P99,2024-13-01,5\nP98,2024-01-01,ten\n")
    code, out, err = run("--transactions", str(path), "--until", "2024-12-31", "--json")
    assert (code, out) == (2, "")
    assert f"{path}: line 38: date: '2024-13-01' is not an ISO date (YYYY-MM-DD)\n" in err
    assert f"{path}: line 39: amount: 'ten' is not a decimal number\n" in err
    assert err.endswith("error: 2 bad rows in " + str(path) + "; correct them or pass --skip-bad-rows\n")


def test_skip_bad_rows_warns_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(EXAMPLE.read_text() + "P99,2024-13-01,5\n")
    code, out, err = run("--transactions", str(path), "--until", "2024-12-31", "--json", "--skip-bad-rows")
    assert code == 0
    assert len(json.loads(out)["patients"]) == 14
    assert "warning: skipped 1 bad row" in err


def test_too_few_patients_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("patient_id,date,amount\nA,2024-01-01,1\nA,2024-02-01,2\nB,2024-01-05,3\n")
    code, out, err = run("--transactions", str(path), "--until", "2024-12-31")
    assert (code, out) == (3, "")
    assert (
        err
        == "error: the CLV models cannot describe these data: too few patients: the models need at least 10 patients first seen on or before 2024-12-31, found 2\n"
    )


def test_no_repeat_visits_is_a_clear_error() -> None:
    rows = [
        (f"P{i}", __import__("datetime").date(2024, 1, 1 + i), __import__("decimal").Decimal(10))
        for i in range(12)
    ]
    code, out, err = run("--until", "2024-12-31", rows_loader=lambda: rows)
    assert (code, out) == (3, "")
    assert "no repeat visits: no patient came back on a second day up to 2024-12-31" in err


def test_a_fit_that_does_not_converge_is_reported_not_raised(tmp_path: Path) -> None:
    # Every patient has exactly one repeat visit one week after the first, and all are observed
    # equally long: nothing distinguishes dropout from rate, and the fit runs off.
    path = tmp_path / "t.csv"
    lines = ["patient_id,date,amount"]
    for i in range(20):
        lines += [f"P{i},2024-01-01,10", f"P{i},2024-01-08,{10 + i}"]
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run("--transactions", str(path), "--until", "2024-03-01")
    assert (code, out) == (3, "")
    assert err.startswith("error: the CLV models cannot describe these data: the BG/NBD fit did not converge")


def test_missing_transactions_source_is_an_input_error() -> None:
    code, _, err = run("--until", "2024-12-31")
    assert (code, err) == (2, "error: give the transactions with --transactions FILE\n")


def test_management_command_runs_the_clv_subcommand() -> None:
    from django.conf import settings

    if not settings.configured:
        pytest.skip("Django settings are not configured (run without -p no:django)")
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command(
        "analytics", "clv", "--transactions", str(EXAMPLE), "--until", "2024-12-31", "--json", stdout=out
    )
    assert len(json.loads(out.getvalue())["patients"]) == 14
    with pytest.raises(CommandError, match="either --transactions FILE or --org SLUG"):
        call_command(
            "analytics", "clv", "--transactions", str(EXAMPLE), "--org", "x", "--until", "2024-12-31"
        )
