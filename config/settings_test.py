"""Test settings: the normal settings with fast hashing and a quiet log."""

from config.settings import *  # noqa: F403
from config.settings import CLINICFLOW, PASSWORD_HASHERS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
CLINICFLOW = {**CLINICFLOW}
AXES_FAILURE_LIMIT = 5
LOGGING = {"version": 1, "disable_existing_loggers": False}
