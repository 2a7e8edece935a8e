"""Production profile: ``DJANGO_SETTINGS_MODULE=config.settings_production``."""

import os

os.environ["CLINICFLOW_ENV"] = "production"

from config.settings import *  # noqa: F403
