"""Django settings, built from :mod:`jutaku.config` (the only place that reads the environment)."""

from __future__ import annotations

import secrets

import dj_database_url

from jutaku import config as _config

CONFIG = _config.get()

if CONFIG.secret_key is not None:
    SECRET_KEY = CONFIG.secret_key.value
elif CONFIG.is_production and CONFIG.is_initialised:
    raise _config.ConfigurationError(
        f"The secret key file {CONFIG.secret_key_path} is missing: production refuses to start. "
        "Restore it from the key backup (docs/runbooks/keys.md)."
    )
else:
    # A home that is not initialised yet (only `jutaku init` and `jutaku sim` run there) or a test run.
    SECRET_KEY = secrets.token_urlsafe(50)

DEBUG = False
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "jutaku.accounts",
    "jutaku.audit",
    "jutaku.crypto",
    "jutaku.jobs",
    "jutaku.registry",
    "jutaku.exchange",
    "jutaku.allowlist",
    "jutaku.linkage",
    "jutaku.juki",
    "jutaku.retention",
    "jutaku.subjects",
    "jutaku.web",
]

# The web UI (ADR 0012): our own server-side sessions (jutaku.accounts.sessions, shared with the CLI),
# not Django's session or login machinery; every request is first checked against the terminal registry.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "jutaku.web.middleware.SecurityHeadersMiddleware",
    "jutaku.web.middleware.TerminalMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "jutaku.web.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "jutaku.web.urls"
WSGI_APPLICATION = "jutaku.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.contrib.messages.context_processors.messages",
                "jutaku.web.context.navigation",
            ],
            # Times on every page go through |jst (ADR 0027), without a {% load %} to forget.
            "builtins": ["jutaku.web.templatetags.jst"],
        },
    }
]


def database_settings(cfg: _config.Config) -> dict[str, object]:
    """The default database: PostgreSQL when a URL is given, else SQLite in the home (WAL, big cache)."""
    if cfg.database_url and not cfg.database_url.startswith("sqlite"):
        db = dict(dj_database_url.parse(cfg.database_url, conn_max_age=0))
        db.setdefault("OPTIONS", {})
        return db
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(cfg.sqlite_path),
        "OPTIONS": {
            # One writer at a time from the start of a transaction: the audit chain cannot fork and
            # no deferred transaction dies upgrading its lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            # secure_delete: deleted or overwritten content is zeroed in the file, not left in free space
            # (a bulk deletion must leave nothing readable; ADR 0013).
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-524288; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON"
            ),
        },
    }


DATABASES = {"default": database_settings(CONFIG)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and sessions (ADR 0007; checklist AUTH-01..10) ---------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Argon2id, Django's parameters (m = 100 MiB, t = 2, p = 8): above ASVS's m >= 19 MiB, t >= 2 (AUTH-06).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
# Length and a bundled list of common passwords; no composition rules, no forced rotation (AUTH-06).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "full_name", "staff_id")}},
]
JUTAKU_PASSWORD_MAX_LENGTH = 256
# TOTP (AUTH-03): 30 s steps, +-1 step, no drift learning (a learnt drift would widen the window).
OTP_TOTP_ISSUER = "Jutaku"
OTP_TOTP_SYNC = False
JUTAKU_TOTP_TOLERANCE = 1
# Lockout after this many consecutive failures; a security_admin unlocks (AUTH-04).
JUTAKU_LOGIN_MAX_FAILURES = 5
# Per terminal: at most this many failures in the window, then every attempt is refused (AUTH-04).
JUTAKU_TERMINAL_MAX_FAILURES = 20
JUTAKU_TERMINAL_FAILURE_WINDOW_MINUTES = 15
# Server-side sessions (AUTH-07).
JUTAKU_SESSION_IDLE_MINUTES = 30
JUTAKU_SESSION_ABSOLUTE_HOURS = 10
# Web: only these proxies' X-Forwarded-For is believed (NET-01); empty means none.
JUTAKU_TRUSTED_PROXIES: list[str] = list(CONFIG.trusted_proxies)
# Step-up re-authentication (AUTH-09) is fresh for this long (unmask, approvals, deletion run, roles).
JUTAKU_STEP_UP_MINUTES = 5
# The idle-timeout warning appears this long before the session would end.
JUTAKU_SESSION_WARNING_SECONDS = 120
# Files made for download through the web UI are deleted after download or after this long (FILE-09).
JUTAKU_DOWNLOAD_HOURS = 24
# Uploads through the web UI (a 1,000,000-row kit file is ~120 MB).
JUTAKU_UPLOAD_MAX_BYTES = 512 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Access review: accounts idle longer than this are flagged (AUTH-10).
JUTAKU_REVIEW_IDLE_DAYS = 90

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = None  # served from the packages by WhiteNoise (no collectstatic step)
# Served by WhiteNoise from the packages' static folders (no collectstatic step to forget).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

# Cookies (AUTH-08): host-only, Secure, HttpOnly, SameSite=Strict. The session cookie carries the token
# of a jutaku.accounts session; its lifetime is the browser's (the server ends the session).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = JUTAKU_SESSION_ABSOLUTE_HOURS * 3600
SESSION_COOKIE_NAME = "__Host-jutaku-session" if CONFIG.is_production else "jutaku-session"
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_SECURE = CONFIG.is_production
CSRF_COOKIE_NAME = "__Host-csrftoken" if CONFIG.is_production else "csrftoken"
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SECURE = CONFIG.is_production
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "jutaku.web.views.errors.csrf_failure"
# Security headers (WEB-01); CSP and Cache-Control come from jutaku.web.middleware.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.is_production:
    # HTTPS only (NET-02): TLS at `jutaku serve --certfile/--keyfile` or at a trusted reverse proxy.
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = True
    if CONFIG.trusted_proxies:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"},
                 "incident": {"class": "jutaku.incidents.IncidentHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    # An error in a request: its traceback to a private incident file, one line to the shared log.
    "loggers": {"django.request": {"handlers": ["incident"], "level": "ERROR", "propagate": False}},
}
