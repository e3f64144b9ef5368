"""Deadlines in Chilean time: "23:59" means 23:59:59 in Santiago that day, daylight-saving changes included.

The clock is read when the request is processed; one second before the deadline is accepted, one second after
is refused, both for sending and for editing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from convocatorias.models import Convocatoria, Desafio, EstadoPostulacion, Organizacion, Postulacion
from idea import chile
from idea.extensions import db
from idea.models import Role, User
from tests.convocatorias.test_applicant import count, profile_form

SECOND = timedelta(seconds=1)

# 2026 in America/Santiago: clocks go back at 00:00 on Sunday 5 April (Saturday the 4th has 23:59:59
# twice), and forward at 00:00 on Sunday 6 September (00:00-00:59 does not exist that day).
DEADLINES = {
    "autumn_fall_back": date(2026, 4, 4),
    "spring_forward": date(2026, 9, 6),
    "day_before_spring_forward": date(2026, 9, 5),
}


def test_the_deadlines_land_where_a_chilean_wall_clock_says() -> None:
    april = chile.end_of_day_santiago(DEADLINES["autumn_fall_back"])
    assert april == datetime(2026, 4, 5, 3, 59, 59, tzinfo=UTC)  # the later 23:59:59 (UTC-4)
    local = chile.to_santiago(april)
    assert (local.date(), local.hour, local.minute, local.second) == (date(2026, 4, 4), 23, 59, 59)
    september = chile.end_of_day_santiago(DEADLINES["spring_forward"])
    assert september == datetime(2026, 9, 7, 2, 59, 59, tzinfo=UTC)  # UTC-3 after the change
    assert chile.end_of_day_santiago(DEADLINES["day_before_spring_forward"]) == datetime(
        2026, 9, 6, 3, 59, 59, tzinfo=UTC)


@pytest.fixture
def owner(make_user: Callable[..., User], login_as: Callable[..., Any],
          make_organizacion: Callable[..., Organizacion]) -> Any:
    user = make_user(Role.POSTULANTE)
    client = login_as(user)
    client.org = make_organizacion(user)
    return client


def _call(make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
          day: date) -> tuple[Convocatoria, Desafio]:
    closes = chile.end_of_day_santiago(day)
    convocatoria = make_convocatoria(submissions_open_at=closes - timedelta(days=60),
                                     published_at=closes - timedelta(days=60), submissions_close_at=closes)
    return convocatoria, make_desafio(convocatoria)


def _at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr("idea.chile.utcnow", lambda: moment)


@pytest.mark.parametrize("day", DEADLINES.values(), ids=DEADLINES.keys())
@pytest.mark.parametrize(("offset", "accepted"), [(-SECOND, True), (timedelta(0), True), (SECOND, False)],
                         ids=["one second before", "at the deadline", "one second after"])
def test_sending_a_draft_around_the_deadline(owner: Any, make_convocatoria: Callable[..., Convocatoria],
                                             make_desafio: Callable[..., Desafio],
                                             make_postulacion: Callable[..., Postulacion],
                                             monkeypatch: pytest.MonkeyPatch, day: date, offset: timedelta,
                                             accepted: bool) -> None:
    convocatoria, desafio = _call(make_convocatoria, make_desafio, day)
    draft = make_postulacion(desafio, owner.org)
    _at(monkeypatch, convocatoria.submissions_close_at + offset)
    response = owner.post(f"/mis-postulaciones/{draft.id}/editar", data=profile_form(desafio))
    db.session.expire_all()
    p = db.session.get(Postulacion, draft.id)
    if accepted:
        assert response.status_code == 302
        assert p.status == EstadoPostulacion.ENVIADA and p.folio == "IDEA-2026-0001"
        assert p.submitted_at == convocatoria.submissions_close_at + offset
    else:
        assert response.status_code == 422
        assert "plazo de esta convocatoria ya venció" in response.get_data(as_text=True)
        assert p.status == EstadoPostulacion.BORRADOR and p.folio is None and p.version == 0


@pytest.mark.parametrize("day", DEADLINES.values(), ids=DEADLINES.keys())
@pytest.mark.parametrize(("offset", "accepted"), [(-SECOND, True), (SECOND, False)],
                         ids=["one second before", "one second after"])
def test_a_new_submission_around_the_deadline(owner: Any, make_convocatoria: Callable[..., Convocatoria],
                                              make_desafio: Callable[..., Desafio],
                                              monkeypatch: pytest.MonkeyPatch, day: date, offset: timedelta,
                                              accepted: bool) -> None:
    convocatoria, desafio = _call(make_convocatoria, make_desafio, day)
    _at(monkeypatch, convocatoria.submissions_close_at + offset)
    response = owner.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                          data=profile_form(desafio))
    assert response.status_code == (302 if accepted else 422)
    assert count(Postulacion) == (1 if accepted else 0)


@pytest.mark.parametrize("day", DEADLINES.values(), ids=DEADLINES.keys())
@pytest.mark.parametrize(("offset", "accepted"), [(-SECOND, True), (SECOND, False)],
                         ids=["one second before", "one second after"])
def test_editing_a_sent_submission_around_the_deadline(
        owner: Any, make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
        make_postulacion: Callable[..., Postulacion], monkeypatch: pytest.MonkeyPatch, day: date,
        offset: timedelta, accepted: bool) -> None:
    convocatoria, desafio = _call(make_convocatoria, make_desafio, day)
    sent = make_postulacion(desafio, owner.org, status=EstadoPostulacion.ENVIADA, title="Antes")
    _at(monkeypatch, convocatoria.submissions_close_at + offset)
    page = owner.get(f"/mis-postulaciones/{sent.id}/editar")
    response = owner.post(f"/mis-postulaciones/{sent.id}/editar", data=profile_form(desafio, title="Después"))
    db.session.expire_all()
    p = db.session.get(Postulacion, sent.id)
    if accepted:
        assert page.status_code == 200
        assert response.status_code == 302
        assert p.title == "Después" and p.version == 2 and p.status == EstadoPostulacion.ENVIADA
    else:
        # Read-only: the edit page sends the applicant to the detail page, and a forced POST is refused.
        assert page.status_code == 302 and page.headers["Location"] == f"/mis-postulaciones/{sent.id}"
        assert response.status_code == 422
        assert "plazo de esta convocatoria ya venció" in response.get_data(as_text=True)
        assert p.title == "Antes" and p.version == 1
        detail = owner.get(f"/mis-postulaciones/{sent.id}").get_data(as_text=True)
        assert "ya no se puede modificar" in detail
        assert f"/mis-postulaciones/{sent.id}/editar" not in detail


def test_the_first_of_two_23_59_59_does_not_close_the_call(owner: Any,
                                                            make_convocatoria: Callable[..., Convocatoria],
                                                            make_desafio: Callable[..., Desafio],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """On 4 April 2026 the wall clock shows 23:59:59 twice, an hour apart; the call closes after the
    second."""
    convocatoria, desafio = _call(make_convocatoria, make_desafio, DEADLINES["autumn_fall_back"])
    first = datetime(2026, 4, 5, 2, 59, 59, tzinfo=UTC)  # 23:59:59 -03, before the clocks go back
    assert chile.to_santiago(first).strftime("%d %H:%M:%S") == "04 23:59:59"
    _at(monkeypatch, first + SECOND)  # 23:00:00 -04: still the 4th on the wall clock
    response = owner.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                          data=profile_form(desafio))
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Postulacion.id))) == 1


def test_the_clock_is_read_when_the_request_is_processed(owner: Any,
                                                         make_convocatoria: Callable[..., Convocatoria],
                                                         make_desafio: Callable[..., Desafio],
                                                         make_postulacion: Callable[..., Postulacion],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A form opened before the deadline and sent after it is refused."""
    convocatoria, desafio = _call(make_convocatoria, make_desafio, DEADLINES["spring_forward"])
    draft = make_postulacion(desafio, owner.org)
    _at(monkeypatch, convocatoria.submissions_close_at - timedelta(minutes=5))
    assert owner.get(f"/mis-postulaciones/{draft.id}/editar").status_code == 200
    _at(monkeypatch, convocatoria.submissions_close_at + SECOND)
    assert owner.post(f"/mis-postulaciones/{draft.id}/editar", data=profile_form(desafio)).status_code == 422
