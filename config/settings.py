"""Clinicflow settings: one module, driven by the environment.

CLINICFLOW_ENV=production (or DJANGO_SETTINGS_MODULE=config.settings_production) turns on the
production profile: DEBUG off, secrets and hosts from the environment, HTTPS-only cookies, HSTS. It
refuses to start with the development SECRET_KEY, DEBUG on or MFA_REQUIRED off. The WSGI entry point
and gunicorn's config choose production unless CLINICFLOW_ENV=development; the console command
(manage.py, ``clinicflow``) defaults to development.
DATABASE_URL unset means the embedded SQLite database in ``var/``; ``postgresql://...`` switches to
PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ.get("CLINICFLOW_ENV", "development").strip().lower()
if ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"CLINICFLOW_ENV must be 'development' or 'production', not {ENV!r}.")
PRODUCTION = ENV == "production"
# The key committed for development: the production profile refuses to start with it.
DEV_SECRET_KEY = "dev-only-insecure-key-clinicflow-0123456789-abcdefghijklmnopqrstuvwxyz"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


if PRODUCTION:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment (at least 50 characters).")
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY is the committed development key; set a secret one.")
    if _env_bool("DEBUG", False):
        raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=0).")
    if not _env_bool("MFA_REQUIRED", True):
        raise ImproperlyConfigured("MFA_REQUIRED must be on in production (unset it or set it to 1).")
    if os.environ.get("MESSAGE_DELIVERY", "").strip().lower() == "demo_inbox":
        raise ImproperlyConfigured(
            "MESSAGE_DELIVERY=demo_inbox is the demo's channel; unset it in production."
        )
    DEBUG = False
    ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set in the environment in production.")
    if not os.environ.get("FIELD_ENCRYPTION_KEYS", "").strip():
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be set in production (kid:base64 32-byte key, ...)."
        )
    if not os.environ.get("BLIND_INDEX_KEY", "").strip():
        raise ImproperlyConfigured(
            "BLIND_INDEX_KEY must be set in production (a base64 key of at least 32 bytes)."
        )
    from clinicflow.core.crypto import parse_encryption_keys, parse_index_key

    parse_encryption_keys(os.environ["FIELD_ENCRYPTION_KEYS"])
    parse_index_key(os.environ["BLIND_INDEX_KEY"])
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    DEBUG = _env_bool("DEBUG", True)
    ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")


# Field encryption (CR-03, clinicflow/core/crypto.py): "kid:base64key,kid2:base64key", the first key
# encrypts, every key decrypts; the blind-index key makes the HMAC of phones and e-mail for lookups.
# Unset (development, tests): both derived from SECRET_KEY. Malformed keys refuse to start.
FIELD_ENCRYPTION_KEYS = os.environ.get("FIELD_ENCRYPTION_KEYS", "").strip()
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY", "").strip()
if FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEY:
    from clinicflow.core.crypto import parse_encryption_keys, parse_index_key

    if FIELD_ENCRYPTION_KEYS:
        parse_encryption_keys(FIELD_ENCRYPTION_KEYS)
    if BLIND_INDEX_KEY:
        parse_index_key(BLIND_INDEX_KEY)


# The audit chain's keys (LG-02; docs/deployment.md, "Database roles and the audit log").
def _audit_hmac_keys() -> dict[str, str]:
    """The audit chain's HMAC keys, ``kid -> secret``, the first signing new rows: AUDIT_HMAC_KEYS is
    "kid:secret,kid:secret" (newest first; keep old keys so old links verify), AUDIT_HMAC_KEY one
    secret (key id "k1"). Development falls back to a key derived from the committed dev key."""
    raw, single = os.environ.get("AUDIT_HMAC_KEYS", "").strip(), os.environ.get("AUDIT_HMAC_KEY", "").strip()
    if raw and single:
        raise ImproperlyConfigured("Set AUDIT_HMAC_KEYS or AUDIT_HMAC_KEY, not both.")
    if not raw and not single:
        if PRODUCTION:
            raise ImproperlyConfigured("AUDIT_HMAC_KEY (or AUDIT_HMAC_KEYS) must be set in production.")
        return {"dev": hashlib.sha256(f"clinicflow-audit:{DEV_SECRET_KEY}".encode()).hexdigest()}
    keys: dict[str, str] = {}
    for item in raw.split(",") if raw else [f"k1:{single}"]:
        kid, _sep, secret = item.strip().partition(":")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", kid) or not secret or kid in keys:
            raise ImproperlyConfigured("AUDIT_HMAC_KEYS must be 'kid:secret,...' with distinct key ids.")
        if PRODUCTION and (len(secret) < 32 or secret == SECRET_KEY):
            raise ImproperlyConfigured("Each audit HMAC key must be at least 32 characters, not SECRET_KEY.")
        keys[kid] = secret
    return keys


AUDIT_HMAC_KEYS = _audit_hmac_keys()
# On: a writer also chains its row when the organisation's chain is free (never waiting for it), so
# `seq` is there at once (development, tests). Off (production default): rows are chained after commit
# by the chainer (`clinicflow worker`, `verify_audit`), the cheapest for concurrent writers.
AUDIT_CHAIN_INLINE = _env_bool("AUDIT_CHAIN_INLINE", not PRODUCTION)

CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")
# Reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed; empty: the connection is the client.
TRUSTED_PROXIES = _env_list("TRUSTED_PROXIES", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # django-ninja's own Swagger UI build (static/ninja/): the API explorer at /api/v1/docs is then
    # served by the project instead of a CDN the CSP blocks.
    "ninja",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "clinicflow.core",
    "clinicflow.accounts",
    "clinicflow.patients",
    "clinicflow.catalogue",
    "clinicflow.booking",
    "clinicflow.acquisition",
    "clinicflow.messaging",
    "clinicflow.clinical",
    "clinicflow.ledger",
    "clinicflow.care",
    "clinicflow.feedback",
    "clinicflow.imports",
    "clinicflow.fhir",
    "clinicflow.marketing",
    "clinicflow.webhooks",
    "clinicflow.privacy",
    "clinicflow.analytics",
    "clinicflow.simulator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # remembers upload file names as sent, so the photo upload can refuse "../../x.jpg" (issue #14)
    "clinicflow.clinical.upload_names.UploadNamesMiddleware",
    # 503 (not a 500 page) when the database is unreachable or the disk full; early, to see every
    # failure below it (docs/deployment.md, "When the database or the disk fails")
    "clinicflow.core.middleware.ServiceUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinicflow.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "clinicflow.core.middleware.ApiContentTypeMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinicflow.accounts.middleware.SessionIdleTimeoutMiddleware",
    "clinicflow.accounts.mfa.MfaEnforcementMiddleware",
    "clinicflow.core.middleware.TenantMiddleware",
    # refuses (451) to serve an organisation whose database or files are outside its region (docs/privacy.md)
    "clinicflow.privacy.residency.ResidencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinicflow.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
    "clinicflow.core.middleware.PageMethodsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinicflow.accounts.context_processors.clinicflow",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------------
# The hottest PostgreSQL statement (a call-tracking webhook event) is prepared once per connection;
# switch off behind a pooler that cannot keep prepared statements (pgbouncer < 1.21 in transaction mode).
DB_PREPARED_STATEMENTS = _env_bool("DB_PREPARED_STATEMENTS", True)
_DEFAULT_SQLITE = BASE_DIR / "var" / "clinicflow.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            # A persistent connection is checked with a round trip at the start of each request;
            # switch off where a pooler (pgbouncer) does it, to save that round trip.
            conn_health_checks=_env_bool("DB_CONN_HEALTH_CHECKS", True),
        )
    }
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # an unreachable server fails the request (503) in seconds instead of hanging a worker
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["OPTIONS"].setdefault(
            "connect_timeout", int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
        )
    if PRODUCTION and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["OPTIONS"].setdefault("sslmode", os.environ.get("DB_SSLMODE", "require"))
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(_DEFAULT_SQLITE)),
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }

# The shared store of rate-limit counters (and any cache): Redis when REDIS_URL is set, else the
# database cache (table created by core migration 0004); both are shared by every worker process.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinicflow_cache"}
    }
# Keeps installations (or CI runs) that share one Redis apart; every process of one must use the same.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "")
# Seconds a 503 (database unreachable, disk full) tells clients to wait before retrying.
SERVICE_UNAVAILABLE_RETRY_AFTER = int(os.environ.get("SERVICE_UNAVAILABLE_RETRY_AFTER", "30"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "clinicflow.accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
]
LOGIN_URL = "accounts:login"
LOGIN_URL_PATH = "/accounts/login/"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes): per account and per IP.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "clinicflow.accounts.views.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# the client address behind the proxies in TRUSTED_PROXIES (clinicflow.core.net)
AXES_CLIENT_IP_CALLABLE = "clinicflow.core.net.client_ip"

# Sessions: idle timeout and absolute lifetime.
SESSION_IDLE_TIMEOUT_SECONDS = int(os.environ.get("SESSION_IDLE_TIMEOUT_SECONDS", str(30 * 60)))
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", str(12 * 60 * 60)))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS  # slides with activity; the middleware enforces the limit
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION or _env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_NAME = "__Host-cf_session" if SESSION_COOKIE_SECURE else "cf_session"
CSRF_COOKIE_NAME = "__Host-cf_csrf" if CSRF_COOKIE_SECURE else "cf_csrf"
LANGUAGE_COOKIE_NAME = "cf_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Security headers ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "clinicflow" / "core" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = BASE_DIR / "var" / "media"
# Clinical photos: a storage of their own, never under MEDIA and never served by URL (only through
# the authorising view). Local disk outside every public folder by default; S3-compatible object
# storage (AWS S3, MinIO, Yandex Object Storage, Alibaba OSS, ...) with CLINICAL_PHOTO_S3_BUCKET set:
# private objects, never overwritten, under CLINICAL_PHOTO_S3_PREFIX. Any other Django storage class
# by CLINICAL_PHOTO_STORAGE_BACKEND.
S3_PHOTO_BACKEND = "storages.backends.s3.S3Storage"
if os.environ.get("CLINICAL_PHOTO_S3_BUCKET"):
    STORAGES["clinical_photos"] = {
        "BACKEND": S3_PHOTO_BACKEND,
        "OPTIONS": {
            "bucket_name": os.environ["CLINICAL_PHOTO_S3_BUCKET"],
            "endpoint_url": os.environ.get("CLINICAL_PHOTO_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("CLINICAL_PHOTO_S3_REGION") or None,
            "access_key": os.environ.get("CLINICAL_PHOTO_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("CLINICAL_PHOTO_S3_SECRET_KEY") or None,
            "location": os.environ.get("CLINICAL_PHOTO_S3_PREFIX", "clinical-photos"),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    STORAGES["clinical_photos"] = {
        "BACKEND": os.environ.get(
            "CLINICAL_PHOTO_STORAGE_BACKEND", "clinicflow.clinical.storage.PrivateFileStorage"
        ),
        "OPTIONS": {
            "location": os.environ.get("CLINICAL_PHOTO_ROOT", str(BASE_DIR / "var" / "private" / "photos"))
        },
    }
CLINICAL_PHOTO_MAX_BYTES = int(os.environ.get("CLINICAL_PHOTO_MAX_BYTES", str(15 * 1024 * 1024)))
CLINICAL_PHOTO_MAX_PIXELS = int(os.environ.get("CLINICAL_PHOTO_MAX_PIXELS", str(40_000_000)))
# Uploads over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) are written to FILE_UPLOAD_TEMP_DIR (the system's
# temporary folder when unset); a full disk there drops the upload whole (clinicflow.core.uploads).
FILE_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("FILE_UPLOAD_MAX_MEMORY_SIZE", str(2621440)))
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "clinicflow.core.uploads.DiskFullSafeUploadHandler",
]

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"crlf": {"()": "clinicflow.core.logging.NeutraliseNewlinesFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["crlf"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Clinicflow ---------------------------------------------------------------------------------
CLINICFLOW: dict[str, Any] = {
    "API_TOKEN_TTL_DAYS": int(os.environ.get("API_TOKEN_TTL_DAYS", "90")),
    "UNIQUE_CALL_WINDOW_DAYS": int(os.environ.get("UNIQUE_CALL_WINDOW_DAYS", "30")),
    "DEFAULT_PAGE_SIZE": 50,
    # Absolute address of this installation, for links in SMS and e-mail (booking manage links, surveys).
    "PUBLIC_URL": os.environ.get("CLINICFLOW_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
    # Two-factor authentication for every staff user (on by default in production).
    "MFA_REQUIRED": _env_bool("MFA_REQUIRED", PRODUCTION),
}
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinicflow@localhost")
# Data-residency region of the SMTP relay (RU, CN, EU, OTHER).
EMAIL_REGION = os.environ.get("EMAIL_REGION", "")
SMS_PROVIDER_URL = os.environ.get("SMS_PROVIDER_URL", "")
SMS_PROVIDER_TOKEN = os.environ.get("SMS_PROVIDER_TOKEN", "")
SMS_PROVIDER_REGION = os.environ.get("SMS_PROVIDER_REGION", "OTHER")
SMS_PROVIDER_TIMEOUT = float(os.environ.get("SMS_PROVIDER_TIMEOUT", "15"))
