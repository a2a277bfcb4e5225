"""Settings come from the environment; the defaults give the embedded demo.

DATABASE_URL  default: SQLite under var/ (WAL); e.g. postgres://postgres@127.0.0.1:5432/test
SECRET_KEY    default: generated once and kept in var/secret_key
DEBUG         off unless set to 1/true/yes
ALLOWED_HOSTS comma-separated; default 127.0.0.1,localhost
WANGGE_VAR    where the SQLite file, the secret and uploads live; default ./var
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WANGGE_VAR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # Written once with owner-only permissions; sessions survive restarts.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _flag("DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "wangge.core",
    "wangge.accounts",
    "wangge.areas",
    "wangge.addresses",
    "wangge.registry",
    "wangge.fusion",
    "wangge.cases",
    "wangge.workforce",
    "wangge.proactive",
    "wangge.exchange",
    "wangge.dashboard",
    "wangge.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wangge.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "wangge.urls"
WSGI_APPLICATION = "wangge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "wangge" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "wangge.accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'wangge.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids
    # the lock-upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("WANGGE_TEST_DB") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["wangge.accounts.backends.LockoutModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins before a lockout, and how long it lasts.
WANGGE_LOGIN_MAX_FAILURES = int(os.environ.get("WANGGE_LOGIN_MAX_FAILURES", "5"))
WANGGE_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("WANGGE_LOGIN_LOCKOUT_SECONDS", "900"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "wangge" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "wangge" / "static"]
MEDIA_ROOT = VAR_DIR / "media"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# A RUNNING task older than this is taken as orphaned by a killed worker.
WANGGE_TASK_STALE_SECONDS = int(os.environ.get("WANGGE_TASK_STALE_SECONDS", "600"))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and _flag("WANGGE_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# ---- notifications and periodic ticks (wangge.core.notify, wangge.core.ticks) ----
# External notification channels: name → dotted path of a class with
# `send(recipient, notification)`. The logging ones only write to the
# "wangge.notify" logger; set WANGGE_NOTIFY_EMAIL=wangge.core.notify.EmailChannel
# (and EMAIL_HOST…) to send real mail, or point WANGGE_NOTIFY_SMS at a gateway.
WANGGE_NOTIFY_CHANNELS = {
    "sms": os.environ.get("WANGGE_NOTIFY_SMS", "wangge.core.notify.LoggingSms"),
    "email": os.environ.get("WANGGE_NOTIFY_EMAIL", "wangge.core.notify.LoggingEmail"),
}
# A delivery that keeps failing is given up after this many tries (one a minute).
WANGGE_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("WANGGE_NOTIFY_MAX_ATTEMPTS", "5"))
# A delivery claimed longer ago than this was claimed by a process that died.
WANGGE_NOTIFY_LEASE_SECONDS = int(os.environ.get("WANGGE_NOTIFY_LEASE_SECONDS", "300"))
# Prefixed to notification links in emails, e.g. https://wangge.example.gov.cn
WANGGE_SITE_URL = os.environ.get("WANGGE_SITE_URL", "")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _flag("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "wangge@localhost")

# ---- exports and retention (wangge.core.exports, wangge.core.retention) ----


def _count(name: str, default: int, minimum: int = 1) -> int:
    """A whole number from the environment; a typo stops the start, not a download."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


# An export of more rows than this needs an approved request (导出审批).
WANGGE_EXPORT_APPROVAL_ROWS = _count("WANGGE_EXPORT_APPROVAL_ROWS", 500)
# How long an approval stays valid for its one download.
WANGGE_EXPORT_APPROVAL_DAYS = _count("WANGGE_EXPORT_APPROVAL_DAYS", 3)


def _json_object(name: str) -> dict[str, object] | None:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object, got {type(value).__name__}")
    return value


# Role → sensitivity grade → full | purpose | masked, over the defaults in
# wangge/core/masking.py; checked when the policy is built (a bad entry stops the start).
_masking = _json_object("WANGGE_MASKING_POLICY")
if _masking is not None:
    WANGGE_MASKING_POLICY = _masking
