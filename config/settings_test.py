"""Test settings: the normal settings with fast hashing and a quiet log."""

from config.settings import *  # noqa: F403
from config.settings import CLINICFLOW, PASSWORD_HASHERS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
CLINICFLOW = {**CLINICFLOW}
AXES_FAILURE_LIMIT = 5
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Counters and caches in the database cache, rolled back with each test, also when REDIS_URL is set
# (CI's PostgreSQL pass): Redis keys would outlive a test. The tests of the Redis store opt in
# (core/tests/test_ratelimit.py, core/tests/test_shared_store*.py).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinicflow_cache"}
}
