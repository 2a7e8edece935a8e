"""Clinical records, one module per part (each imported here so Django finds its models)."""

from clinicflow.clinical.models.consents import *  # noqa: F403
from clinicflow.clinical.models.consultations import *  # noqa: F403
from clinicflow.clinical.models.photos import *  # noqa: F403
from clinicflow.clinical.models.treatments import *  # noqa: F403
