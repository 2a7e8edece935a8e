"""Acquisition reports: per channel, per campaign, per administrator.

Entry points (pure functions of the database, also used by the planted-truth checks):
``acquisition_rows(org=, date_from=, date_to=, branch=, model=, group=)``,
``administrator_rows(org=, date_from=, date_to=, branch=)`` and ``first_visits(org=, start=, end=, branch=)``.

What a first visit, a first patient and their credit are is defined once, in
``clinicflow.acquisition.attribution`` (docs/acquisition.md): a patient's *first visit* is their earliest
appointment that happened (arrived or done); the period's *first patients* are the patients whose first
visit starts in it — a no-show or a cancellation before it does not count, and a first visit after an
earlier no-show does. A *booked first visit* is the patient's earliest appointment whatever became of it
(the booking was made), counted in the period it starts in — the same rule as the administrators'
conversion into booked first visits. Each is credited to channels by the attribution model over the
patient's touches (calls, leads, web sessions) up to that appointment.

Modules: ``first_patients`` (the one SQL statement, on SQLite and PostgreSQL), ``channels`` (the channel
and campaign reports), ``administrators`` (the front-desk report).
"""

from clinicflow.analytics.reports.acquisition.administrators import administrator_rows
from clinicflow.analytics.reports.acquisition.channels import acquisition_rows, channel_report
from clinicflow.analytics.reports.acquisition.first_patients import FirstVisits, first_visits

__all__ = ["FirstVisits", "acquisition_rows", "administrator_rows", "channel_report", "first_visits"]
