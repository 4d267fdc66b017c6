"""AidHub settings, all read from environment variables.

Every variable is documented in README.md and .env.example. With no variables set, AidHub runs
for development: SQLite in the project folder, Celery tasks run eagerly, local-memory cache,
media on local disk and e-mail printed to the console.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from aidhub.templatetags.site_css import csp_source as site_css_csp_source

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env file is read when present, so a developer can keep settings out of the shell.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return env.str(name, default=default)


# The production switch: safe defaults for a public server; everything unsafe is refused.
PRODUCTION = env.bool("AIDHUB_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when AIDHUB_PRODUCTION is on.")

SECRET_KEY = secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")
    SECRET_KEY = "development-only-secret-key-never-use-in-production-aidhub-0123456789"

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names in production.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where people reach this site: used in links sent by e-mail and Telegram.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The admin at a path of your choosing makes it a little harder to find and hammer.
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

INSTALLED_APPS = [
    "modeltranslation",  # before the admin, so its admin mixins register first
    "aidhub.adminsite.AdminConfig",  # django.contrib.admin with bounded date filters
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "aidhub",
    "ledger",
    "notifications",
    "groups",
    "hubs",
    "donations",
    "deliveries",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "aidhub.security.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL in the path or query is a 400, in the reader's language, before any view looks it
    # up in PostgreSQL.
    "aidhub.security.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "aidhub.security.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns django-ratelimit's refusal into our 429 page (RATELIMIT_VIEW).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aidhub.urls"
WSGI_APPLICATION = "aidhub.wsgi.application"
ASGI_APPLICATION = "aidhub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aidhub.roles.context",
            ],
        },
    },
]

# Database -------------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and a Celery worker share the file: WAL lets readers run beside a writer,
    # the timeout waits for the lock instead of failing, and IMMEDIATE takes the write lock at
    # the start of a transaction so two writers never deadlock upgrading a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_TIMEOUT", default=20),
    }
elif env.bool("DATABASE_POOL", default=False):
    # Django's own psycopg pool; persistent connections must then be off.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = True
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the Celery broker and the cache. Unset, tasks run eagerly and the cache is in memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "aidhub",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request must not hang when Redis is down: fail fast, the outbox sweep resends later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TIMEZONE = "UTC"
# Periodic tasks (run by `celery beat`); later issues add their entries here.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
# One-time tokens of visitors without an account (aidhub/idempotency.py) are deleted this many
# hours after they were used: a repeat comes within minutes, and nobody can ask for them.
IDEMPOTENCY_ANONYMOUS_HOURS = env.int("IDEMPOTENCY_ANONYMOUS_HOURS", default=24)
if IDEMPOTENCY_ANONYMOUS_HOURS < 1:
    raise ImproperlyConfigured("IDEMPOTENCY_ANONYMOUS_HOURS must be 1 or more.")
CELERY_BEAT_SCHEDULE["submissions-anonymous-purge"] = {
    "task": "aidhub.tasks.submissions_anonymous_purge",
    "schedule": 3600,
}

# Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failures and refuses locked-out logins
    "django.contrib.auth.backends.ModelBackend",
]
# How many reverse proxies in front of AidHub append to X-Forwarded-For (nginx in front of
# gunicorn: 1; a CDN in front of nginx: 2). 0 ignores the header: anyone can write it.
AIDHUB_TRUSTED_PROXIES = env.int("AIDHUB_TRUSTED_PROXIES", default=0)
if AIDHUB_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("AIDHUB_TRUSTED_PROXIES must be 0 or more.")
# Five wrong passwords for one username from one address lock that pair (never the username
# alone, never the address alone) for an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The lockout, the form rate limits and the API throttles count the same visitor address.
AXES_CLIENT_IP_CALLABLE = "aidhub.ratelimits.client_address"
RATELIMIT_IP_META_KEY = "aidhub.ratelimits.client_address"
# Coordinators, organisers and staff sign in with a second step (TOTP): on in production.
AIDHUB_REQUIRE_2FA = env.bool("AIDHUB_REQUIRE_2FA", default=PRODUCTION)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="AidHub")
# The first enrolment needs a one-time setup link (e-mailed, or issued by a superuser in the
# admin or by `manage.py two_factor_link`); it expires after this many hours.
TWO_FACTOR_SETUP_HOURS = env.int("TWO_FACTOR_SETUP_HOURS", default=24)
# Rate limits (django-ratelimit) count in the cache: Redis in production, shared by processes.
RATELIMIT_VIEW = "aidhub.security.ratelimited"
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
LOGIN_URL = "login"
# Each role lands on the page it works on (aidhub.roles.Roles.start_url).
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "home"

# Languages ------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ru", _("Russian")),
    ("ky", _("Kyrgyz")),
    ("kk", _("Kazakh")),
    ("uz", _("Uzbek")),
    ("tg", _("Tajik")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Translated model data (hubs/translation.py): English is the canonical name the ledger signs
# and the exports keep; an empty translation falls back to it.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
MODELTRANSLATION_PREPOPULATE_LANGUAGE = "en"
# Item(name="Flour") fills name_en whatever language is active.
MODELTRANSLATION_AUTO_POPULATE = "default"
# Date and number formats Django lacks or gets wrong for our readers (Kazakh, English).
FORMAT_MODULE_PATH = ["aidhub.formats"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Bishkek")
USE_TZ = True

# Static files and uploads ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # Any S3-compatible object storage (AWS, MinIO, Backblaze, Yandex Object Storage...).
    media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": secret("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": secret("AWS_SECRET_ACCESS_KEY", default="") or None,
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
        },
    }
else:
    media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": media_storage,
    "staticfiles": {
        # Hashed, compressed files need `collectstatic`; development and tests use plain names
        # (in development `collectstatic` still writes gzipped copies: `make run` serves them).
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if env.bool("AIDHUB_PLAIN_STATIC", default=False)
        else "whitenoise.storage.CompressedStaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
# WhiteNoise serves static files compressed (gzip; brotli too when the brotli package is
# installed) from what `collectstatic` wrote, hashed names as immutable. With DEBUG on it
# serves the source files uncompressed instead, unless WHITENOISE_USE_FINDERS=false: `make run`
# collects the files and sets it.
if env.str("WHITENOISE_USE_FINDERS", default=""):
    WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A receipt PDF is rendered in a child process with these limits; past any of them (or if the
# renderer crashes) the upload is refused. See aidhub/pdfrender.py.
PDF_RENDER_SECONDS = env.float("PDF_RENDER_SECONDS", default=10)
PDF_RENDER_CPU_SECONDS = env.int("PDF_RENDER_CPU_SECONDS", default=10)
PDF_RENDER_MEMORY_MB = env.int("PDF_RENDER_MEMORY_MB", default=512)

# E-mail: printed to the console unless EMAIL_URL names an SMTP server.
email = env.email_url(
    "EMAIL_URL", default="consolemail://" if not PRODUCTION else "smtp://localhost:25"
)
email_options: dict[str, object] = {}
if email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    email_options = {
        "host": email["EMAIL_HOST"],
        "port": email["EMAIL_PORT"] or None,
        "username": email["EMAIL_HOST_USER"],
        "password": secret("EMAIL_HOST_PASSWORD", default="") or email["EMAIL_HOST_PASSWORD"],
        "use_tls": bool(email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(email.get("EMAIL_USE_SSL")),
        "timeout": 10,
    }
MAILERS = {"default": {"BACKEND": email["EMAIL_BACKEND"], "OPTIONS": email_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AidHub <aidhub@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Forms ----------------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security -------------------------------------------------------------------------------------
# Map tiles for the hubs map, fetched only when a visitor presses "Show on a map". Point it at
# your own tile server to keep every request inside your infrastructure.
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")
MAP_TILE_ORIGIN = "/".join(MAP_TILE_URL.split("/")[:3])

# Our own files only: no third-party host may see who reads AidHub (map tiles excepted, on demand).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    # The stylesheet inlined in every page (aidhub/templatetags/site_css.py), by its hash.
    "style-src": [CSP.SELF, site_css_csp_source()],
    "img-src": [CSP.SELF, "data:", "blob:", MAP_TILE_ORIGIN],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SESSION_COOKIE_HTTPONLY = True
# A session lasts SESSION_DAYS from its last change; for staff, coordinators and organisers
# (who sign in twice, aidhub.security) STAFF_SESSION_HOURS, set when they sign in.
SESSION_COOKIE_AGE = env.int("SESSION_DAYS", default=7) * 24 * 3600
STAFF_SESSION_HOURS = env.int("STAFF_SESSION_HOURS", default=12)
if SESSION_COOKIE_AGE <= 0 or STAFF_SESSION_HOURS <= 0:
    raise ImproperlyConfigured("SESSION_DAYS and STAFF_SESSION_HOURS must be 1 or more.")
# No page needs a powerful browser feature, so none is allowed, to us or to anything embedded.
# The camera too: the proof photo comes from <input type=file capture>, which opens the phone's
# own camera app and needs no permission; an in-page QR scanner would need camera=(self).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in [
        "accelerometer", "autoplay", "bluetooth", "browsing-topics", "camera", "display-capture",
        "encrypted-media", "fullscreen", "geolocation", "gyroscope", "hid", "idle-detection",
        "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
        "publickey-credentials-get", "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    ]
}  # fmt: skip
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # /healthz is polled by load balancers over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# The public ledger ----------------------------------------------------------------------------
# The origin names this log in every signed checkpoint; verifiers pin it with the key.
LEDGER_ORIGIN = env.str(
    "LEDGER_ORIGIN",
    default=f"{ALLOWED_HOSTS[0]}/ledger"
    if PRODUCTION and ALLOWED_HOSTS[0] != "*"
    else "aidhub.localhost/ledger",
)
LEDGER_KEY_NAME = env.str("LEDGER_KEY_NAME", default=LEDGER_ORIGIN)
# `manage.py ledger_keygen` makes one. Unset in development: generated into .ledger-key.
LEDGER_SIGNING_KEY = secret("LEDGER_SIGNING_KEY", default="")
LEDGER_DEV_KEY_FILE = BASE_DIR / ".ledger-key"
# Entries per response of /api/ledger/entries and rows per page of /ledger/.
LEDGER_ENTRIES_PER_RESPONSE = 1000
LEDGER_PAGE_SIZE = 50
# Whole-ledger exports are files grown after each checkpoint, in this private folder on every
# machine that serves them (each one rebuilds its own from the database if they are missing).
LEDGER_EXPORT_ROOT = Path(env.str("LEDGER_EXPORT_ROOT", default=str(BASE_DIR / "exports")))
# One fundraiser's export is made on demand: this many at once across the site (in the cache),
# each holding its place at most this long (a process that died gives it back then).
LEDGER_EXPORT_CONCURRENCY = env.int("LEDGER_EXPORT_CONCURRENCY", default=2)
LEDGER_EXPORT_SLOT_SECONDS = env.int("LEDGER_EXPORT_SLOT_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["thumbnails-sweep"] = {
    "task": "ledger.tasks.thumbnails_sweep",
    "schedule": 600,
}
CELERY_BEAT_SCHEDULE["ledger-checkpoint"] = {
    "task": "ledger.tasks.checkpoint_sign",
    "schedule": env.int("LEDGER_CHECKPOINT_SECONDS", default=60),
}

# Money ----------------------------------------------------------------------------------------
NBKR_DAILY_URL = env.str("NBKR_DAILY_URL", default="https://www.nbkr.kg/XML/daily.xml")
CELERY_BEAT_SCHEDULE["rates-fetch"] = {
    "task": "donations.tasks.rates_fetch",
    "schedule": env.int("RATES_FETCH_SECONDS", default=6 * 3600),
}
# A donor's contact is encrypted at rest (aidhub/crypto.py) with these Fernet keys (comma-
# separated, the first encrypts), and erased DONOR_CONTACT_DAYS after the donation was recorded:
# it is there only to send the receipt code. Production must set the key (check --deploy);
# development generates one into FIELD_ENCRYPTION_DEV_KEY_FILE.
FIELD_ENCRYPTION_KEY = secret("FIELD_ENCRYPTION_KEY", default="")
FIELD_ENCRYPTION_DEV_KEY_FILE = BASE_DIR / ".field-key"
DONOR_CONTACT_DAYS = env.int("DONOR_CONTACT_DAYS", default=30)
if DONOR_CONTACT_DAYS < 1:
    raise ImproperlyConfigured("DONOR_CONTACT_DAYS must be 1 or more.")
CELERY_BEAT_SCHEDULE["donor-contacts-purge"] = {
    "task": "donations.tasks.donor_contacts_purge",
    "schedule": 3600,
}

# Deliveries -----------------------------------------------------------------------------------
# A claim that is not dispatched within this many hours is released for someone else.
DELIVERY_CLAIM_HOURS = env.int("DELIVERY_CLAIM_HOURS", default=6)
CELERY_BEAT_SCHEDULE["claims-release-expired"] = {
    "task": "deliveries.tasks.claims_release_expired",
    "schedule": 600,
}

# Notifications ----------------------------------------------------------------------------------
TELEGRAM_BOT_TOKEN = secret("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_BOT_NAME = env.str("TELEGRAM_BOT_NAME", default="")
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org")
# The secret part of the URL Telegram posts updates to (set it with Bot API's setWebhook).
TELEGRAM_WEBHOOK_SECRET = secret("TELEGRAM_WEBHOOK_SECRET", default="")
# Seconds a whole Telegram or webhook call may take (connect, TLS, send, answer), not per read.
NOTIFICATION_HTTP_TIMEOUT = env.float("NOTIFICATION_HTTP_TIMEOUT", default=10)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=5)
# Webhooks to private, loopback or link-local addresses are refused in production (SSRF).
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=not PRODUCTION)
# At most this many webhooks are sent to one host at once; the others wait WEBHOOK_BUSY_DELAY s.
WEBHOOK_PER_HOST = env.int("WEBHOOK_PER_HOST", default=2)
WEBHOOK_BUSY_DELAY = env.float("WEBHOOK_BUSY_DELAY", default=5)
# Webhooks have a queue of their own, so slow receivers never delay e-mail and Telegram: a
# worker must consume it (`celery worker -Q celery,webhooks`, or a second worker `-Q webhooks`).
CELERY_TASK_ROUTES = {"notifications.tasks.webhook_send": {"queue": "webhooks"}}
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
NOTIFICATION_RETRY_BASE = env.float("NOTIFICATION_RETRY_BASE", default=30)
NOTIFICATION_RETRY_MAX = env.float("NOTIFICATION_RETRY_MAX", default=3600)
NOTIFICATION_SENDING_TIMEOUT = env.int("NOTIFICATION_SENDING_TIMEOUT", default=300)
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {
    "task": "notifications.tasks.notifications_sweep",
    "schedule": env.int("NOTIFICATION_SWEEP_SECONDS", default=60),
}
# A subscription never confirmed (the e-mail link never opened, /start never sent to the bot)
# is deleted this many days after it was made.
SUBSCRIPTION_PENDING_DAYS = env.int("SUBSCRIPTION_PENDING_DAYS", default=7)
if SUBSCRIPTION_PENDING_DAYS < 1:
    raise ImproperlyConfigured("SUBSCRIPTION_PENDING_DAYS must be 1 or more.")
CELERY_BEAT_SCHEDULE["subscriptions-pending-purge"] = {
    "task": "notifications.tasks.subscriptions_pending_purge",
    "schedule": 3600,
}
CELERY_BEAT_SCHEDULE["coordinator-digest"] = {
    "task": "deliveries.tasks.coordinator_digest",
    "schedule": 24 * 3600,
}

# The JSON API (api/, docs/api.md) -----------------------------------------------------------
REST_FRAMEWORK = {
    # The offline app runs in the same browser session: session cookie + CSRF header, no tokens.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    # Closed unless a view says otherwise; the public views say AllowAny.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # Per address for the public, per account for volunteers; counted in the cache (Redis).
    "DEFAULT_THROTTLE_CLASSES": [
        "aidhub.ratelimits.AnonThrottle",
        "aidhub.ratelimits.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="120/min"),
        "user": env.str("API_USER_RATE", default="600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AidHub API",
    "DESCRIPTION": "Public, read-only data of AidHub and the volunteers' delivery reports. "
    "See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # File uploads appear as binary in request bodies only.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CategoryEnum": "hubs.models.Category",
        "RequestStatusEnum": "hubs.models.SupplyRequest.Status",
        "FundraiserStatusEnum": "donations.models.Fundraiser.Status",
    },
    # Swagger UI from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
