"""Safe defaults: the WSGI entry point and gunicorn run the production profile unless development is
chosen explicitly, and the production profile refuses to start with an unsafe configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import DEV_SECRET_KEY

ROOT = Path(__file__).resolve().parents[3]
GOOD_KEY = "p" * 30 + "roduction-secret-key-for-the-check-1234"
SHOW = "from django.conf import settings as s; print(s.DEBUG, s.CLINICFLOW['MFA_REQUIRED'], s.SESSION_COOKIE_SECURE)"
UNSET = ("CLINICFLOW_ENV", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "MFA_REQUIRED", "DATABASE_URL")
UNSET += ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
# field-encryption keys (CR-03): 32 bytes each, base64
KEYS = {"FIELD_ENCRYPTION_KEYS": "k1:" + "QUFB" * 10 + "QUE=", "BLIND_INDEX_KEY": "QkJC" * 11}
# the audit chain's HMAC key (LG-02), kept outside the database
UNSET += ("AUDIT_HMAC_KEY", "AUDIT_HMAC_KEYS")
KEYS["AUDIT_HMAC_KEY"] = "audit-hmac-key-for-the-production-check-0123"
NO_AUDIT_KEY = {k: v for k, v in KEYS.items() if k != "AUDIT_HMAC_KEY"}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in UNSET}
    return subprocess.run(
        args, env={**base, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-c", code], **env)


def test_the_wsgi_entry_point_runs_the_production_profile_by_default() -> None:
    result = _python(
        f"import config.wsgi; {SHOW}", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="clinic.example.org", **KEYS
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def test_the_wsgi_entry_point_without_production_secrets_refuses_to_start() -> None:
    result = _python("import config.wsgi", ALLOWED_HOSTS="clinic.example.org")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in result.stderr


def test_the_wsgi_entry_point_runs_development_only_when_chosen() -> None:
    result = _python(f"import config.wsgi; {SHOW}", CLINICFLOW_ENV="development")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False"]


def test_gunicorn_with_the_shipped_config_runs_the_production_profile() -> None:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    args = [gunicorn, "-c", "config/gunicorn.py", "--check-config", "config.wsgi:application"]
    refused = _run(args, ALLOWED_HOSTS="clinic.example.org")
    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stdout + refused.stderr
    assert _run(args, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="clinic.example.org", **KEYS).returncode == 0
    assert _run(args, CLINICFLOW_ENV="development").returncode == 0


def test_the_console_command_still_defaults_to_development() -> None:
    result = _run([sys.executable, "-m", "clinicflow.cli", "shell", "--no-imports", "-c", SHOW])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY is the committed development key"),
        ({"SECRET_KEY": GOOD_KEY, "DEBUG": "1"}, "DEBUG must be off in production"),
        ({"SECRET_KEY": GOOD_KEY, "MFA_REQUIRED": "0"}, "MFA_REQUIRED must be on in production"),
        ({"SECRET_KEY": GOOD_KEY, "CLINICFLOW_ENV": "prod"}, "CLINICFLOW_ENV must be"),
        ({"SECRET_KEY": GOOD_KEY}, "FIELD_ENCRYPTION_KEYS must be set in production"),
        (
            {"SECRET_KEY": GOOD_KEY, "FIELD_ENCRYPTION_KEYS": KEYS["FIELD_ENCRYPTION_KEYS"]},
            "BLIND_INDEX_KEY must be set",
        ),
        (
            {"SECRET_KEY": GOOD_KEY, **KEYS, "FIELD_ENCRYPTION_KEYS": "k1:c2hvcnQ="},
            "FIELD_ENCRYPTION_KEYS: key 'k1' must be 32 bytes",
        ),
        ({"SECRET_KEY": GOOD_KEY, **KEYS, "MESSAGE_DELIVERY": "demo_inbox"}, "MESSAGE_DELIVERY=demo_inbox"),
    ],
    ids=[
        "development-key",
        "debug-on",
        "mfa-off",
        "unknown-profile",
        "no-field-keys",
        "no-index-key",
        "short-key",
        "demo-inbox-channel",
    ],
)
def test_the_production_profile_refuses_to_start_with_an_unsafe_setting(
    env: dict[str, str], message: str
) -> None:
    _refuses(env, message)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "AUDIT_HMAC_KEY (or AUDIT_HMAC_KEYS) must be set in production"),
        ({"AUDIT_HMAC_KEY": "short"}, "Each audit HMAC key must be at least 32 characters"),
        ({"AUDIT_HMAC_KEY": GOOD_KEY}, "Each audit HMAC key must be at least 32 characters, not SECRET_KEY"),
        ({"AUDIT_HMAC_KEYS": "a:" + "x" * 40 + ",a:" + "y" * 40}, "AUDIT_HMAC_KEYS must be 'kid:secret,...'"),
    ],
    ids=["no-audit-key", "short-audit-key", "audit-key-is-secret-key", "duplicate-audit-kid"],
)
def test_the_production_profile_refuses_to_start_without_a_real_audit_key(
    env: dict[str, str], message: str
) -> None:
    _refuses({"SECRET_KEY": GOOD_KEY, **NO_AUDIT_KEY, **env}, message)


def _refuses(env: dict[str, str], message: str) -> None:
    result = _python(
        "import config.settings",
        **{"CLINICFLOW_ENV": "production", "ALLOWED_HOSTS": "clinic.example.org", **env},
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_the_production_profile_starts_with_safe_settings() -> None:
    result = _python(
        f"import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); {SHOW}",
        CLINICFLOW_ENV="production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="clinic.example.org",
        DEBUG="0",
        MFA_REQUIRED="1",
        **KEYS,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def test_runserver_loading_the_wsgi_module_keeps_the_development_profile() -> None:
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); "
        f"import config.wsgi; print(os.environ.get('CLINICFLOW_ENV')); {SHOW}"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "True", "False", "False"]


def test_the_production_settings_module_refuses_the_demo_inbox_channel() -> None:
    env = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "clinic.example.org", **KEYS}
    assert _python("import config.settings_production", **env).returncode == 0
    result = _python("import config.settings_production", MESSAGE_DELIVERY="demo_inbox", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: MESSAGE_DELIVERY=demo_inbox" in result.stderr
