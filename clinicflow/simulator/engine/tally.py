"""Counters for the realised side of the truth (turned into the truth document by
:mod:`clinicflow.simulator.truth`)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from clinicflow.simulator.engine.setup import STATUSES
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS, Scenario


class Tally:
    """Counters for the realised side of the truth."""

    def __init__(self, scn: Scenario, n_months: int) -> None:
        n_a, n_d, n_c, n_b = len(scn.administrators), len(scn.doctors), len(scn.channels), len(scn.branches)
        self.adm_unique_handled = np.zeros(n_a, dtype=np.int64)
        self.adm_unique_booked = np.zeros(n_a, dtype=np.int64)
        self.adm_score_sum = np.zeros(n_a, dtype=np.float64)
        self.adm_score_n = np.zeros(n_a, dtype=np.int64)
        self.calls_total = 0
        self.calls_unique = 0
        self.calls_missed = 0
        self.calls_recovered = 0
        self.unique_missed = 0
        self.web_forms = 0
        self.sessions = 0
        self.contacts_month = np.zeros(n_months, dtype=np.float64)  # unique non-referral contacts
        self.expected_no_price_month = np.zeros(n_months, dtype=np.float64)
        self.price_month = np.zeros(n_months, dtype=np.float64)
        self.spend_channel = np.zeros(n_c, dtype=np.int64)  # minor units
        self.contacts_channel = np.zeros(n_c, dtype=np.int64)
        self.booked_channel = np.zeros(n_c, dtype=np.int64)
        self.first_patients_channel = np.zeros(n_c, dtype=np.int64)
        self.appt_status = np.zeros((2, len(STATUSES)), dtype=np.int64)  # [is_first][status]
        self.consults = np.zeros(n_d, dtype=np.int64)
        self.converted = np.zeros(n_d, dtype=np.int64)
        self.episode_ends = np.zeros(n_d, dtype=np.int64)
        self.episode_returns = np.zeros(n_d, dtype=np.int64)
        self.course_planned = np.zeros(n_d, dtype=np.int64)
        self.course_sessions_possible = np.zeros(n_d, dtype=np.int64)
        self.episodes = np.zeros(n_d, dtype=np.int64)
        self.extra_services = np.zeros(n_d, dtype=np.int64)
        self.nps_answers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.expectations = np.zeros(n_d, dtype=np.float64)
        self.complications = 0
        self.treatment_visits = 0
        self.followups_done = 0
        self.followups = 0
        self.recall_contacted = 0
        self.revenue_branch = np.zeros(n_b, dtype=np.int64)
        self.first_visit_revenue = 0
        self.repeat_revenue = 0
        self.first_day_revenue = 0  # done visits on the patient's first-visit day
        self.same_day_planned = 0  # converted consultations whose first session was planned that day
        self.same_day_done = 0  # done visits on the first-visit day after the consultation
        self.late_cancelled = 0  # cancelled less than 24 hours before the start (of the past ones)
        self.doc_booked_min = np.zeros((0, 0), dtype=np.int32)  # (doctor, day) minutes held
        self.memberships = np.zeros(len(MEMBERSHIP_KINDS), dtype=np.int64)
        self.points_earned = 0
        self.points_redeemed = 0
        self.referral_contacts = 0
        self.referral_patients = 0
        self.capacity_dropped = 0
        self.rows: dict[str, int] = defaultdict(int)
