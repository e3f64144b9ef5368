"""E-mail: rendered in the request's language when queued, always sent by a job."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from flask_mail import Message, email_dispatched
from jinja2 import TemplateNotFound

from idea.extensions import mail
from idea.jobs import enqueue

log = logging.getLogger(__name__)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to `endpoint` for an e-mail, built from PUBLIC_BASE_URL.

    Never from the request: its Host (or X-Forwarded-Host) header is whatever the client sends, and a
    password-reset link pointing at an attacker's host hands them the token. Works outside requests too
    (cron, jobs).
    """
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def send_email(
    recipients: str | Sequence[str], subject: str, template: str, *, locale: str | None = None, **context: Any
) -> None:
    """Render `templates/email/<template>.txt` (and `.html` when it exists) and queue the delivery.

    The mail is written in the recipient's language (`locale`, default Spanish), not the sender's:
    pass `subject` as a lazy string (`lazy_gettext`) so that it is translated here too.
    """
    if isinstance(recipients, str):
        recipients = [recipients]
    with force_locale(locale or "es_CL"):
        subject = str(subject)
        text = render_template(f"email/{template}.txt", **context)
        try:
            html: str | None = render_template(f"email/{template}.html", **context)
        except TemplateNotFound:
            html = None
    enqueue(deliver_email, list(recipients), subject, text, html)


def send_email_to(user: Any, subject: str, template: str, **context: Any) -> None:
    """Mail one person in their own language; the templates get them as `user`."""
    send_email(user.email, subject, template, locale=user.locale, user=user, **context)


def deliver_email(recipients: list[str], subject: str, text: str, html: str | None = None) -> None:
    """Job: hand one message to the mail transport (Flask-Mail)."""
    message = Message(subject=subject, recipients=recipients, body=text, html=html)
    mail.send(message)


def _print_message(sender: Flask, message: Message, **extra: Any) -> None:
    # Flask-Mail 0.10 sends the app as the signal's sender and the message as a keyword argument.
    log.warning(
        "Correo (no enviado: sin MAIL_SERVER) para %s: %s\n%s",
        message.recipients,
        message.subject,
        message.body,
    )


def init_app(app: Flask) -> None:
    if app.config.get("MAIL_PRINT"):
        email_dispatched.connect(_print_message, app)
