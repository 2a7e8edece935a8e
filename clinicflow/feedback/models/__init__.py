"""Feedback records, one module per part (each imported here so Django finds its models)."""

from clinicflow.feedback.models.complaints import *  # noqa: F403
from clinicflow.feedback.models.settings import *  # noqa: F403
from clinicflow.feedback.models.surveys import *  # noqa: F403
