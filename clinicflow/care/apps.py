from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Aftercare and recall: follow-up plans per service, staff tasks with outcomes, thank-you messages,
    recall lists ranked by predicted value."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.care"
    label = "care"
    verbose_name = _("Aftercare and recall")
    timeline = "clinicflow.care.timeline.source"  # follow-up tasks on the patient card
    # (url name, label, permission, nav group)
    nav: list[tuple[str, object, str, str]] = [
        ("care:tasks", _("Follow-up tasks"), "tasks.view", "today"),
        ("care:recall_lists", _("Recall lists"), "recall.view", "calls"),
        ("care:plans", _("Follow-up plans"), "tasks.manage", "settings"),
    ]
    # (dotted function, seconds): the worker runs each; bounded, idempotent, one-line summary
    periodic: list[tuple[str, int]] = [
        ("clinicflow.care.jobs.followups_generate", 300),
        ("clinicflow.care.jobs.thanks_send", 600),
        ("clinicflow.care.jobs.tasks_expire", 3600),
        ("clinicflow.care.jobs.recall_bookings_link", 3600),
    ]
