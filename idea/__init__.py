"""Fondo IDEA core: the application factory and what every package stands on."""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

# Not `from idea.extensions import mail`: the submodule idea.mail would shadow that name in this package.
from idea import dbping
from idea import extensions as ext
from idea.config import CONFIGS, Config
from idea.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent

# Domain packages plugged into the app, in dependency order. The core never imports them by name.
PACKAGES = ("convocatorias", "evaluacion", "pilotos")


def create_app(config_name: str | None = None, **overrides: Any) -> Flask:
    """Build the application; `config_name` is development (default), testing or production."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
    )
    from idea.params import register_converters

    register_converters(app)  # before any route: every <int:...> is bounded to what the database holds
    config_name = config_name or os.environ.get("IDEA_ENV", "development")
    config: Config = CONFIGS[config_name](Path(app.instance_path))
    app.config.from_object(config)
    app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        # psycopg 3 is the driver we ship; accept the plain URL most hosts give.
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    _init_extensions(app)
    _register_core(app)
    for name in PACKAGES:
        module = importlib.import_module(name)
        if hasattr(module, "init_app"):
            module.init_app(app)
    return app


def add_nav_provider(app: Flask, provider: Any) -> None:
    """Let a package add menu entries: `provider(user)` returns a list of {"url", "label"} dicts."""
    app.extensions.setdefault("idea_nav", []).append(provider)


def add_start_provider(app: Flask, provider: Any) -> None:
    """Let a package add cards to a person's start page (/inicio): `provider(user)` returns a list of
    {"url", "label", "description"} dicts; a card may say which staff "role" it is the work of."""
    app.extensions.setdefault("idea_start", []).append(provider)


def start_cards(user: Any) -> list[dict[str, Any]]:
    from flask import current_app

    cards: list[dict[str, Any]] = []
    for provider in current_app.extensions.get("idea_start", []):
        cards.extend(provider(user))
    return cards


def add_admin_section(app: Flask, endpoint: str, label: Any, description: Any) -> None:
    """Let a package list one of its pages in the administration (its menu and its index page)."""
    app.extensions.setdefault("idea_admin_sections", []).append(
        {"endpoint": endpoint, "label": label, "description": description}
    )


def nav_links(user: Any) -> list[dict[str, str]]:
    from flask import current_app

    links: list[dict[str, str]] = []
    for provider in current_app.extensions.get("idea_nav", []):
        links.extend(provider(user))
    return links


def _select_locale() -> str:
    languages = list(_languages())
    lang = session.get("lang")
    if lang in languages:
        return lang
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return "es_CL"


def _languages() -> dict[str, str]:
    from flask import current_app

    return current_app.config["LANGUAGES"]


def _init_extensions(app: Flask) -> None:
    from idea.mail import init_app as init_mail_printing
    from idea.models import User

    db.init_app(app)
    dbping.install()  # pooled PostgreSQL connections are checked at checkout (instead of pool_pre_ping)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    ext.mail.init_app(app)
    init_mail_printing(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        raw_id, _, token = user_id.partition(":")
        if not raw_id.isdigit() or not token:
            return None
        try:
            user = db.session.get(User, int(raw_id))
        except SQLAlchemyError:
            # With the database down, error pages must still render: treat the visitor as anonymous.
            db.session.rollback()
            return None
        if user is None or user.session_token != token or not user.is_active:
            return None
        return user


def _register_core(app: Flask) -> None:
    from idea import admin, audit, auth, branding, errors, filters, form_helpers, pagecache, views
    from idea.cli import register_cli
    from idea.jobs import commit
    from idea.params import refuse_nul_bytes
    from idea.permissions import enforce_access

    # First hook: hostile bytes are refused before anything (even loading the user) queries the database.
    app.before_request(refuse_nul_bytes)
    app.before_request(enforce_access)

    @app.after_request
    def commit_or_rollback(response: Any) -> Any:
        # The one place a request's work is committed: a refused or failed request leaves nothing behind.
        # `g.keep_work`: a refusal whose side effects must stay (the e-mail telling an owner of a lock).
        if response.status_code < 400 or g.pop("keep_work", False):
            commit()
        else:
            db.session.rollback()
        return response

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("ENV_NAME") == "production":
            # Production is served only over TLS (README): browsers must never try plain HTTP again.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user and current_user.is_authenticated:
            # A logged-in page holds personal data: no browser or proxy cache may keep it (back button,
            # shared computers).
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        return response

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        return {
            "nav_links": lambda: nav_links(current_user),
            "current_locale": str(get_locale() or "es_CL"),
            "languages": app.config["LANGUAGES"],
            "request_path": request.path if request else "/",
        }

    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    from flask_babel import lazy_gettext as _l

    add_admin_section(app, "admin.users", _l("Users"), _l("Find an account, see its roles and activity."))
    add_admin_section(
        app,
        "admin.invite",
        _l("Invite staff"),
        _l("Create an account for a member of the team, with its role and scope."),
    )
    add_admin_section(app, "admin.audit_log", _l("Audit log"), _l("Who did what, and when."))
    add_start_provider(app, admin.start_card)
    app.register_blueprint(views.bp)
    pagecache.init_app(app)
    branding.init_app(app)
    errors.register(app)
    filters.register(app)
    audit.register_template_helpers(app)
    audit.register_core_labels(app)
    form_helpers.register(app)
    register_cli(app)
