"""E-mails are written in the recipient's language, whatever language the page was in when they were sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convocatorias.models import Organizacion
from idea.models import Role, User
from tests.convocatorias.test_applicant import profile_form


def _submit(client: Any, convocatoria: Any, desafio: Any) -> None:
    url = f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}"
    assert client.post(url, data=profile_form(desafio)).status_code == 302


def test_the_receipt_is_in_spanish_even_when_the_page_was_in_english(
        login_as: Callable[..., Any], make_user: Callable[..., User],
        make_organizacion: Callable[..., Organizacion], make_convocatoria: Any, make_desafio: Any,
        outbox: Any) -> None:
    user = make_user(Role.POSTULANTE)
    make_organizacion(user)
    client = login_as(user)
    with client.session_transaction() as session:
        session["lang"] = "en"
    convocatoria = make_convocatoria()
    _submit(client, convocatoria, make_desafio(convocatoria))
    [mail] = outbox.to(user.email)
    assert mail.subject.startswith("Recibimos tu idea")
    assert "Recibimos tu idea" in mail.body


def test_the_receipt_follows_the_language_the_applicant_chose(
        login_as: Callable[..., Any], make_user: Callable[..., User],
        make_organizacion: Callable[..., Organizacion], make_convocatoria: Any, make_desafio: Any,
        outbox: Any) -> None:
    from idea.extensions import db

    user = make_user(Role.POSTULANTE)
    user.locale = "en"
    db.session.commit()
    make_organizacion(user)
    convocatoria = make_convocatoria()
    _submit(login_as(user), convocatoria, make_desafio(convocatoria))
    [mail] = outbox.to(user.email)
    assert mail.subject.startswith("We received your idea")
