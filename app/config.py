"""Configuration defaults; instance/config.py and SIPROC_* environment variables override them."""
import json
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    """Code defaults. Every key can be overridden in instance/config.py or as SIPROC_<KEY>."""

    SQLALCHEMY_DATABASE_URI = None  # resolved to instance/siproc.db in create_app
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    BPMN_DIR = str(PROJECT_ROOT / "workflows" / "bpmn")
    FORMS_DIR = str(PROJECT_ROOT / "forms")
    REFERENCE_DIR = str(PROJECT_ROOT / "app" / "reference" / "data")
    BABEL_DEFAULT_LOCALE = "es"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ["es"]
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure cookies: browsers send them only over HTTPS, and also to http://127.0.0.1 and http://localhost
    # (Chromium keeps them there), so `make run` works with the production value.
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_IDLE_MINUTES = 30  # an idle session is closed; the next request goes to the login page
    LOGIN_MAX_FAILURES_PER_USER = 5  # failures of one username from one address in the window lock that pair
    LOGIN_MAX_FAILURES_PER_IP = 20  # failed attempts from one IP address within the window throttle it
    LOGIN_WINDOW_MINUTES = 15
    LOGIN_LOCKOUT_MINUTES = 15
    LOGIN_CODE_MINUTES = 5  # time to type the second-factor code after the password
    # Argon2id cost of new password hashes: argon2-cffi's defaults (RFC 9106 low-memory profile). A stored hash
    # made with other values is rehashed with these at the user's next login. Only the test suite lowers them.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536  # KiB
    ARGON2_PARALLELISM = 4
    TOTP_REQUIRED_FOR_CENTRAL = False  # analysts, process managers and administrators must use a second factor
    # Reverse proxies in front of SIPROC whose X-Forwarded-For/-Proto/-Host are trusted. 0: none, the peer's
    # address is the client's. Behind one HTTPS proxy set 1, or every login would share the proxy's address.
    TRUSTED_PROXIES = 0
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # Sessions and login (issue 14)
    SESSION_ABSOLUTE_HOURS = 12  # a session ends this long after the login, even in constant use
    LOGIN_USER_SLOWDOWN_AFTER = 10  # failures for one username (any addresses, within the window) before slowing
    LOGIN_USER_DELAY_MAX_SECONDS = 120  # cap of that slow-down: 1 s, 2 s, 4 s ... per further failure
    LOGIN_KNOWN_ADDRESS_DAYS = 30  # an address the user logged in from within these days is never slowed down
    HSTS_ALWAYS = False  # send Strict-Transport-Security on plain http too (only when every client uses HTTPS)
    SCHEDULER_INTERVAL_SECONDS = 30  # how often the sweep fires due timers and applies deadline rules
    SWEEP_BATCH = 1000  # due instances handled per sweep (the rest wait for the next one)
    SCHEDULER_ENABLED = False  # set by the processes that run the scheduler (siproc serve); /listo then checks it
    SWEEP_LEASE_SECONDS = 300  # a crashed sweep's lease expires after this; then another scheduler may sweep
    # Break-glass (issue 14): read-only access to another office's case after stating a reason, notified
    EMERGENCY_ACCESS_ENABLED = True
    EMERGENCY_ACCESS_HOURS = 2
    # Budgets of diagram code (conditions, scripts, timers), enforced by the interpreter while it runs
    DIAGRAM_CODE_MS = 50  # one expression or script
    DIAGRAM_CODE_MAX_BYTES = 1_000_000  # any one value it builds (text, list, dict, integer)
    DIAGRAM_CODE_MAX_DEPTH = 32  # nesting of values and of the code itself
    DIAGRAM_RUN_MS = 1000  # all diagram code of one request or scheduler job
    DIAGRAM_RUN_MAX_TASKS = 2000  # automatic steps (gateways, scripts, events) of one request or job
    ESCALATION_DAYS = 7  # an overdue task is escalated to the office's supervisors after this many days
    # Follow-up reminder (issue 17) when the last follow-up gave no «próxima fecha», and its repeat after a typed
    # date (which fires at 9:00 office time): an ISO 8601 duration such as P7D, P3D or PT48H
    FOLLOW_UP_REMINDER_DEFAULT = "P7D"
    BASE_URL = "http://127.0.0.1:5000"  # used in links of e-mailed notices
    # Referrals (issue 16): answer deadline when neither the officer nor the institution's catalogue row gives one;
    # the institution's link lifetime; link requests per address in the window (refused ones count apart)
    REFERRAL_DEFAULT_DAYS = 5
    REFERRAL_LINK_DAYS = 30
    REFERRAL_LINK_WINDOW_MINUTES = 10
    REFERRAL_LINK_MAX_REQUESTS = 60
    REFERRAL_LINK_MAX_REFUSED = 10
    MAIL_SERVER = None  # SMTP host; None: notices stay in the app only
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_FROM = "SIPROC <siproc@localhost>"
    MAIL_TIMEOUT_SECONDS = 10
    MAIL_MAX_AGE_HOURS = 48  # a notice not e-mailed within this time is no longer sent
    INBOX_PAGE_SIZE = 50
    MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024  # the attachment limit plus the form around it
    UPLOADS_DIR = None  # default: instance/uploads
    DEMO_DATA_ALLOWED = True
    RETENTION_YEARS_AFTER_CLOSURE = 10  # None disables anonymisation of closed cases
    RETENTION_AUTOMATIC = True  # the scheduler applies it daily
    ENCRYPTION_KEYS = None  # list of Fernet keys, first encrypts; default: generated into instance/encryption_keys
    # Audit (issue 14)
    AUDIT_HMAC_KEY = None  # key of the audit chain and anchor; default: generated into instance/audit_key (0600)
    AUDIT_ANCHOR_PATH = None  # append-only anchor file of the seals; default: instance/audit_anchor.log
    AUDIT_ANCHOR_EMAIL = None  # address (e.g. the directorate's) that receives the latest anchor line daily
    AUDIT_ACCESS_LOG_PAGE_SIZE = 50  # rows per page of a case's access log


def load_config(app, overrides=None):
    """Apply defaults, then instance/config.py, then SIPROC_* variables, then explicit overrides."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SIPROC", loads=_loads)
    if "DATABASE_URL" in app.config:
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config.pop("DATABASE_URL")
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "siproc.db")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def _loads(value):
    """Parse environment values as JSON when they are JSON (numbers, booleans), else keep the string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _instance_secret_key(instance_path: Path) -> str:
    """Read instance/secret_key, creating it (mode 0600) on first run; never hard-coded."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
