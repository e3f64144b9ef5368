"""Deadline reminders: drafts get one e-mail 72 h before and one 24 h before the call closes, never twice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias import reminders
from convocatorias.models import Convocatoria, EstadoPostulacion, Fase, Postulacion, Recordatorio
from idea.chile import end_of_day_santiago
from idea.extensions import db
from idea.jobs import commit

DEADLINE = end_of_day_santiago(date(2026, 5, 31))  # 2026-06-01 03:59:59 UTC


@pytest.fixture
def call(make_convocatoria: Any) -> Convocatoria:
    return make_convocatoria(title="Fondo IDEA 2026", submissions_open_at=DEADLINE - timedelta(days=40),
                             submissions_close_at=DEADLINE, published_at=DEADLINE - timedelta(days=40))


@pytest.fixture
def draft(call: Convocatoria, make_desafio: Any, make_postulacion: Any) -> Postulacion:
    return make_postulacion(make_desafio(call), status=EstadoPostulacion.BORRADOR, title="Huerta comunitaria")


def run(now_before_deadline: timedelta) -> int:
    count = reminders.send_draft_reminders(DEADLINE - now_before_deadline)
    commit()
    return count


def kinds(postulacion: Postulacion) -> set[str]:
    stmt = sa.select(Recordatorio.kind).where(Recordatorio.postulacion_id == postulacion.id)
    return set(db.session.scalars(stmt))


def test_reminder_kind() -> None:
    assert reminders.reminder_kind(DEADLINE, DEADLINE - timedelta(hours=80)) is None
    assert reminders.reminder_kind(DEADLINE, DEADLINE - timedelta(hours=72)) == "72h"
    assert reminders.reminder_kind(DEADLINE, DEADLINE - timedelta(hours=25)) == "72h"
    assert reminders.reminder_kind(DEADLINE, DEADLINE - timedelta(hours=24)) == "24h"
    assert reminders.reminder_kind(DEADLINE, DEADLINE - timedelta(minutes=1)) == "24h"
    assert reminders.reminder_kind(DEADLINE, DEADLINE) is None
    assert reminders.reminder_kind(DEADLINE, DEADLINE + timedelta(minutes=1)) is None


def test_72h_and_24h_reminders_are_sent_once_each(draft: Postulacion, outbox: Any) -> None:
    owner = draft.created_by.email
    assert run(timedelta(hours=80)) == 0
    assert run(timedelta(hours=60)) == 1
    assert run(timedelta(hours=60)) == 0
    assert run(timedelta(hours=30)) == 0  # still the 72 h window: already reminded
    assert kinds(draft) == {"72h"}
    assert run(timedelta(hours=20)) == 1
    assert run(timedelta(hours=2)) == 0
    assert kinds(draft) == {"72h", "24h"}
    messages = outbox.to(owner)
    assert len(messages) == 2 == len(outbox)
    assert all("Fondo IDEA 2026" in m.subject for m in messages)


def test_a_draft_first_seen_inside_24h_gets_only_that_reminder(draft: Postulacion, outbox: Any) -> None:
    assert run(timedelta(hours=20)) == 1
    assert run(timedelta(hours=10)) == 0
    assert kinds(draft) == {"24h"}
    assert len(outbox) == 1


def test_the_email_names_the_call_the_deadline_in_chile_time_and_links_the_draft(draft: Postulacion,
                                                                                 outbox: Any) -> None:
    run(timedelta(hours=60))
    (message,) = outbox.messages
    assert message.recipients == [draft.created_by.email]
    for body in (message.body, message.html):
        assert "Fondo IDEA 2026" in body
        assert "Huerta comunitaria" in body
        assert "31 de mayo de 2026, 23:59" in body
        assert f"/mis-postulaciones/{draft.id}/editar" in body
    assert "http://localhost" in message.body or "http://127.0.0.1" in message.body


def test_nothing_for_sent_or_withdrawn_submissions(call: Convocatoria, make_desafio: Any,
                                                   make_postulacion: Any, outbox: Any) -> None:
    desafio = make_desafio(call)
    make_postulacion(desafio, status=EstadoPostulacion.ENVIADA)
    make_postulacion(desafio, status=EstadoPostulacion.RETIRADA)
    assert run(timedelta(hours=60)) == 0
    assert run(timedelta(hours=20)) == 0
    assert len(outbox) == 0


@pytest.mark.parametrize("fields", [
    {"fase": Fase.ADMISIBILIDAD},
    {"published_at": None, "fase": Fase.BORRADOR},
    {"submissions_close_at": DEADLINE - timedelta(days=3)},  # already closed at the moments checked
])
def test_nothing_for_calls_not_taking_submissions(make_convocatoria: Any, make_desafio: Any,
                                                  make_postulacion: Any, outbox: Any,
                                                  fields: dict[str, Any]) -> None:
    closed = make_convocatoria(**{"submissions_open_at": DEADLINE - timedelta(days=40),
                                  "submissions_close_at": DEADLINE, **fields})
    make_postulacion(make_desafio(closed), status=EstadoPostulacion.BORRADOR)
    assert run(timedelta(hours=60)) == 0
    assert run(timedelta(hours=20)) == 0
    assert len(outbox) == 0


def test_a_reminder_claimed_by_a_parallel_run_is_not_sent_again(draft: Postulacion, outbox: Any) -> None:
    now = DEADLINE - timedelta(hours=60)
    assert reminders._claim(draft.id, "72h", now) is True
    assert reminders._claim(draft.id, "72h", now) is False
    commit()
    assert run(timedelta(hours=60)) == 0
    assert len(outbox) == 0


def test_the_cli_command_sends_and_reports(app: Flask, draft: Postulacion, outbox: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("idea.chile.utcnow", lambda: DEADLINE - timedelta(hours=50))
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://fondoidea.example.cl")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Recordatorios enviados: 1" in result.output
    (message,) = outbox.messages
    assert f"https://fondoidea.example.cl/mis-postulaciones/{draft.id}/editar" in message.body
    result = runner.invoke(args=["send-reminders"])
    assert "Recordatorios enviados: 0" in result.output
    assert len(outbox) == 1
    db.session.expire_all()
    assert kinds(draft) == {"72h"}
