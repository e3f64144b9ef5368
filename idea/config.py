"""Configuration read from environment variables, with safe defaults for a first look."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"


def _instance_secret(instance_path: Path) -> str:
    """Return the secret kept in the instance folder, creating it on first run."""
    instance_path.mkdir(parents=True, exist_ok=True)
    secret_file = instance_path / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _public_base_url(value: str) -> str:
    """The site's address as people reach it, checked: every link in an e-mail is built from it."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise RuntimeError(
            f"PUBLIC_BASE_URL must be an http(s) address such as https://fondoidea.cl, not {value!r}."
        )
    return value.strip().rstrip("/")


def derived_key(secret_key: str, purpose: str) -> str:
    """A key for one purpose derived from SECRET_KEY (development and tests: nothing secret is committed)."""
    return hmac.new(secret_key.encode(), f"fondo-idea:{purpose}".encode(), hashlib.sha256).hexdigest()


def _host_list(value: str | None) -> list[str]:
    return [host.strip().lower() for host in (value or "").split(",") if host.strip()]


class Config:
    """Base configuration: development defaults (SQLite, inline jobs, mail printed)."""

    ENV_NAME = "development"
    TESTING = False
    DEBUG = False

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 8

    BABEL_DEFAULT_LOCALE = "es_CL"
    BABEL_DEFAULT_TIMEZONE = "America/Santiago"
    LANGUAGES = {"es": "Español", "en": "English"}

    MAIL_DEFAULT_SENDER = "Fondo IDEA <no-responder@fondoidea.cl>"
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024  # a request with 5 attachments of 10 MB and the form

    # No X-RateLimit-* headers on every limited response: they cost two more round trips to the limits'
    # storage per request (the window's state is read again after the hit), which was most of what a
    # limited POST (a vote confirmation) spent on Redis. A refusal (429) still says when to come back:
    # idea.errors adds Retry-After from the breached limit.
    RATELIMIT_HEADERS_ENABLED = False
    # With Redis unreachable the limits are counted in each process's memory (and the log says so) instead
    # of every login failing; Flask-Limiter goes back to Redis when it answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
    JOB_RETRIES = 3
    PASSWORD_MIN_LENGTH = 12
    CONFIRM_TOKEN_MAX_AGE = 60 * 60 * 48
    RESET_TOKEN_MAX_AGE = 60 * 60 * 2
    INVITE_TOKEN_MAX_AGE = 60 * 60 * 24 * 7

    def __init__(self, instance_path: Path) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY") or _instance_secret(instance_path)
        # The key of the voters' RUT hashes (HMAC-SHA256): required in production, where it must outlive any
        # rotation of SECRET_KEY (a new key makes every voter new); derived from SECRET_KEY elsewhere.
        self.VOTE_HASH_KEY = env.get("VOTE_HASH_KEY") or derived_key(self.SECRET_KEY, "vote-hash")
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'idea.db'}"
        # Connections are checked at checkout by idea.dbping (a cheaper ping than pool_pre_ping's).
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": False}
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RQ_QUEUE = env.get("RQ_QUEUE") or "idea"
        self.UPLOAD_DIR = env.get("UPLOAD_DIR") or str(instance_path / "uploads")
        self.SERVER_NAME = env.get("SERVER_NAME") or None
        # Links in e-mails are built from this address only, never from the request's Host header
        # (which an attacker chooses): see idea.mail.external_url.
        self.PUBLIC_BASE_URL = _public_base_url(env.get("PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL)
        # Host names the app answers to (Flask refuses others with 400); unset in development: any host.
        self.TRUSTED_HOSTS = _host_list(env.get("TRUSTED_HOSTS")) or None
        # Exports of more rows than this are written by a background job; its file is kept this many hours.
        self.EXPORT_ASYNC_ROWS = int(env.get("EXPORT_ASYNC_ROWS", "3000"))
        self.EXPORT_TTL_HOURS = float(env.get("EXPORT_TTL_HOURS", "24"))
        # Proxies in front of the app whose X-Forwarded-For/-Proto headers are trusted (rate limits key on
        # the client's address, so behind a proxy this must be set or everyone shares one limit).
        self.TRUSTED_PROXIES = int(env.get("TRUSTED_PROXIES", "0"))
        self.PREFERRED_URL_SCHEME = env.get("PREFERRED_URL_SCHEME", "http")
        self.MAIL_SERVER = env.get("MAIL_SERVER") or None
        self.MAIL_PORT = int(env.get("MAIL_PORT", "25"))
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = _bool("MAIL_USE_TLS")
        self.MAIL_USE_SSL = _bool("MAIL_USE_SSL")
        if env.get("MAIL_DEFAULT_SENDER"):
            self.MAIL_DEFAULT_SENDER = env["MAIL_DEFAULT_SENDER"]
        # Without an SMTP server, mail is kept and printed to the log, never sent.
        self.MAIL_SUPPRESS_SEND = self.MAIL_SERVER is None or _bool("MAIL_SUPPRESS_SEND")
        self.MAIL_PRINT = self.MAIL_SERVER is None
        # Who runs this instance: the code is a product, an instance belongs to its operator.
        self.FUND_NAME = env.get("FUND_NAME") or "Fondo IDEA"
        self.FUND_OPERATOR = env.get("FUND_OPERATOR") or "FOSIS"
        self.FUND_OPERATOR_LEGAL_NAME = (
            env.get("FUND_OPERATOR_LEGAL_NAME") or "Fondo de Solidaridad e Inversión Social (FOSIS)"
        )
        self.CONTACT_EMAIL = env.get("CONTACT_EMAIL") or "contacto@fondoidea.cl"
        self.FUND_LOGO_URL = env.get("FUND_LOGO_URL") or None


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False


class TestConfig(Config):
    """Used by the test suite: same services as production when the environment names them."""

    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = False
    SERVER_NAME_DEFAULT = "localhost"

    def __init__(self, instance_path: Path) -> None:
        super().__init__(instance_path)
        self.SECRET_KEY = "test-secret-not-for-production"  # noqa: S105
        self.VOTE_HASH_KEY = derived_key(self.SECRET_KEY, "vote-hash")
        self.MAIL_SUPPRESS_SEND = True
        self.MAIL_PRINT = False
        self.PUBLIC_BASE_URL = "http://localhost"  # the test client's own address
        self.RQ_QUEUE = f"idea-test-{secrets.token_hex(4)}"
        self.RATELIMIT_KEY_PREFIX = f"idea-test-{secrets.token_hex(4)}"
        # limiter.reset() deletes every key under the storage's prefix: keep test runs sharing a Redis
        # from wiping each other's counters.
        self.RATELIMIT_STORAGE_OPTIONS = {
            **Config.RATELIMIT_STORAGE_OPTIONS,
            "key_prefix": f"LIMITS-{self.RATELIMIT_KEY_PREFIX}",
        }


class ProductionConfig(Config):
    """Refuses to start without a real secret key, a real database and the public address."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def __init__(self, instance_path: Path) -> None:
        secret = os.environ.get("SECRET_KEY", "")
        if len(secret) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production."
            )
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production.")
        if len(os.environ.get("VOTE_HASH_KEY", "")) < 32:
            raise RuntimeError(
                "VOTE_HASH_KEY must be set to a random value of at least 32 characters in production "
                "(the key of the voters' RUT hashes; keep it for the life of the platform)."
            )
        if not os.environ.get("PUBLIC_BASE_URL"):
            raise RuntimeError(
                "PUBLIC_BASE_URL must be set in production (the site's address, e.g. https://fondoidea.cl): "
                "links in e-mails are built from it."
            )
        super().__init__(instance_path)
        self.PREFERRED_URL_SCHEME = "https"
        # Only the public host (and any listed in TRUSTED_HOSTS) is answered; a forged Host gets a 400.
        public_host = urlsplit(self.PUBLIC_BASE_URL).hostname or ""
        self.TRUSTED_HOSTS = [public_host, *[h for h in self.TRUSTED_HOSTS or [] if h != public_host]]


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}
