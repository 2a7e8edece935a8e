from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """Patient feedback: post-visit and settled-result surveys (NPS, CSAT, result against expectation),
    complaints routed to the branch manager, review-site links."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.feedback"
    label = "feedback"
    verbose_name = _("Feedback")
    timeline = "clinicflow.feedback.timeline.source"  # surveys, answers, complaints on the patient card
    # (url name, label, permission, nav group)
    nav: list[tuple[str, object, str, str]] = [
        ("feedback:complaints", _("Complaints"), "complaints.manage", "patients"),
        ("feedback:settings", _("Surveys"), "feedback.manage", "settings"),
    ]
    # (dotted function, seconds between runs): the worker runs them
    periodic: list[tuple[str, int]] = [("clinicflow.feedback.jobs.send_due_surveys", 900)]
