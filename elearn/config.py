"""Typed configuration, read from the environment (``DATABASE_URL``, ``ELEARN_*``).

Policy numbers of the national plan live in :mod:`elearn.policy`; this module holds deployment settings.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _sso_providers_from_env() -> list[dict[str, str]]:
    """``ELEARN_SSO_PROVIDERS=id1,id2`` and, for each id, every ``ELEARN_SSO_<ID>_<SETTING>`` as ``{setting: value}``
    (lower case, with ``id``); elearn.auth.sso checks them."""
    found = []
    for pid in (p.strip() for p in os.environ.get("ELEARN_SSO_PROVIDERS", "").split(",")):
        if pid:
            prefix = f"ELEARN_SSO_{pid.upper()}_"
            found.append({"id": pid, **{k[len(prefix):].lower(): v for k, v in os.environ.items()
                                        if k.startswith(prefix)}})
    return found


def load_secret_key(instance_path: str) -> str:
    """Return ``ELEARN_SECRET_KEY`` or a key generated once into ``instance/secret_key`` (never committed)."""
    given = os.environ.get("ELEARN_SECRET_KEY")
    if given:
        return given
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two workers starting together must agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class Config:
    """Settings for a running site. Every value can be overridden by an environment variable."""

    def __init__(self, instance_path: str):
        inst = Path(instance_path)
        self.SECRET_KEY = load_secret_key(instance_path)
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{inst / 'elearn.db'}"
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql://"):
            self.SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://" + self.SQLALCHEMY_DATABASE_URI[len("postgresql://"):]
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.ELEARN_DATA_DIR = os.environ.get("ELEARN_DATA_DIR") or str(inst / "data")
        self.ELEARN_INDEX_DIR = os.environ.get("ELEARN_INDEX_DIR") or str(inst / "index")
        # "auto": documents in PostgreSQL when the database is PostgreSQL, else the whoosh index (the default).
        self.ELEARN_SEARCH_BACKEND = os.environ.get("ELEARN_SEARCH_BACKEND") or "auto"
        self.ELEARN_QUEUE_URL = os.environ.get("ELEARN_QUEUE_URL") or ""
        self.ELEARN_QUEUE_FILE = os.environ.get("ELEARN_QUEUE_FILE") or str(inst / "jobs.db")
        self.ELEARN_QUEUE_IMMEDIATE = _env_bool("ELEARN_QUEUE_IMMEDIATE", False)
        self.ELEARN_BACKUP_DIR = os.environ.get("ELEARN_BACKUP_DIR") or str(inst / "backups")
        # The ledger's hash chain: sha256 or sm3 (GB/T 32905) for new entries; each entry names its own.
        self.ELEARN_LEDGER_HASH = os.environ.get("ELEARN_LEDGER_HASH") or "sha256"
        # Ed25519 key signing the ledger's checkpoints (PEM), generated once into instance/ when not given; the
        # checkpoints' copy outside the database is appended to ELEARN_LEDGER_ANCHOR_FILE.
        self.ELEARN_LEDGER_SIGNING_KEY_FILE = os.environ.get("ELEARN_LEDGER_SIGNING_KEY_FILE") or \
            str(inst / "ledger_signing_key.pem")
        self.ELEARN_LEDGER_ANCHOR_FILE = os.environ.get("ELEARN_LEDGER_ANCHOR_FILE") or \
            str(inst / "ledger_checkpoints.jsonl")
        # Secure cookies need HTTPS; set ELEARN_HTTPS=1 behind a TLS-terminating proxy.
        https = _env_bool("ELEARN_HTTPS", False)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = https
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = https
        self.REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * _env_int("ELEARN_REMEMBER_DAYS", 14)
        self.PREFERRED_URL_SCHEME = "https" if https else "http"
        self.ELEARN_HTTPS = https
        self.BABEL_DEFAULT_LOCALE = "zh"
        self.BABEL_DEFAULT_TIMEZONE = os.environ.get("ELEARN_TIMEZONE", "Asia/Shanghai")
        self.ELEARN_LOCALES = ("zh", "en")
        self.MAX_CONTENT_LENGTH = _env_int("ELEARN_MAX_REQUEST_MB", 64) * 1024 * 1024
        self.ELEARN_MAX_UPLOAD_MB = _env_int("ELEARN_MAX_UPLOAD_MB", 8192)
        self.ELEARN_UPLOAD_CHUNK_MB = _env_int("ELEARN_UPLOAD_CHUNK_MB", 8)
        self.ELEARN_MAX_VIDEO_SECONDS = _env_int("ELEARN_MAX_VIDEO_SECONDS", 6 * 3600)
        self.ELEARN_LOGIN_MAX_FAILURES = _env_int("ELEARN_LOGIN_MAX_FAILURES", 5)
        self.ELEARN_LOGIN_LOCKOUT_SECONDS = _env_int("ELEARN_LOGIN_LOCKOUT_SECONDS", 15 * 60)
        # Rate limits (elearn.policy.RATE_LIMITS) counted in memory, or in Redis shared by every web node.
        self.ELEARN_REDIS_URL = os.environ.get("ELEARN_REDIS_URL") or ""
        self.RATELIMIT_ENABLED = _env_bool("ELEARN_RATE_LIMITS", True)
        self.RATELIMIT_STORAGE_URI = self.ELEARN_REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis unreachable: count in memory, never a 500
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.ELEARN_X_ACCEL = _env_bool("ELEARN_X_ACCEL", False)
        # Proxies in front of the web nodes (deploy/nginx: 1) whose X-Forwarded-For/-Proto are believed: without
        # it every member behind nginx has nginx's address, and the per-address rate limits count them as one.
        self.ELEARN_PROXY_COUNT = _env_int("ELEARN_PROXY_COUNT", 0)
        self.ELEARN_MAX_PLAYBACK_RATE = _env_float("ELEARN_MAX_PLAYBACK_RATE", 2.0)
        self.WTF_CSRF_TIME_LIMIT = None
        # Dashboards of subtrees with more members than this read the latest snapshot (computed by a job)
        # unless it is current; smaller ones are computed on each view.
        self.ELEARN_ANALYTICS_LIVE_MEMBERS = _env_int("ELEARN_ANALYTICS_LIVE_MEMBERS", 5000)
        # SQLite only: how long a writer waits for the lock before the request answers 503 "busy".
        self.ELEARN_SQLITE_BUSY_TIMEOUT_S = _env_float("ELEARN_SQLITE_BUSY_TIMEOUT_S", 10.0)
        # Two-factor sign-in is required of the roles in policy.TWO_FACTOR.required_roles; 0 lifts the requirement
        # (for test suites whose admins sign in without a phone; an enrolled user still gives their code).
        self.ELEARN_TWO_FACTOR_ENFORCED = _env_bool("ELEARN_TWO_FACTOR_ENFORCED", True)
        # Cipher of the personal-data key generated next (aes-gcm: AES-256-GCM; sm4-gcm: SM4-GCM for a commercial
        # cryptography review). Existing keys keep theirs: a change takes effect at `elearn security rotate-key`.
        # The keys themselves: instance/pii_keys.json, or ELEARN_PII_KEYS (elearn.security.keyring).
        self.ELEARN_PII_CIPHER = os.environ.get("ELEARN_PII_CIPHER", "aes-gcm")
        # Idle timeout of members' sessions in minutes (admins' is fixed by policy.SESSIONS); empty: the policy's.
        self.ELEARN_MEMBER_IDLE_MINUTES = _env_int("ELEARN_MEMBER_IDLE_MINUTES", 0) or None
        # Password expiry in days; empty: policy.PASSWORDS.max_age_days (0, off).
        self.ELEARN_PASSWORD_MAX_AGE_DAYS = _env_int("ELEARN_PASSWORD_MAX_AGE_DAYS", 0) or None
        # Certificates (elearn.ledger.certificates): the Ed25519 key that signs them (PEM, generated once into
        # instance/ with mode 0600 when missing; its public half is published at /verify/key), the TrueType font
        # whose subset each PDF embeds (a .ttc takes ELEARN_CERTIFICATE_FONT_INDEX; installed by `make sysdeps`),
        # and the site's public address that the printed QR code points to (empty: the address of the request).
        self.ELEARN_CERTIFICATE_SIGNING_KEY_FILE = os.environ.get("ELEARN_CERTIFICATE_SIGNING_KEY_FILE") or \
            str(inst / "certificate_signing_key.pem")
        self.ELEARN_CERTIFICATE_FONT = os.environ.get("ELEARN_CERTIFICATE_FONT") or \
            "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
        self.ELEARN_CERTIFICATE_FONT_INDEX = _env_int("ELEARN_CERTIFICATE_FONT_INDEX", 0)
        self.ELEARN_PUBLIC_URL = (os.environ.get("ELEARN_PUBLIC_URL") or "").rstrip("/")
        # E-mail (notifications, password-reset links) through SMTP: smtp://user:pass@host:port (plain),
        # smtp+starttls://… (upgraded with STARTTLS) or smtps://… (TLS from the start); empty: no e-mail at all,
        # notifications stay in-app and passwords are reset by an org admin (elearn.notify.mail).
        self.ELEARN_SMTP_URL = os.environ.get("ELEARN_SMTP_URL") or ""
        # The sender of every message, and how long one SMTP conversation may take before it counts as failed.
        self.ELEARN_MAIL_FROM = os.environ.get("ELEARN_MAIL_FROM") or "elearn@localhost"
        self.ELEARN_SMTP_TIMEOUT_S = _env_float("ELEARN_SMTP_TIMEOUT_S", 10.0)
        # A CA bundle (PEM) trusted for the SMTP server's certificate besides the system's (a private relay).
        self.ELEARN_SMTP_CA_FILE = os.environ.get("ELEARN_SMTP_CA_FILE") or ""
        # The site's address as members reach it (https://elearn.example.org): links in e-mails are built on it,
        # never on the Host header of the request that caused them (a forged Host would send a victim's reset link
        # to another site). Default: ELEARN_PUBLIC_URL (the same address, named so for certificates); empty: the
        # request's own address (acceptable only behind a proxy that fixes Host).
        self.ELEARN_BASE_URL = (os.environ.get("ELEARN_BASE_URL") or os.environ.get("ELEARN_PUBLIC_URL")
                                or "").rstrip("/")
        # Sign-in providers of the organisations (CAS, OpenID Connect; elearn.auth.sso): one button each on the
        # sign-in page. ELEARN_SSO_PROVIDERS=ids, and per id ELEARN_SSO_<ID>_KIND (cas|oidc), _LABEL, _MATCH_BY
        # (username|email), _ATTRIBUTE, and _SERVER_URL, _CAS_VERSION (CAS) or _ISSUER, _CLIENT_ID,
        # _CLIENT_SECRET, _SCOPE (OIDC).
        self.ELEARN_SSO_PROVIDERS = _sso_providers_from_env()
        # Learning records (elearn.xapi): the LRS's xAPI endpoint (https://lrs.example.org/xAPI) and its HTTP
        # basic credentials "user:password"; empty URL: statements stay in the outbox (exported by the CLI).
        self.ELEARN_LRS_URL = (os.environ.get("ELEARN_LRS_URL") or "").rstrip("/")
        self.ELEARN_LRS_AUTH = os.environ.get("ELEARN_LRS_AUTH") or ""
        # Seconds one POST to the LRS may take before its batch counts as not delivered (tried again later).
        self.ELEARN_LRS_TIMEOUT_S = _env_float("ELEARN_LRS_TIMEOUT_S", 10.0)
        # How members are identified in statements: "account" (homePage + the member's stable id, nothing
        # personal) or "mbox_sha1sum" (the hash of their e-mail, for LRSs that join members across platforms).
        self.ELEARN_XAPI_ACTOR = os.environ.get("ELEARN_XAPI_ACTOR") or "account"
        # The site's IRI in statements (the accounts' homePage, the root of activity ids): fixed once chosen, as
        # an LRS joins statements on it. Defaults to the site's address.
        self.ELEARN_XAPI_HOMEPAGE = (os.environ.get("ELEARN_XAPI_HOMEPAGE") or self.ELEARN_BASE_URL
                                     or "http://elearn.localhost").rstrip("/")


class TestingConfig(Config):
    """Config for the test suite: a throwaway instance folder, jobs run inline unless a test says otherwise."""

    def __init__(self, instance_path: str):
        super().__init__(instance_path)
        self.TESTING = True
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL_TEST") or os.environ.get("DATABASE_URL") \
            or f"sqlite:///{Path(instance_path) / 'test.db'}"
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql://"):
            self.SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://" + self.SQLALCHEMY_DATABASE_URI[len("postgresql://"):]
        self.ELEARN_QUEUE_IMMEDIATE = True
        self.WTF_CSRF_ENABLED = True
        self.RATELIMIT_ENABLED = False  # the tests of the limits turn them on
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.ELEARN_TWO_FACTOR_ENFORCED = False  # the tests of two-factor sign-in turn it on
