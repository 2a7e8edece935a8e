"""Test settings: the normal settings with fast hashing and a quiet log."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import CLINICFLOW, PASSWORD_HASHERS, STORAGES

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

# Uploaded and private files in a folder of this test run's own (shared with the servers it starts,
# through the environment), so two runs on one machine (CI runs SQLite and PostgreSQL side by side)
# never see each other's files; removed when the run that made it ends.
if not os.environ.get("CLINICFLOW_TEST_FILES"):
    os.environ["CLINICFLOW_TEST_FILES"] = tempfile.mkdtemp(prefix="clinicflow-test-files-")
    atexit.register(shutil.rmtree, os.environ["CLINICFLOW_TEST_FILES"], True)
_FILES = Path(os.environ["CLINICFLOW_TEST_FILES"])
MEDIA_ROOT = _FILES / "media"
if STORAGES["clinical_photos"]["BACKEND"] == "clinicflow.clinical.storage.PrivateFileStorage":
    STORAGES = {
        **STORAGES,
        "clinical_photos": {**STORAGES["clinical_photos"], "OPTIONS": {"location": str(_FILES / "photos")}},
    }
