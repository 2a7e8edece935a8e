"""Periodic work of the feedback app (declared on ``FeedbackConfig.periodic``)."""

from __future__ import annotations

from clinicflow.core.models import Organization
from clinicflow.feedback.services.surveys import surveys_due_for_org


def send_due_surveys() -> str:
    """Create and send every organisation's due surveys (after the visit; settled result). Bounded
    per organisation and idempotent (one survey per appointment and kind)."""
    after = settled = 0
    for org in Organization.objects.order_by("pk"):
        a, s = surveys_due_for_org(org)
        after, settled = after + a, settled + s
    return f"surveys sent: {after} after the visit, {settled} settled"
