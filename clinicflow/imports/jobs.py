"""Periodic work of the imports app (run by ``clinicflow worker``)."""

from __future__ import annotations

from clinicflow.imports.services import claim_next, job_run


def run_next_import() -> str:
    """Run one queued import, or resume one whose worker was killed; a one-line summary."""
    job = claim_next()
    if job is None:
        return "no import waiting"
    job = job_run(job=job)
    return f"import {job.pk}: {job.status} {job.message}"
