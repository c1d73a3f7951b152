"""Default settings. Overridden by instance/config.py, then PORTAL_* environment variables, then tests."""
from datetime import timedelta


class Defaults:
    PORTAL_ENV = "development"
    SQLALCHEMY_DATABASE_URI = None  # filled in create_app: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Attachments may be up to 20 MB; leave room for the multipart envelope.
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "ko"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("ko", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    # Flask's own cookie only carries the server-side session id; it must not outlive the absolute timeout.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Not re-signed and re-sent on every page: it lives as long as the absolute timeout from the login, and the
    # idle timeout is kept on the server (UserSession.last_seen_at).
    SESSION_REFRESH_EACH_REQUEST = False

    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)
    LOGIN_PENDING_TIMEOUT = timedelta(minutes=5)
    INVITATION_VALIDITY = timedelta(hours=72)
    PASSWORD_RESET_VALIDITY = timedelta(hours=1)
    # argon2id: RFC 9106's low-memory profile (3 passes over 64 MiB, 4 lanes). Tests set the minimum;
    # production refuses less than 2 passes over 19 MiB (portal/accounts/passwords.py).
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_COST = 64 * 1024  # KiB
    PASSWORD_HASH_PARALLELISM = 4

    RATELIMIT_ENABLED = True
    # Counters in memory are per worker process: in production use Redis (redis://host:6379/0), shared by
    # every worker and host. memory:// is refused in production unless RATELIMIT_ALLOW_MEMORY is true.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ALLOW_MEMORY = False
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "30 per minute;300 per hour"

    WTF_CSRF_TIME_LIMIT = None  # the CSRF token lives as long as the session, which has its own limits

    # E-mail: messages always go to the outbox; they are sent only when an SMTP host is configured.
    MAIL_SMTP_HOST = None
    MAIL_SMTP_PORT = 25
    MAIL_SMTP_USERNAME = None
    MAIL_SMTP_PASSWORD = None
    MAIL_SMTP_STARTTLS = False
    MAIL_SENDER = "Platform Cooperation Portal <no-reply@portal.invalid>"
    MAIL_MAX_ATTEMPTS = 8
    # Webhooks: each attempt waits this many seconds at most for each step (connect, send, answer); a
    # delivery without a 2xx answer is retried with backoff, this many attempts in all (about 4 hours).
    WEBHOOK_TIMEOUT = 5
    WEBHOOK_MAX_ATTEMPTS = 8
    # Links in e-mails are absolute; set this to the public address in production.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # An RFC 3161 timestamp authority (its HTTP address) whose timestamps the signatures of commitments carry;
    # empty: none. TIMESTAMP_TIMEOUT: seconds to wait for its answer.
    TIMESTAMP_URL = ""
    TIMESTAMP_TIMEOUT = 10
    # The code version named in the transparency report's manifest (e.g. the release tag or commit);
    # empty: the checkout's git commit, or "unknown".
    CODE_VERSION = ""

    AUDIT_CSV_MAX_ROWS = 100_000
    # The audit chain's HMAC keys (see README, "Audit log keys and checkpoints"): required in production.
    AUDIT_KEY = None
    AUDIT_KEY_FILE = None
    AUDIT_UNKEYED_UNTIL = 0
    # Refused requests (404, bad API token, CSRF, rate limit) recorded per client address and minute; past
    # it, one `refused.capped` row and nothing more until the minute is over.
    AUDIT_REFUSALS_PER_MINUTE = 30

    # How many reverse proxies stand in front of the portal, each adding one address to X-Forwarded-For
    # (and setting X-Forwarded-Proto/Host). 0: the headers are not trusted and the peer's address is kept.
    TRUSTED_PROXIES = 0

    # Secrets at rest (TOTP secrets, webhook signing secrets) are encrypted with SECRETS_KEY (a Fernet key,
    # or SECRETS_KEY_FILE naming a file that holds one). Keys retired by a rotation stay readable while
    # listed in SECRETS_RETIRED_KEYS (comma-separated) until `flask secrets reencrypt` has run.
    SECRETS_KEY = None
    SECRETS_KEY_FILE = None
    SECRETS_RETIRED_KEYS = ""
