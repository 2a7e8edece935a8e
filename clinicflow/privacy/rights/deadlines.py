"""When a data-subject request must be answered, per the laws that apply to the organisation
(``jurisdictions_for``); the earliest deadline wins.

- EU: one month (GDPR Art 12(3)); counted here as 30 days.
- RU: 10 working days (152-FZ Art 14 part 3 and Art 20 part 1, as amended by 266-FZ of 14.07.2022).
- CN: PIPL Art 50 says "in a timely manner"; 15 working days is the limit of the 2019 App rules for
  correction and deletion (the national standard GB/T 35273-2020 §8.7 c) allows up to 30 days).
- Elsewhere: 30 days.
"""

from __future__ import annotations

import datetime as dt

from clinicflow.core.models import Organization
from clinicflow.privacy.jurisdictions import jurisdictions_for
from clinicflow.privacy.models import Jurisdiction

DEFAULT_DAYS = 30


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """``start`` plus ``days`` working days (Monday to Friday; public holidays not counted)."""
    at = start
    left = days
    while left > 0:
        at += dt.timedelta(days=1)
        if at.weekday() < 5:
            left -= 1
    return at


def request_due(org: Organization, received_at: dt.datetime) -> dt.datetime:
    candidates = [received_at + dt.timedelta(days=DEFAULT_DAYS)]
    laws = jurisdictions_for(org)
    if Jurisdiction.RU in laws:
        candidates.append(add_working_days(received_at, 10))
    if Jurisdiction.CN in laws:
        candidates.append(add_working_days(received_at, 15))
    return min(candidates)
