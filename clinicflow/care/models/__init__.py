"""Aftercare and recall, one module per part (each imported here so Django finds its models)."""

from clinicflow.care.models.plans import *  # noqa: F403
from clinicflow.care.models.recall import *  # noqa: F403
from clinicflow.care.models.tasks import *  # noqa: F403
