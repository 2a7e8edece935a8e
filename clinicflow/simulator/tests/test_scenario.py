from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from clinicflow.simulator.scenario import ScenarioError, load_scenario


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def test_default_scenario_loads_with_every_section():
    scn = load_scenario(today=dt.date(2026, 5, 31))
    assert scn.months == 24
    assert scn.end_date == dt.date(2026, 5, 31)
    assert [b.slug for b in scn.branches] == ["moscow", "novosibirsk"]
    assert scn.first_visit_service.code == "consult-first"
    assert {c.kind for c in scn.channels} == {
        "search_ads",
        "social_ads",
        "organic",
        "aggregator",
        "referral",
        "offline",
        "direct",
    }
    assert scn.calls_change_per_step == 0.30
    assert scn.elasticity_step == 500


def test_bundled_scenarios_load_by_name():
    assert load_scenario("mid").months == 14
    assert load_scenario("other.toml").currency == "CNY"
    chain = load_scenario("chain-1m")
    assert (len(chain.branches), chain.months, chain.patients) == (20, 60, 1_000_000)


def test_a_file_overrides_only_what_it_sets(tmp_path):
    scn = load_scenario(write(tmp_path, "[clinic]\nmonths = 3\n[appointments]\nno_show = 0.2\n"))
    assert scn.months == 3
    assert scn.appointments["no_show"] == 0.2
    assert scn.appointments["cancelled"] == 0.06


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[clinic]\nmonths = 0\n", "clinic.months: must be between 1 and 240 (got 0)"),
        ('[clinic]\nend_date = "2026-13-01"\n', "clinic.end_date: must be an ISO date"),
        ('[clinic]\ncountry = "XX"\n', "clinic.country: must be one of RU, CN (got 'XX')"),
        ("[appointments]\nno_show = 1.5\n", "appointments.no_show: must be between 0 and 1 (got 1.5)"),
        ('[contacts]\nmissed_share = "lots"\n', "contacts.missed_share: must be a number (got 'lots')"),
        ("[seasonality]\nmonthly = [1.0, 1.0]\n", "seasonality.monthly: needs exactly 12 numbers (got 2)"),
        ("[loyalty]\nmembership_mix = { gold = 1.0 }\n", "loyalty.membership_mix.gold: unknown key"),
        (
            '[[doctors]]\nbranch = "moscow"\nname = "X"\nspecialty = "laser"\nconversion = 1.4\n'
            "quality = 7\ncourse_completion = 0.8\nrepeat_rate = 0.5\n",
            "doctors[0].conversion: must be between 0 and 1 (got 1.4)",
        ),
        (
            '[[administrators]]\nbranch = "paris"\nname = "X"\nconversion = 0.5\nquality = 70\n',
            "administrators[0].branch: must be one of moscow, novosibirsk (got 'paris')",
        ),
        ("[first_visit_price]\nschedule = [{ month = 2, price = 100 }]\n", "must be month = 0"),
        ("[clinic\n", "not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path, text, message):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(write(tmp_path, text))
    assert message in str(exc.value)


def test_missing_file_is_a_clear_error():
    with pytest.raises(ScenarioError, match=r"scenario file not found: nowhere\.toml"):
        load_scenario("nowhere.toml")


def test_unknown_time_zone_names_the_branch_key(tmp_path):
    text = '[[branches]]\nslug = "a"\nname = "A"\ntimezone = "Mars/Base"\nrooms = { treatment = 1 }\n'
    with pytest.raises(ScenarioError, match=r"branches\[0\]\.timezone: unknown time zone 'Mars/Base'"):
        load_scenario(write(tmp_path, text))
