"""Settings for the governance platform.

Everything is read from the environment through the typed helpers in `governance.env`. With no
environment at all the app runs on a laptop: DEBUG on, a SQLite file and an embedded Celery broker
in `DATA_DIR`. With `DATABASE_URL` and `REDIS_URL` it runs on PostgreSQL and Redis. `DEBUG=0`
turns on every production safeguard and refuses to start without a real `SECRET_KEY` and
`ALLOWED_HOSTS`. `.env.example` and docs/configuration.md list every variable.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from governance.env import env_bool, env_float, env_int, env_list, env_rates, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (50+ random characters).")
    # Only reachable with DEBUG on: a laptop demo, never a deployment.
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on-" + "x" * 16
elif not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured("SECRET_KEY is too short or too simple: use 50+ random characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when DEBUG is off.")
if "*" in ALLOWED_HOSTS and not DEBUG:
    raise ImproperlyConfigured("ALLOWED_HOSTS='*' is refused when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "governance.admin_site.AdministratorsAdminConfig",  # django.contrib.admin, for administrators only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "governance",
    "grids",
    "residents",
    "appeals",
    "analytics",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "governance.middleware.PrivateResponseMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions, CSRF and every view: a NUL byte never reaches a query (a 400, not a 500).
    "governance.middleware.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware, taking the user read with the session (governance/sessions.py).
    "governance.sessions.SessionUserMiddleware",
    "governance.sessions.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a log-in refused by django-axes into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

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
                "governance.context_processors.staff",
                "appeals.context_processors.bell",
            ],
            # `{{ user|person_name }}` everywhere: names in Chinese order.
            "builtins": ["governance.templatetags.people"],
        },
    },
]

# --- Web worker ---------------------------------------------------------------------------------
# The cyclic garbage collector's thresholds in a web worker (governance/runtime.py): collections of
# the youngest generation every N allocations, and how many of them before the older ones. Python's
# own (700,10,10) run one every few page views, in the middle of them. Empty: leave Python's.
GC_THRESHOLDS = env_list("GC_THRESHOLDS", ["100000", "50", "100"])
if GC_THRESHOLDS and (
    len(GC_THRESHOLDS) != 3 or not all(value.isdigit() and int(value) > 0 for value in GC_THRESHOLDS)
):
    raise ImproperlyConfigured(f"GC_THRESHOLDS={','.join(GC_THRESHOLDS)!r} is not three positive integers.")
GC_THRESHOLDS = [int(value) for value in GC_THRESHOLDS]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
# Statements every request sends (the session's) are prepared once per PostgreSQL connection
# (governance/prepared.py). Off behind a pooler in transaction mode, which moves a client between
# server connections.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "governance.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside a writer, IMMEDIATE makes
    # a writer take the lock at BEGIN (no deadlock-prone upgrade), and the timeout waits it out.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker -----------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
# Seconds to wait for the broker before giving up on an enqueue; durable work lives in rows and a
# sweeper finishes it later, so a short wait keeps the public form answering while Redis is down.
# A stalled broker costs one request up to 3 × this (the publish, a reconnect, one retry).
BROKER_TIMEOUT = env_float("BROKER_TIMEOUT", 0.8, minimum=0.1)
# After a failed enqueue, a process stops trying the broker for this many seconds (the sweepers
# finish the work), so one request pays BROKER_TIMEOUT during an outage, not every request.
BROKER_RETRY_AFTER = env_float("BROKER_RETRY_AFTER", 30.0, minimum=0.0)
# The cache's socket connect/read timeout in seconds: a stalled Redis costs a request this long,
# then the cache answers as if empty (governance/cache.py).
CACHE_TIMEOUT = env_float("CACHE_TIMEOUT", 0.3, minimum=0.05)
# After a failed cache call, seconds a process works without the cache before trying Redis again.
CACHE_RETRY_AFTER = env_float("CACHE_RETRY_AFTER", 10.0, minimum=0.0)
# Sessions live in the database, never only in Redis: login and staff pages work while it is down.
# Database sessions that know their user (governance/sessions.py): one query loads session, user
# and posts; "log out everywhere" deletes the user's rows. A session unused for its idle time ends.
SESSION_ENGINE = "governance.sessions"
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_IDLE_SECONDS_RESIDENT = env_int("SESSION_IDLE_SECONDS_RESIDENT", 7 * 24 * 3600, minimum=60)
SESSION_IDLE_REFRESH_SECONDS = env_int("SESSION_IDLE_REFRESH_SECONDS", 60, minimum=1)

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "governance.cache.FailSoftRedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    # kombu's Redis transport, keeping the client it publishes with (governance/broker.py).
    CELERY_BROKER_TRANSPORT = "governance.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": BROKER_TIMEOUT,
        "socket_connect_timeout": BROKER_TIMEOUT,
        "visibility_timeout": 3600,
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The embedded broker: kombu's filesystem transport, one folder of message files shared by
    # web, worker and beat on the same machine. No server to run.
    BROKER_DIR = DATA_DIR / "broker"
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }

CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "Asia/Shanghai"
# Publishing must fail fast rather than hang a request: one quick retry, then the caller's
# pending-work row is left for the sweeper.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked account or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "governance.sessions.SessionUserBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Client address, lock-outs and rate limits (docs/permissions.md) ------------------------
# How many reverse proxies in front of the app append to X-Forwarded-For. 0: the header is ignored
# and the peer address is the client (anyone can forge the header). governance/clientip.py.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
# Staff log-in (form and the API's Basic auth), django-axes: this many failures lock the username
# and the address for the cool-off; each further failure during it restarts it.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "governance.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "governance.views.login_locked_out"
AXES_HTTP_RESPONSE_CODE = 429
# Tracking by number + phone: this many failures for one tracking number lock it for
# TRACKING_LOCK_MINUTES whatever the address, and TRACKING_DAILY_LOCK_AFTER within a day lock it
# for the day. The SMS link (/petitions/t/<token>/) is never locked.
TRACKING_LOCK_AFTER = env_int("TRACKING_LOCK_AFTER", 5, minimum=1)
TRACKING_LOCK_MINUTES = env_int("TRACKING_LOCK_MINUTES", 30, minimum=1)
TRACKING_DAILY_LOCK_AFTER = env_int("TRACKING_DAILY_LOCK_AFTER", 20, minimum=1)
# Rates are comma-separated N/s, N/min, N/h or N/d, each counted per client address (or key/user).
RATE_TRACKING_FAILURES = env_rates("RATE_TRACKING_FAILURES", "20/h")  # wrong look-ups per address
RATE_TRACKING = env_rates("RATE_TRACKING", "30/min")  # tracking API requests per address
RATE_PETITION_FORM = env_rates("RATE_PETITION_FORM", "5/min,50/h")  # public form submissions per address
RATE_OPEN311_POST = env_rates("RATE_OPEN311_POST", "30/min,1000/d")  # Open311 POSTs per api_key
RATE_API_CREATE = env_rates("RATE_API_CREATE", "30/min")  # API submissions per user
# The public address of the site, for links in text messages (https://gov.example.org). Empty: the
# messages carry the path only.
SITE_URL = env_url("SITE_URL", schemes=("http", "https")).rstrip("/")

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["governance.api.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "governance.api.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": [
        "governance.api.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_METADATA_CLASS": "governance.api.ApiMetadata",
    "DEFAULT_SCHEMA_CLASS": "governance.api_schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "governance.errors.api_exception_handler",
    # DRF's own get_ident follows the same proxy rule (our throttles call governance.clientip).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Grid governance API",
    "DESCRIPTION": "Petitions, areas and reports of the grid-based community governance platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status": each choice set gets its own component name.
    "ENUM_NAME_OVERRIDES": {
        "PetitionStatusEnum": "appeals.models.Status",
        "ReportStatusEnum": "analytics.models.ReportStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "governance.api_schema.api_schema_add_error_responses",
    ],
}
# The most rows one API page answers, whatever `limit` asks (integer >= 1).
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200, minimum=1)

# --- Grids --------------------------------------------------------------------------------------
# How often (seconds) a process checks whether boundaries changed elsewhere and its point-lookup
# index must be rebuilt. The process that changes boundaries rebuilds at once.
SPATIAL_INDEX_CHECK_SECONDS = env_float("SPATIAL_INDEX_CHECK_SECONDS", 5.0, minimum=0.0)

# --- Security -----------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# No inline scripts or styles anywhere (templates load static/js files); the API docs page relaxes
# styles only (drf-spectacular's inline <style>), in governance/urls.py.
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
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Behind a TLS-terminating proxy (nginx, a load balancer) that sets X-Forwarded-Proto.
    if env_bool("SECURE_PROXY_SSL_HEADER", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- Working calendar -----------------------------------------------------------------------------
# The working periods of a working day, Asia/Shanghai local time, for deadlines in working hours
# and working days (governance/workcalendar.py, docs/working-time.md). Parsed here so a typo stops
# start-up instead of silently moving every deadline.


def parse_working_hours(value: str, *, name: str = "WORKING_HOURS") -> tuple[tuple[time, time], ...]:
    """`"08:30-12:00,14:00-17:30"` → ((08:30, 12:00), (14:00, 17:30)); ascending, not overlapping."""
    periods: list[tuple[time, time]] = []
    for part in value.split(","):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", part)
        if not match:
            raise ImproperlyConfigured(
                f"{name}={value!r}: {part.strip()!r} is not a period like 08:30-12:00; "
                "write comma-separated HH:MM-HH:MM periods."
            )
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r}: {part.strip()!r} is not a valid time of day.") from None
        if start >= end:
            raise ImproperlyConfigured(f"{name}={value!r}: {part.strip()!r} ends before it starts.")
        if periods and start < periods[-1][1]:
            raise ImproperlyConfigured(f"{name}={value!r}: periods must be in order and must not overlap.")
        periods.append((start, end))
    return tuple(periods)


WORKING_HOURS = parse_working_hours(env_str("WORKING_HOURS", "08:30-12:00,14:00-17:30"))

# --- Input ---------------------------------------------------------------------------------------------
# The earliest date a client may supply (hotline received times, API and Open311 date filters); the
# latest is the end of tomorrow. A year-0001 row once stopped routing for the whole district.
_earliest = env_str("EARLIEST_DATE", "2000-01-01")
try:
    EARLIEST_DATE = date.fromisoformat(_earliest)
except ValueError:
    raise ImproperlyConfigured(f"EARLIEST_DATE={_earliest!r} is not a date like 2000-01-01.") from None

# --- Petitions --------------------------------------------------------------------------------------
# Dotted path of the class that sends notifications (SMS, WeChat template messages…); the default
# logs them. The outbox and retries are the same whatever the channel.
NOTIFICATION_BACKEND = env_str("NOTIFICATION_BACKEND", "appeals.services.notifications.ConsoleBackend")
# For appeals.services.notifications.WebhookBackend: the gateway that turns JSON into SMS/WeChat.
NOTIFICATION_WEBHOOK_URL = env_url("NOTIFICATION_WEBHOOK_URL", schemes=("http", "https"))
NOTIFICATION_WEBHOOK_TIMEOUT = env_float("NOTIFICATION_WEBHOOK_TIMEOUT", 5.0, minimum=0.1)
PETITION_MAX_REOPENS = env_int("PETITION_MAX_REOPENS", 2, minimum=0)
# A resident's form posted again (Back, then Submit) with the same title, description and phone
# within this many seconds returns the first petition instead of filing a second one (0: off).
PETITION_DUPLICATE_WINDOW_SECONDS = env_int("PETITION_DUPLICATE_WINDOW_SECONDS", 600, minimum=0)
# Repeat complaints: same category, within this distance (metres) or the same micro-grid, text at
# least this similar (character-bigram Jaccard), submitted within this many days.
REPEAT_DISTANCE_METRES = env_int("REPEAT_DISTANCE_METRES", 150, minimum=0)
REPEAT_SIMILARITY = env_float("REPEAT_SIMILARITY", 0.3, minimum=0.0)
REPEAT_WINDOW_DAYS = env_int("REPEAT_WINDOW_DAYS", 30, minimum=1)
# Resolved petitions nobody rated are closed after this many days (after the call-back window).
PETITION_AUTO_CLOSE_DAYS = env_int("PETITION_AUTO_CLOSE_DAYS", 7, minimum=1)
# Satisfaction rate = (满意 + w × 基本满意) ÷ rated: the weight w of "basically satisfied" (0..1).
SATISFACTION_BASIC_WEIGHT = env_float("SATISFACTION_BASIC_WEIGHT", 1.0, minimum=0.0)
if SATISFACTION_BASIC_WEIGHT > 1:
    raise ImproperlyConfigured(f"SATISFACTION_BASIC_WEIGHT={SATISFACTION_BASIC_WEIGHT} is above the maximum 1.")

# --- Monthly report (docs/analytics.md) ------------------------------------------------------------
# Rounds ending by these steps owe no acceptance: excluded from the response rate's denominator.
REPORT_RESPONSE_EXCLUDED_END_EVENTS = env_list("REPORT_RESPONSE_EXCLUDED_END_EVENTS", ["returned", "merged"])
# Below this many cases a unit is not ranked and a category is not called a riser or faller.
REPORT_MIN_VOLUME = env_int("REPORT_MIN_VOLUME", 5, minimum=1)
# The rate units and departments are ranked by: response, resolution or satisfaction.
REPORT_RANK_BY = env_str("REPORT_RANK_BY", "satisfaction")
if REPORT_RANK_BY not in ("response", "resolution", "satisfaction"):
    raise ImproperlyConfigured(f"REPORT_RANK_BY={REPORT_RANK_BY!r}: use response, resolution or satisfaction.")
# How many categories the top list, the risers and the fallers show.
REPORT_TOP_CATEGORIES = env_int("REPORT_TOP_CATEGORIES", 10, minimum=1)
# Monthly report, hotspots: a grid's risk = Σ weight × (its count ÷ the area's largest), over
# petitions, repeat complaints, overdue rounds and 不满意 outcomes. Weights 0..1, summing to 1.
REPORT_RISK_WEIGHTS = {
    "volume": env_float("REPORT_RISK_WEIGHT_VOLUME", 0.4, minimum=0.0),
    "repeats": env_float("REPORT_RISK_WEIGHT_REPEATS", 0.3, minimum=0.0),
    "overdue": env_float("REPORT_RISK_WEIGHT_OVERDUE", 0.2, minimum=0.0),
    "unsatisfied": env_float("REPORT_RISK_WEIGHT_UNSATISFIED", 0.1, minimum=0.0),
}
if abs(sum(REPORT_RISK_WEIGHTS.values()) - 1) > 1e-6:
    raise ImproperlyConfigured(f"REPORT_RISK_WEIGHT_* sum to {sum(REPORT_RISK_WEIGHTS.values())}, not 1.")

# --- 12345 hotline import ----------------------------------------------------------------------------
# Which column of a hotline export (CSV or XLSX, header row) feeds which petition field: a JSON
# object {"<column header>": "<field>"} in HOTLINE_COLUMNS. Exports differ between cities and
# between versions of the hotline system, so this is configuration, not code (docs/hotline.md).
HOTLINE_FIELDS = (
    "order_no",
    "received_at",
    "contact_name",
    "contact_phone",
    "title",
    "description",
    "address",
    "category",
    "lon",
    "lat",
    "urgency",
)
HOTLINE_DEFAULT_COLUMNS = {
    "工单编号": "order_no",
    "来电时间": "received_at",
    "来电人": "contact_name",
    "联系电话": "contact_phone",
    "诉求标题": "title",
    "诉求内容": "description",
    "问题地址": "address",
    "问题分类": "category",
    "经度": "lon",
    "纬度": "lat",
    "紧急程度": "urgency",
}


def parse_hotline_columns(
    value: str, *, name: str = "HOTLINE_COLUMNS", fields: tuple[str, ...] = HOTLINE_FIELDS
) -> dict[str, str]:
    """A JSON object of column header → field; every field known (one of `fields`), none mapped twice."""
    import json

    try:
        mapping = json.loads(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is not valid JSON ({error}).") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(field, str) for key, field in mapping.items()
    ):
        raise ImproperlyConfigured(f'{name} must be a JSON object of strings, like {{"工单编号": "order_no"}}.')
    unknown = sorted(set(mapping.values()) - set(fields))
    if unknown:
        raise ImproperlyConfigured(
            f"{name} maps to unknown field(s) {', '.join(unknown)}; known fields: {', '.join(fields)}."
        )
    targets = list(mapping.values())
    twice = sorted({field for field in targets if targets.count(field) > 1})
    if twice:
        raise ImproperlyConfigured(f"{name} maps several columns to {', '.join(twice)}; map each field once.")
    return {key.strip(): field for key, field in mapping.items()}


_hotline_columns = env_str("HOTLINE_COLUMNS")
HOTLINE_COLUMNS = parse_hotline_columns(_hotline_columns) if _hotline_columns else dict(HOTLINE_DEFAULT_COLUMNS)

# The reply-back (回单) export: its columns in order, {"<column header>": "<field>"} in
# HOTLINE_REPLY_COLUMNS, like the import's (docs/hotline.md).
HOTLINE_REPLY_FIELDS = ("order_no", "tracking_no", "result", "reply", "unit", "unit_code", "resolved_at", "round")
HOTLINE_REPLY_DEFAULT_COLUMNS = {
    "工单编号": "order_no",
    "办理结果": "result",
    "回复内容": "reply",
    "承办单位": "unit",
    "办结时间": "resolved_at",
}
_hotline_reply_columns = env_str("HOTLINE_REPLY_COLUMNS")
HOTLINE_REPLY_COLUMNS = (
    parse_hotline_columns(_hotline_reply_columns, name="HOTLINE_REPLY_COLUMNS", fields=HOTLINE_REPLY_FIELDS)
    if _hotline_reply_columns
    else dict(HOTLINE_REPLY_DEFAULT_COLUMNS)
)

# --- Open311 -----------------------------------------------------------------------------------------
# Our GeoReport v2 jurisdiction; a request naming another one gets 404 (an empty one is ignored).
OPEN311_JURISDICTION_ID = env_str("OPEN311_JURISDICTION_ID", "shibei.qingdao.gov.cn")
# GET requests is a public tracker by default (masked, generalised, bounded); 0 makes it take an api_key.
OPEN311_PUBLIC_REQUESTS = env_bool("OPEN311_PUBLIC_REQUESTS", True)

# --- Personal data at rest (docs/personal-data.md) -----------------------------------------------------
# Fernet keys (44 url-safe base64 characters each), comma-separated, newest first: the first encrypts,
# all decrypt. Unset: one key derived from SECRET_KEY (changing SECRET_KEY then loses the data, so set
# your own in production). Rotate: put a new key first, run `manage.py personal_data_rekey`, drop the old.
PERSONAL_DATA_KEYS = env_list("PERSONAL_DATA_KEYS")
# The key of the blind indexes (HMAC-SHA256 of ID numbers and phones for exact lookup), 32+ characters.
# Unset: derived from SECRET_KEY. Changing it needs every index recomputed (`personal_data_rekey --reindex`).
PERSONAL_DATA_HASH_KEY = env_str("PERSONAL_DATA_HASH_KEY")
PERSONAL_DATA_KEYS_DERIVED = not PERSONAL_DATA_KEYS
if not PERSONAL_DATA_KEYS:
    import base64 as _base64
    import hashlib as _hashlib

    PERSONAL_DATA_KEYS = [
        _base64.urlsafe_b64encode(_hashlib.sha256(b"personal-data-encryption:" + SECRET_KEY.encode()).digest()).decode()
    ]
for _key in PERSONAL_DATA_KEYS:
    if len(_key) != 44:
        raise ImproperlyConfigured(
            "PERSONAL_DATA_KEYS must list Fernet keys of 44 characters "
            "(python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )
if not PERSONAL_DATA_HASH_KEY:
    import hashlib as _hashlib

    PERSONAL_DATA_HASH_KEY = _hashlib.sha256(b"personal-data-blind-index:" + SECRET_KEY.encode()).hexdigest()
elif len(PERSONAL_DATA_HASH_KEY) < 32:
    raise ImproperlyConfigured("PERSONAL_DATA_HASH_KEY is too short: use 32+ random characters.")
# Days a moved-away resident's name, ID number and phone are kept after the move-out date; then the
# daily purge blanks them (the record and its history stay, with their status). 0 keeps them forever.
RESIDENT_MOVED_AWAY_RETENTION_DAYS = env_int("RESIDENT_MOVED_AWAY_RETENTION_DAYS", 365, minimum=0)
# --- Report PDF ------------------------------------------------------------------------------------
# The Chromium that prints a report's PDF (analytics/render/pdf.py): Debian's package, never a
# browser Playwright downloads. scripts/test, scripts/demo and the Dockerfile install it.
CHROMIUM_PATH = env_str("CHROMIUM_PATH", "/usr/bin/chromium")
