"""Medfront settings, read from the environment (12-factor).

With nothing set and DEBUG on, the project runs on SQLite with Celery eager and a development
key set generated once into `.dev-secrets.json`. With DEBUG off every secret must be given.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab
from csp import constants as csp_keywords
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import secrets as secret_store
from config.settings.environment import BASE_DIR, DEBUG, TESTING, env

# Lets Django's generic classes be subscripted at run time, as django-stubs types them
# (`models.TextField[str, str]` in portal.fields).
django_stubs_ext.monkeypatch()


# --- Secrets -----------------------------------------------------------------------------------
_given = {name: secret_store.read_secret(name) for name in secret_store.SECRET_NAMES}
if DEBUG and not all(_given.values()):
    _dev = secret_store.load_development_secrets(
        Path(env.str("DEV_SECRETS_FILE", default=str(BASE_DIR / ".dev-secrets.json")))
    )
    _given = {name: value or _dev[name] for name, value in _given.items()}

SECRET_KEY = secret_store.validate_secret_key(_given["SECRET_KEY"])
FIELD_ENCRYPTION_KEYS = secret_store.validate_field_encryption_keys(_given["FIELD_ENCRYPTION_KEYS"])
BLIND_INDEX_KEY = secret_store.validate_blind_index_key(
    _given["BLIND_INDEX_KEY"], FIELD_ENCRYPTION_KEYS
)
# Audit seals are HMACs under this key (portal.audit_keys); earlier keys only verify old seals.
AUDIT_SEAL_KEY = secret_store.validate_audit_seal_key(
    _given["AUDIT_SEAL_KEY"], other_secrets=[SECRET_KEY, *FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY]
)
AUDIT_SEAL_RETIRED_KEYS = secret_store.validate_audit_seal_retired_keys(
    secret_store.read_secret("AUDIT_SEAL_RETIRED_KEYS")
)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The clinic network's name as patients know it: page headers, titles, e-mails and texts.
NETWORK_NAME = env.str("NETWORK_NAME", default="Medfront")

# --- Applications ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "portal.admin_site.MedfrontAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "guardian",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Medfront apps, in dependency order: an app imports only from apps above it.
    "portal",
    "notifications",
    "scheduling",
    # Caller ID and call KPIs: reads portal and scheduling; no app imports it.
    "telephony",
    "crm",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.request_guard.MalformedRequestMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.StaffIdleTimeoutMiddleware",
    "portal.middleware.StaffMfaRequiredMiddleware",
    "portal.middleware.TryLaterMiddleware",
    "portal.middleware.DisplayTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
_db = DATABASES["default"]
_db["CONN_HEALTH_CHECKS"] = True
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Serialized writers: BEGIN IMMEDIATE takes the write lock up front, so two bookings can
    # never interleave their check-then-insert on SQLite (PostgreSQL uses constraints instead).
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _db["CONN_MAX_AGE"] = 0
    # The funnel's covering index (INCLUDE columns) is a PostgreSQL speed-up; SQLite builds
    # it without them, which is what the demo needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db.setdefault("OPTIONS", {})
    # Django's psycopg pool: each process keeps at most DATABASE_POOL_MAX_SIZE connections open
    # and lends one to a request while it runs. A connection per request costs ~3x throughput,
    # and runserver's thread per request would otherwise open one per concurrent request until
    # PostgreSQL refuses clients (DESIGN.md). Django requires CONN_MAX_AGE = 0 with the pool.
    _db["CONN_MAX_AGE"] = 0
    _pool = _db["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
        # Seconds a request waits for a free connection before it fails.
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
    if _pool["min_size"] < 0 or _pool["max_size"] < max(_pool["min_size"], 1):
        raise ImproperlyConfigured(
            "DATABASE_POOL_MAX_SIZE must be positive and at least DATABASE_POOL_MIN_SIZE."
        )
    # Server-side binding lets psycopg prepare the statements a connection repeats (planning is
    # most of a short query's cost), and pooled connections live long enough to reuse them.
    # Django leaves preparing off; here a statement is prepared on its fifth run. Behind a
    # pooler in transaction mode (PgBouncer), set DATABASE_PREPARE_THRESHOLD=0 (never).
    _db["OPTIONS"].setdefault(
        "server_side_binding", env.bool("DATABASE_SERVER_SIDE_BINDING", default=True)
    )
    _prepare_threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    _db["OPTIONS"].setdefault(
        "prepare_threshold", _prepare_threshold if _prepare_threshold > 0 else None
    )
    _db["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=None)}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="medfront"),
            "KEY_FUNCTION": "portal.crypto.cache_key",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "portal.crypto.cache_key",
        }
    }

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers keep Django's LOGGING (its handlers scrub phones and e-mails); Celery would otherwise
# replace the root logger's handlers with its own, unfiltered ones.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# How often the beat seals the audit trail: events stay unsealed (and quietly removable by a
# database administrator) at most AUDIT_SEAL_GRACE plus this long.
AUDIT_SEAL_INTERVAL = timedelta(seconds=env.int("AUDIT_SEAL_INTERVAL_SECONDS", default=60))
if AUDIT_SEAL_INTERVAL.total_seconds() < 1:
    raise ImproperlyConfigured("AUDIT_SEAL_INTERVAL_SECONDS must be at least 1.")
# Booking-critical messages and mass sends (reminders, campaigns) are dispatched on their own
# queues, served by their own workers (README, "Message queues and rate limits").
CELERY_TASK_ROUTES = {
    "notifications.tasks.dispatch_due_messages": {"queue": "critical"},
    "notifications.tasks.dispatch_bulk_messages": {"queue": "bulk"},
    "notifications.tasks.purge_old_messages": {"queue": "bulk"},
    # A campaign's messages are queued in one long task: never on the critical queue.
    "crm.tasks.send_campaign": {"queue": "bulk"},
    "analytics.tasks.refresh_rollups": {"queue": "bulk"},
}
CELERY_BEAT_SCHEDULE = {
    "outbox-dispatch": {"task": "notifications.tasks.dispatch_due_messages", "schedule": 15.0},
    "outbox-dispatch-bulk": {
        "task": "notifications.tasks.dispatch_bulk_messages",
        "schedule": 15.0,
    },
    "audit-seal": {
        "task": "portal.tasks.seal_audit_events",
        "schedule": AUDIT_SEAL_INTERVAL.total_seconds(),
    },
    "outbox-purge": {"task": "notifications.tasks.purge_old_messages", "schedule": crontab(0, 3)},
    "holds-purge": {"task": "scheduling.tasks.purge_expired_holds", "schedule": 300.0},
    # Uploaded patient files (PII) not run within CRM_IMPORT_KEEP_HOURS are deleted.
    "imports-purge": {"task": "crm.tasks.purge_stale_imports", "schedule": crontab(minute=41)},
    "booking-requests-escalate": {
        "task": "scheduling.tasks.escalate_booking_requests",
        "schedule": 60.0,
    },
    # Reminders are recorded at most this late after their time (plus the dispatch's delay).
    "reminders-enqueue": {"task": "scheduling.tasks.enqueue_due_reminders", "schedule": 120.0},
    # Waitlist offers: expired batches move on to the next one (and deferred ones go out).
    "waitlist-offers-advance": {
        "task": "scheduling.tasks.advance_waitlist_offers",
        "schedule": 30.0,
    },
    "unpaid-bookings-release": {
        "task": "scheduling.tasks.release_unpaid_bookings",
        "schedule": 60.0,
    },
    "idempotency-purge": {
        "task": "portal.tasks.purge_idempotency_records",
        "schedule": crontab(minute=17),
    },
    "crm-leads": {"task": "crm.tasks.follow_leads", "schedule": 60.0},
    # Segments and the funnel read these facts; what changed since is counted live.
    "crm-activity": {"task": "crm.tasks.refresh_activity", "schedule": 60.0},
    # Dashboards: the days whose visits, rollbacks or schedules changed are rolled up again.
    "analytics-rollups": {"task": "analytics.tasks.refresh_rollups", "schedule": 300.0},
    "crm-assistant-purge": {"task": "crm.tasks.purge_assistant_transcripts", "schedule": 86400.0},
    # Connector clinics: health, and this week's free times fetched before patients ask.
    "connectors-sync": {"task": "scheduling.tasks.sync_connectors", "schedule": 60.0},
}

# --- CRM ----------------------------------------------------------------------------------------
# A new lead should hear from the clinic within this many minutes; later it is escalated.
CRM_FIRST_CONTACT_MINUTES = env.int("CRM_FIRST_CONTACT_MINUTES", default=15)
if CRM_FIRST_CONTACT_MINUTES < 1:
    raise ImproperlyConfigured("CRM_FIRST_CONTACT_MINUTES must be at least 1.")
# The assistant rebuilds its vocabulary when the catalogue changes, and at least this often.
ASSISTANT_VOCABULARY_TTL = env.int("ASSISTANT_VOCABULARY_TTL", default=300)
if ASSISTANT_VOCABULARY_TTL < 1:
    raise ImproperlyConfigured("ASSISTANT_VOCABULARY_TTL must be at least 1 (seconds).")
# The assistant: how soon an operator answers a handed-over conversation, and how long
# transcripts are kept (counted from the last message).
ASSISTANT_OPERATOR_SLA_MINUTES = env.int("ASSISTANT_OPERATOR_SLA_MINUTES", default=15)
ASSISTANT_RETENTION_DAYS = env.int("ASSISTANT_RETENTION_DAYS", default=365)
if ASSISTANT_OPERATOR_SLA_MINUTES < 1 or ASSISTANT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(
        "ASSISTANT_OPERATOR_SLA_MINUTES and ASSISTANT_RETENTION_DAYS must be at least 1."
    )
# Which engine answers: "embedded" (no network, the default) or "openai" (any
# OpenAI-compatible chat-completions server with tool calling: a hosted gateway, vLLM, Ollama).
# The model only reads the message and picks tools; on any failure the embedded engine answers.
ASSISTANT_ENGINE = env.str("ASSISTANT_ENGINE", default="embedded")
ASSISTANT_LLM_BASE_URL = env.str("ASSISTANT_LLM_BASE_URL", default="").rstrip("/")
ASSISTANT_LLM_API_KEY = secret_store.read_secret("ASSISTANT_LLM_API_KEY") or ""
ASSISTANT_LLM_MODEL = env.str("ASSISTANT_LLM_MODEL", default="")
ASSISTANT_LLM_TIMEOUT = env.float("ASSISTANT_LLM_TIMEOUT", default=8.0)
if ASSISTANT_ENGINE not in ("embedded", "openai"):
    raise ImproperlyConfigured('ASSISTANT_ENGINE must be "embedded" or "openai".')
if ASSISTANT_ENGINE == "openai" and not (
    ASSISTANT_LLM_BASE_URL.startswith(("http://", "https://")) and ASSISTANT_LLM_MODEL
):
    raise ImproperlyConfigured(
        "ASSISTANT_ENGINE=openai needs ASSISTANT_LLM_BASE_URL (http or https) and "
        "ASSISTANT_LLM_MODEL."
    )
if not 0 < ASSISTANT_LLM_TIMEOUT <= 60:
    raise ImproperlyConfigured("ASSISTANT_LLM_TIMEOUT must be between 0 and 60 seconds.")
# Website forms: how many enquiries one address may send an hour.
CRM_FORM_LIMIT_PER_HOUR = env.int("CRM_FORM_LIMIT_PER_HOUR", default=10)
# Sites allowed to frame the lead form (the CSP frame-ancestors of that page only).
CRM_FORM_FRAME_ANCESTORS = env.list("CRM_FORM_FRAME_ANCESTORS", default=["https:"])
# Patient import: the largest file and row count accepted, the rows committed per chunk
# (the cursor advances per chunk), and the similarity (0-100) that flags a probable duplicate.
CRM_IMPORT_MAX_BYTES = env.int("CRM_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
CRM_IMPORT_MAX_ROWS = env.int("CRM_IMPORT_MAX_ROWS", default=100_000)
CRM_IMPORT_CHUNK_ROWS = env.int("CRM_IMPORT_CHUNK_ROWS", default=500)
CRM_DUPLICATE_MIN_SCORE = env.int("CRM_DUPLICATE_MIN_SCORE", default=85)
CRM_IMPORT_KEEP_HOURS = env.int("CRM_IMPORT_KEEP_HOURS", default=24)

# --- Cancellation waitlist ----------------------------------------------------------------------
# How long a batch of offers (and the engine's hold of the slot) lasts, and how many waiting
# patients each batch reaches.
WAITLIST_OFFER_MINUTES = env.int("WAITLIST_OFFER_MINUTES", default=7)
WAITLIST_BATCH_SIZE = env.int("WAITLIST_BATCH_SIZE", default=3)
if WAITLIST_OFFER_MINUTES < 1 or WAITLIST_BATCH_SIZE < 1:
    raise ImproperlyConfigured("WAITLIST_OFFER_MINUTES and WAITLIST_BATCH_SIZE must be at least 1.")
# How many days ahead a schedule change is searched for times it opened (1-62): a new weekly
# rule opens its hours for months, but only the near future is offered to waiting patients.
WAITLIST_SCHEDULE_DAYS = env.int("WAITLIST_SCHEDULE_DAYS", default=14)
if not 1 <= WAITLIST_SCHEDULE_DAYS <= 62:
    raise ImproperlyConfigured("WAITLIST_SCHEDULE_DAYS must be from 1 to 62.")

# --- Connectors (clinics whose schedule lives in an external system) --------------------------
# Free slots of a connector clinic are cached this long, so peaks do not hammer its system.
CONNECTOR_SLOTS_CACHE_SECONDS = env.int("CONNECTOR_SLOTS_CACHE_SECONDS", default=60)
# The circuit opens after this many failed calls in a row and tries again after the reset time.
CONNECTOR_BREAKER_FAIL_MAX = env.int("CONNECTOR_BREAKER_FAIL_MAX", default=5)
CONNECTOR_BREAKER_RESET_SECONDS = env.float("CONNECTOR_BREAKER_RESET_SECONDS", default=30.0)
# Calls kept in the log per connector (older ones are purged by the sync job).
CONNECTOR_CALL_LOG_DAYS = env.int("CONNECTOR_CALL_LOG_DAYS", default=14)

# --- Payments: the online prepayment provider (config/settings/payments.py) --------------------
from config.settings.payments import *  # noqa: E402, F403

# --- Auth --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
    "portal.auth.backends.CapabilityPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:landing"

ACCOUNT_ADAPTER = "portal.auth.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# Sign in by e-mail or phone, with a password or a one-time code (SMS for phones). Phones live
# only on the encrypted Patient profile (see portal.auth.adapter).
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "phone", "password1*", "password2*"]
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# SMS codes are six digits: easy to type on a phone keyboard in any layout. allauth limits the
# attempts per code (ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS) and its lifetime.
_SMS_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_LOGIN_BY_CODE_FORMAT = _SMS_CODE_FORMAT
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = _SMS_CODE_FORMAT
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# The code forms add the lockout and the code limits to allauth's checks (portal.auth.code_forms).
ACCOUNT_FORMS = {
    "login": "portal.auth.forms.LoginForm",
    "request_login_code": "portal.auth.code_forms.RequestLoginCodeForm",
    "confirm_login_code": "portal.auth.code_forms.ConfirmLoginCodeForm",
    "verify_phone": "portal.auth.code_forms.VerifyPhoneForm",
    "change_phone": "portal.auth.code_forms.ChangePhoneForm",
}
# Failed sign-ins (passwords, sign-in codes, second-factor codes, the API) are counted per
# account + IP by portal.services.lockout; allauth's own per-account counter would lock an
# account from every address at once.
# Codes sent per phone or e-mail are limited by portal.services.code_limits under keyed
# digests; allauth's per-key parts would keep a plain SHA-256 of the number in the cache.
ACCOUNT_RATE_LIMITS = {
    "login_failed": None,
    "request_login_code": "20/m/ip",
    "verify_phone": "3/m/ip",
}
MFA_ADAPTER = "portal.auth.mfa_adapter.MFAAdapter"
MFA_FORMS = {
    "authenticate": "portal.auth.code_forms.MfaAuthenticateForm",
    "reauthenticate": "portal.auth.code_forms.MfaReauthenticateForm",
    "activate_totp": "portal.auth.code_forms.ActivateTotpForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = NETWORK_NAME
# One 30-second step either side: phone clocks drift.
MFA_TOTP_TOLERANCE = 1

# Staff sessions on shared front-desk PCs end after this much inactivity.
STAFF_IDLE_TIMEOUT = timedelta(minutes=env.int("STAFF_IDLE_TIMEOUT_MINUTES", default=30))
# Demo staff may skip MFA only while DEBUG is on (see portal.middleware).
MFA_EXEMPT_DEMO_STAFF = DEBUG and env.bool("MFA_EXEMPT_DEMO_STAFF", default=True)
# Failed sign-ins per account + client IP before a cool-off.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
# Client IP comes from X-Forwarded-For only when a trusted proxy count is configured.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Failed sign-ins from one client IP over all accounts before that address cools off too: a
# ceiling against credential stuffing, far above what a clinic's shared NAT address produces.
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=50)
# One-time codes (sign-in, phone verification, consent signing) per phone and per patient,
# whatever the purpose: a pause between two codes, then at most so many codes sent and so many
# wrong codes typed within the window (portal.services.code_limits).
CODE_RESEND_INTERVAL = timedelta(seconds=env.int("CODE_RESEND_SECONDS", default=60))
CODE_SEND_LIMIT = env.int("CODE_SEND_LIMIT", default=5)
CODE_GUESS_LIMIT = env.int("CODE_GUESS_LIMIT", default=10)
CODE_LIMIT_WINDOW = timedelta(minutes=env.int("CODE_LIMIT_WINDOW_MINUTES", default=60))
# Lockout and rate limits must be counted in one store for every worker (REDIS_URL); only
# test and benchmark settings may run without DEBUG on a per-process cache (portal.checks).
ALLOW_UNSHARED_CACHE = False

# API tokens (django-rest-knox, hashed): one per sign-in, expiring; staff tokens sooner, and
# also after STAFF_IDLE_TIMEOUT without a request (portal.api.authentication).
API_TOKEN_TTL = timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=24 * 30))
API_TOKEN_TTL_STAFF = timedelta(hours=env.int("API_TOKEN_TTL_STAFF_HOURS", default=12))
if not timedelta(0) < API_TOKEN_TTL_STAFF <= API_TOKEN_TTL:
    raise ImproperlyConfigured(
        "API_TOKEN_TTL_STAFF_HOURS must be positive and at most API_TOKEN_TTL_HOURS."
    )
KNOX_TOKEN_MODEL = "portal.ApiToken"  # noqa: S105 - a model name, not a secret
# knox's migrations create its own token table even when swapped out (django-rest-knox #196):
# an empty table whose foreign key to users stops PostgreSQL from truncating them. knox has no
# other model, so it runs without migrations; the swapped model is never created.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_TTL": API_TOKEN_TTL, "AUTH_HEADER_PREFIX": "Token", "AUTO_REFRESH": False}

# --- Email -------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Medfront <noreply@medfront.local>")
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = secret_store.read_secret("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)

# --- i18n --------------------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# English date formats of our own (config/formats/en): unambiguous "7 Dec 2026".
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
# Times on pages: the reader's clinic zone, else this default (DisplayTimezoneMiddleware).
DISPLAY_TIME_ZONE = env.str("DISPLAY_TIME_ZONE", default="Europe/Moscow")
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="RU")

# --- Static ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- REST API ----------------------------------------------------------------------------------


def _throttle_rate(name: str, default: str) -> str | None:
    """`<count>/<second|minute|hour|day>` from the environment; empty turns the limit off."""
    rate = env.str(name, default=default).strip()
    if not rate:
        return None
    count, _slash, period = rate.partition("/")
    if not count.isdigit() or period[:1] not in ("s", "m", "h", "d"):
        raise ImproperlyConfigured(f"{name} must look like 600/minute (or be empty): {rate!r}")
    return rate


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.MfaEnforcingTokenAuthentication",
        "portal.api.authentication.MfaEnforcingSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "portal.api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Counted in the default cache (Redis when configured) by portal.throttling. A clinic's
    # booking widget reads slots anonymously from each patient's browser, and hundreds of
    # patients may share one address (an office or a mobile operator's NAT): the anonymous
    # rates are generous per IP and stop only a scraper or a loop.
    "DEFAULT_THROTTLE_RATES": {
        "slots_anon": _throttle_rate("THROTTLE_SLOTS_ANON", "600/minute"),
        "fhir_anon": _throttle_rate("THROTTLE_FHIR_ANON", "600/minute"),
        "auth_token": _throttle_rate("THROTTLE_AUTH_TOKEN", "30/minute"),
        "patient_search": _throttle_rate("THROTTLE_PATIENT_SEARCH", "30/minute"),
        "assistant_anon": _throttle_rate("THROTTLE_ASSISTANT_ANON", "30/minute"),
        "assistant_user": _throttle_rate("THROTTLE_ASSISTANT_USER", "60/minute"),
    },
    # The same proxy rule as portal.request_context.client_ip, for DRF's own get_ident.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Medfront API",
    "DESCRIPTION": "Booking, patients and clinics of a Medfront network. Errors are RFC 9457 "
    "problem details (application/problem+json).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from the drf-spectacular-sidecar package: no CDN (DESIGN.md).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security ----------------------------------------------------------------------------------
# Request bodies: forms (Django) and JSON (portal.api.parsers) alike; larger ones are a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)
# Nesting levels a JSON body may have (FHIR resources need about eight).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
CSRF_FAILURE_VIEW = "config.error_views.csrf_failure"
# Content-Security-Policy (django-csp 4): our own files only, no inline script, no inline style,
# no framing. Pico's icons are data: images; the TOTP QR code is a data: image too. The API
# docs pages widen style-src for their bundles (config.api).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_keywords.SELF],
        "script-src": [csp_keywords.SELF],
        "style-src": [csp_keywords.SELF],
        "img-src": [csp_keywords.SELF, "data:"],
        "font-src": [csp_keywords.SELF],
        "connect-src": [csp_keywords.SELF],
        "object-src": [csp_keywords.NONE],
        "base-uri": [csp_keywords.SELF],
        "form-action": [csp_keywords.SELF],
        "frame-ancestors": [csp_keywords.NONE],
    },
}
# The language cookie says nothing secret, but it is sent like the others: over HTTPS only
# (without DEBUG), not to scripts, not with cross-site requests.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
# Sessions hold pending sign-in phones and e-mails: encrypted with FIELD_ENCRYPTION_KEYS.
SESSION_SERIALIZER = "portal.sessions.EncryptedJSONSerializer"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    LANGUAGE_COOKIE_SECURE = env.bool("LANGUAGE_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging (no PII: see portal.logging.PiiScrubFilter) --------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub_pii": {"()": "portal.logging.PiiScrubFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["scrub_pii"],
        },
        "audit_seals": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint narrates every layout step at INFO; its warnings are what matters.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Seal heads are an audit sink (portal.audit_sink): always written, whatever LOG_LEVEL,
        # and not through the PII scrubber, which would take a 10-digit event id or a run of
        # digits inside a digest for a phone number. They hold only ids, digests and times.
        "medfront.audit.seals": {"handlers": ["audit_seals"], "level": "INFO", "propagate": False},
        # runserver's request lines: Django's default handler for them has no filter.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Medfront ----------------------------------------------------------------------------------
AUDIT_SEAL_GRACE = timedelta(seconds=env.int("AUDIT_SEAL_GRACE_SECONDS", default=60))
# Append-only file that receives each seal's head (one JSON line) besides the log; unset: the
# log only. `verify_audit_chain` compares the database with it.
AUDIT_SEAL_SINK_FILE = env.str("AUDIT_SEAL_SINK_FILE", default="")
# Digest of the last seal made before seals were keyed: unkeyed seals up to it verify as a
# legacy segment. Unset: an unkeyed seal is a finding.
AUDIT_SEAL_LEGACY_HEAD = env.str("AUDIT_SEAL_LEGACY_HEAD", default="")
# Sent, failed and cancelled messages older than this are deleted by the nightly purge, which
# keeps their per-day counts (notifications.MessageDailyCount).
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=90)
if OUTBOX_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("OUTBOX_RETENTION_DAYS must be at least 1.")
# Calls per window of seconds per provider (sender name), e.g. "smsru=20/1,twilio=100/1";
# a provider not named is not limited. A message over the limit waits for the next window.
NOTIFICATION_RATE_LIMITS: dict[str, tuple[int, int]] = {}
for _provider, _limit in env.dict("NOTIFICATION_RATE_LIMITS", default={}).items():
    _calls, _sep, _seconds = _limit.partition("/")
    if not (_calls.isdigit() and _seconds.isdigit() and int(_calls) > 0 and int(_seconds) > 0):
        raise ImproperlyConfigured(
            "NOTIFICATION_RATE_LIMITS must list provider=calls/seconds, e.g. smsru=20/1."
        )
    NOTIFICATION_RATE_LIMITS[_provider] = (int(_calls), int(_seconds))
# A message left `sending` longer than this is claimed again: its worker died mid-send.
# Keep it well above the slowest provider's answer time.
OUTBOX_CLAIM_TIMEOUT_SECONDS = env.int("OUTBOX_CLAIM_TIMEOUT_SECONDS", default=300)
# Sender per channel, e.g. "sms=myproviders.SmsRu,email=myproviders.Smtp"; channels not named
# use the development sender, which delivers nothing and is refused without DEBUG unless
# NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER says so (notifications.apps).
NOTIFICATION_SENDERS = env.dict("NOTIFICATION_SENDERS", default={})
NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER = env.bool(
    "NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER", default=False
)
DEV_OUTBOX_ENABLED = env.bool("DEV_OUTBOX_ENABLED", default=DEBUG)
# The development sender's delivery log (one JSON line per public id, no address or text).
DEV_OUTBOX_LOG = env.str("DEV_OUTBOX_LOG", default="")
# Telephony webhooks: how far a signed timestamp may lie from now, and the longest call kept
# on a caller panel (a Zadarma event is refused when its call started longer ago).
TELEPHONY_WEBHOOK_TOLERANCE_SECONDS = env.int("TELEPHONY_WEBHOOK_TOLERANCE_SECONDS", default=300)
TELEPHONY_MAX_CALL_HOURS = env.int("TELEPHONY_MAX_CALL_HOURS", default=6)
# A missed call is due to be rung back this long after it ended.
TELEPHONY_CALLBACK_DUE_MINUTES = env.int("TELEPHONY_CALLBACK_DUE_MINUTES", default=15)
# How often a registrar's browser asks the caller panel for the ringing call.
TELEPHONY_POLL_SECONDS = env.int("TELEPHONY_POLL_SECONDS", default=2)
if not 1 <= TELEPHONY_POLL_SECONDS <= 60 or TELEPHONY_WEBHOOK_TOLERANCE_SECONDS < 1:
    raise ImproperlyConfigured(
        "TELEPHONY_POLL_SECONDS must lie between 1 and 60 and "
        "TELEPHONY_WEBHOOK_TOLERANCE_SECONDS be positive."
    )
# Tests only: the development sender answers this much later (a worker killed mid-send).
DEV_SENDER_DELAY_SECONDS = env.float("DEV_SENDER_DELAY_SECONDS", default=0.0)

# --- SMS providers and the Telegram bot (config/settings/messaging.py) -------------------------
from config.settings.messaging import *  # noqa: E402, F403
