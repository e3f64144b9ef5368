"""Reviewers hear 72 h and 24 h before the scoring deadline, once each, while evaluations are pending."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from evaluacion import reminders
from evaluacion.models import EstadoAsignacion
from idea.chile import utcnow
from idea.extensions import db
from idea.jobs import commit
from tests.evaluacion.conftest import assign


def run(deadline: Any, before: timedelta) -> int:
    count = reminders.send_review_reminders(deadline - before)
    commit()
    return count


def test_72h_and_24h_reminders_go_once_each_to_reviewers_with_pending_work(
        escenario: Callable[..., Any], outbox: Any) -> None:
    e = escenario(n=2, reviewers=2)
    assign(e.reviewers[0], e.postulaciones[0])
    assign(e.reviewers[0], e.postulaciones[1])
    done = assign(e.reviewers[1], e.postulaciones[0])
    done.submitted_at = utcnow()
    done.status = EstadoAsignacion.ENVIADA
    db.session.commit()
    deadline = e.convocatoria.evaluation_end_at
    assert run(deadline, timedelta(hours=80)) == 0
    assert run(deadline, timedelta(hours=60)) == 1
    assert run(deadline, timedelta(hours=50)) == 0
    assert run(deadline, timedelta(hours=20)) == 1
    assert run(deadline, timedelta(hours=2)) == 0
    messages = outbox.to(e.reviewers[0].email)
    assert len(messages) == 2 == len(outbox)
    assert "2 evaluaciones" in messages[0].body and "/evaluacion/" in messages[0].body


def test_the_cli_command_includes_review_reminders(app: Flask, escenario: Callable[..., Any], outbox: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    e = escenario(n=1, reviewers=1)
    assign(e.reviewers[0], e.postulaciones[0])
    deadline = e.convocatoria.evaluation_end_at
    monkeypatch.setattr("idea.chile.utcnow", lambda: deadline - timedelta(hours=10))
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert "Recordatorios enviados: 1" in result.output, result.output
    assert len(outbox.to(e.reviewers[0].email)) == 1
