"""Retention: how long each kind of record is kept per country (``periods``) and the nightly job
that pseudonymises or deletes what has passed its period (``run``)."""
