"""The admin side of calls and challenges: create, edit, publish with guards, move phases, who may not."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from convocatorias import operations
from convocatorias.models import Convocatoria, Desafio, Fase, GrupoVulnerable, IndicadorLineaBase
from idea import chile
from idea.extensions import db
from idea.models import EventoAuditoria, Role

# Mid-January 2027 (summer time, UTC-3): before the calls below open.
NOW = datetime(2027, 1, 10, 15, 0, tzinfo=UTC)
BASE = "/admin/convocatorias"


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr("idea.chile.utcnow", lambda: NOW)
    return NOW


def english(client: Any) -> Any:
    """Show the msgids whatever the Spanish catalog says (dates stay Spanish: they are written for Chile)."""
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


@pytest.fixture
def admin(login_as: Callable[..., Any]) -> Any:
    return english(login_as(Role.ADMIN))


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def call_form(**overrides: str) -> dict[str, str]:
    data = {
        "title": "Fondo IDEA", "year": "2027", "summary": "Ideas para superar la pobreza",
        "description": "Una convocatoria de prueba.", "rules": "Bases.",
        "total_budget": "$650.000.000", "min_amount": "$20.000.000", "max_amount": "30000000",
        "max_submissions_per_org": "2", "vote_weight": "10",
        "submissions_open_at": "2027-03-01T09:00", "submissions_close_at": "2027-05-31T23:59",
        "admissibility_end_at": "", "evaluation_end_at": "", "vote_open_at": "", "vote_close_at": "",
        "committee_at": "", "training_start_at": "", "execution_start_at": "", "closing_at": "",
    }
    data.update(overrides)
    return data


def desafio_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Niñas y niños fuera de la escuela",
        "problem": "Miles de niñas y niños no asisten a la escuela.",
        "grupo_vulnerable_id": "", "partner_institution": "Ministerio de Educación",
        "is_national": "y", "regions": [],
    }
    for i in range(3):
        for name in ("name", "unit", "value", "source", "measured_on"):
            data[f"indicadores-{i}-{name}"] = ""
    data.update(overrides)
    return data


def indicator(i: int, name: str, unit: str, value: str, source: str, measured_on: str = "") -> dict[str, str]:
    return {f"indicadores-{i}-name": name, f"indicadores-{i}-unit": unit, f"indicadores-{i}-value": value,
            f"indicadores-{i}-source": source, f"indicadores-{i}-measured_on": measured_on}


def calls() -> list[Convocatoria]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Convocatoria).order_by(Convocatoria.id)))


def events(action: str) -> list[EventoAuditoria]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(EventoAuditoria).where(EventoAuditoria.action == action)))


@pytest.fixture
def draft(make_convocatoria: Callable[..., Convocatoria]) -> Callable[..., Convocatoria]:
    """A draft call opening in February 2027 and closing on 31 May 2027 at 23:59:59 Chilean time."""

    def factory(**fields: Any) -> Convocatoria:
        values = {
            "fase": Fase.BORRADOR, "published_at": None, "year": 2027,
            "submissions_open_at": chile.from_santiago(datetime(2027, 2, 1, 9, 0)),
            "submissions_close_at": chile.end_of_day_santiago(date(2027, 5, 31)),
        }
        values.update(fields)
        return make_convocatoria(**values)

    return factory


# --- creating and editing a call ---------------------------------------------------------------------

def test_admin_creates_a_call_with_dates_in_chilean_time(admin: Any) -> None:
    response = admin.post(f"{BASE}/nueva", data=call_form(
        vote_open_at="2027-09-06T10:00",   # the first day of summer time (UTC-3)
        vote_close_at="2027-09-20T18:00",
    ))
    assert response.status_code == 302
    [call] = calls()
    assert response.headers["Location"].endswith(f"{BASE}/{call.id}")
    assert call.fase == Fase.BORRADOR and call.published_at is None
    assert call.slug == "fondo-idea-2027"
    # March is still summer time (UTC-3); May is winter time (UTC-4); a deadline includes its last minute.
    assert call.submissions_open_at == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    assert call.submissions_close_at == datetime(2027, 6, 1, 3, 59, 59, tzinfo=UTC)
    assert call.vote_open_at == datetime(2027, 9, 6, 13, 0, tzinfo=UTC)
    assert call.vote_close_at == datetime(2027, 9, 20, 21, 0, 59, tzinfo=UTC)
    assert (call.total_budget, call.min_amount, call.max_amount) == (650_000_000, 20_000_000, 30_000_000)
    assert (call.max_submissions_per_org, call.vote_weight, call.created_by_id) == (2, 10, admin.user.id)

    [event] = events("convocatoria.created")
    assert event.actor_id == admin.user.id and event.object_id == str(call.id)
    assert event.after["min_amount"] == 20_000_000

    # The edit form shows the stored instants back in Chilean time, and the amounts as pesos.
    page = text(admin.get(f"{BASE}/{call.id}/editar"))
    assert 'value="2027-03-01T09:00"' in page
    assert 'value="2027-05-31T23:59"' in page
    assert 'value="2027-09-06T10:00"' in page
    assert 'value="$20.000.000"' in page


def test_a_deadline_closes_at_the_end_of_its_day_or_minute(admin: Any) -> None:
    admin.post(f"{BASE}/nueva", data=call_form(submissions_close_at="2027-05-31"))
    admin.post(f"{BASE}/nueva", data=call_form(
        submissions_open_at="2027-03-01", submissions_close_at="2027-04-03"))
    admin.post(f"{BASE}/nueva", data=call_form(submissions_close_at="2027-04-03T23:59"))
    first, second, third = calls()
    assert first.submissions_close_at == datetime(2027, 6, 1, 3, 59, 59, tzinfo=UTC)
    assert second.submissions_open_at == datetime(2027, 3, 1, 3, 0, tzinfo=UTC)  # 00:00, summer time
    # On 3 April 2027 clocks go back at midnight: 23:59:59 happens twice, the deadline is the later one.
    assert second.submissions_close_at == datetime(2027, 4, 4, 3, 59, 59, tzinfo=UTC)
    assert second.slug == "fondo-idea-2027-2"
    assert third.submissions_close_at == datetime(2027, 4, 4, 3, 59, 59, tzinfo=UTC)


def test_money_typed_as_pesos_or_plain_digits(admin: Any) -> None:
    admin.post(f"{BASE}/nueva", data=call_form(total_budget="$20.000.000", min_amount="5000000",
                                               max_amount=" $ 20.000.000 "))
    [call] = calls()
    assert (call.total_budget, call.min_amount, call.max_amount) == (20_000_000, 5_000_000, 20_000_000)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("total_budget", "veinte millones",
     "Enter the amount in pesos using digits only, for example $20.000.000."),
    ("min_amount", "20.000.000,50", "Enter the amount in whole pesos, without cents."),
    ("max_amount", "-30000000", "Enter an amount of zero or more."),
    ("title", "", "This field is required."),
    ("vote_weight", "150", "Number must be between 0 and 100."),
    ("submissions_open_at", "mañana", "Enter a date and time, for example 2026-05-31 23:59."),
    ("min_amount", "$40.000.000", "The minimum amount per project cannot be greater than the maximum."),
])
def test_bad_input_is_refused_with_a_message_and_nothing_is_saved(
    admin: Any, field: str, value: str, message: str
) -> None:
    response = admin.post(f"{BASE}/nueva", data=call_form(**{field: value}))
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert f'id="{field}-error"' in page  # the message sits next to its field
    assert value.strip() in page or value == ""  # what was typed is shown again
    assert calls() == []
    assert events("convocatoria.created") == []


def test_editing_a_draft_renames_its_address(admin: Any, draft: Callable[..., Convocatoria]) -> None:
    call = draft(title="Fondo IDEA", slug="fondo-idea-2027")
    response = admin.post(f"{BASE}/{call.id}/editar", data=call_form(title="Fondo IDEA Regiones"))
    assert response.status_code == 302
    [call] = calls()
    assert call.slug == "fondo-idea-regiones-2027"
    [event] = events("convocatoria.updated")
    assert event.before["title"] == "Fondo IDEA" and event.after["title"] == "Fondo IDEA Regiones"


def test_changing_the_rules_of_a_published_call_is_audited(
    admin: Any, make_convocatoria: Callable[..., Convocatoria], fixed_now: datetime
) -> None:
    call = make_convocatoria(slug="fondo-idea-2027", title="Fondo IDEA", year=2027,
                             submissions_open_at=chile.from_santiago(datetime(2027, 3, 1, 9, 0)),
                             submissions_close_at=chile.from_santiago(datetime(2027, 5, 31, 23, 59, 59)))
    response = admin.post(f"{BASE}/{call.id}/editar", data=call_form(
        title="Fondo IDEA 2027", max_amount="$35.000.000", submissions_close_at="2027-06-15T23:59"))
    assert response.status_code == 302
    follow = text(admin.get(response.headers["Location"]))
    assert "the change to its rules was recorded in the audit log" in follow
    [call] = calls()
    assert call.slug == "fondo-idea-2027"  # a published call keeps its address
    assert call.max_amount == 35_000_000
    [event] = events("convocatoria.updated")
    assert event.before["max_amount"] == 30_000_000 and event.after["max_amount"] == 35_000_000
    assert event.before["submissions_close_at"] == "2027-06-01T03:59:59+00:00"
    assert event.after["submissions_close_at"] == "2027-06-16T03:59:59+00:00"
    assert "submissions_open_at" not in event.after  # unchanged on screen, unchanged in the database


def test_a_published_call_cannot_be_made_incoherent(
    admin: Any, make_convocatoria: Callable[..., Convocatoria], fixed_now: datetime
) -> None:
    call = make_convocatoria(year=2027, submissions_open_at=chile.from_santiago(datetime(2027, 3, 1, 9, 0)),
                             submissions_close_at=chile.from_santiago(datetime(2027, 5, 31, 23, 59)))
    response = admin.post(f"{BASE}/{call.id}/editar", data=call_form(
        submissions_close_at="2027-02-01T10:00", max_amount="$900.000.000"))
    assert response.status_code == 422
    page = text(response)
    assert "The date “Submission deadline” must come after “Submissions open”." in page
    assert "The maximum amount per project cannot be greater than the total budget." in page
    [call] = calls()
    assert call.max_amount == 30_000_000
    assert events("convocatoria.updated") == []


# --- challenges --------------------------------------------------------------------------------------

def test_admin_creates_a_regional_challenge_with_two_indicators(
    admin: Any, draft: Callable[..., Convocatoria], make_grupo: Callable[..., GrupoVulnerable]
) -> None:
    call = draft()
    grupo = make_grupo(name="Personas con dependencia")
    make_grupo(name="Grupo retirado del catálogo", active=False)
    page = text(admin.get(f"{BASE}/{call.id}/desafios/nuevo"))
    assert "Personas con dependencia" in page and "Grupo retirado" not in page
    assert len(re.findall(r'name="indicadores-\d+-name"', page)) == 3

    data = desafio_form(grupo_vulnerable_id=str(grupo.id), regions=["08", "09"],
                        **indicator(0, "Tasa de inasistencia", "%", "12,5", "Casen 2022", "2022-11-30"),
                        **indicator(1, "Hogares con cuidadora", "hogares", "1.500", "Registro Social"))
    del data["is_national"]
    response = admin.post(f"{BASE}/{call.id}/desafios/nuevo", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    [desafio] = db.session.scalars(sa.select(Desafio)).all()
    assert desafio.convocatoria_id == call.id and desafio.grupo_vulnerable_id == grupo.id
    assert not desafio.is_national and desafio.region_codes == ["08", "09"]
    first, second = desafio.indicadores
    assert (first.name, first.unit, first.value, first.source, first.measured_on) == (
        "Tasa de inasistencia", "%", Decimal("12.5"), "Casen 2022", date(2022, 11, 30))
    assert (second.value, second.measured_on) == (Decimal("1500"), None)
    [event] = events("desafio.created")
    assert event.after["regions"] == ["08", "09"] and len(event.after["indicators"]) == 2

    # Editing shows the two rows plus three empty ones; emptying a row removes that indicator.
    page = text(admin.get(f"{BASE}/{call.id}/desafios/{desafio.id}"))
    assert len(re.findall(r'name="indicadores-\d+-name"', page)) == 5
    assert 'value="12,5"' in page and 'value="1.500"' in page
    data = desafio_form(is_national="y", **indicator(0, "", "", "", ""),
                        **indicator(1, "Hogares con cuidadora", "hogares", "1.600", "Registro Social"))
    assert admin.post(f"{BASE}/{call.id}/desafios/{desafio.id}", data=data).status_code == 302
    db.session.expire_all()
    desafio = db.session.get(Desafio, desafio.id)
    assert desafio.is_national and desafio.region_codes == []
    assert [(i.name, i.value) for i in desafio.indicadores] == [("Hogares con cuidadora", Decimal("1600"))]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndicadorLineaBase)) == 1
    [event] = events("desafio.updated")
    assert len(event.before["indicators"]) == 2 and len(event.after["indicators"]) == 1


def test_a_half_filled_indicator_row_or_a_scope_without_regions_is_refused(
    admin: Any, draft: Callable[..., Convocatoria]
) -> None:
    call = draft()
    data = desafio_form(**indicator(1, "Tasa de inasistencia", "", "doce", "Casen 2022"))
    del data["is_national"]
    response = admin.post(f"{BASE}/{call.id}/desafios/nuevo", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "Choose at least one region, or mark the challenge as national." in page
    assert 'id="indicadores-1-unit-error"' in page
    assert "Fill in this field, or empty the whole row." in page
    assert "Enter a number, with a decimal comma if needed, for example 12,5." in page
    db.session.expire_all()
    assert db.session.scalars(sa.select(Desafio)).all() == []


def test_a_challenge_is_deleted_only_while_the_call_is_a_draft(
    admin: Any, draft: Callable[..., Convocatoria], make_convocatoria: Callable[..., Convocatoria],
    make_desafio: Callable[..., Desafio],
) -> None:
    desafio = make_desafio(draft())
    desafio_id, title = desafio.id, desafio.title
    response = admin.post(f"{BASE}/{desafio.convocatoria_id}/desafios/{desafio_id}/eliminar")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Desafio, desafio_id) is None
    [event] = events("desafio.deleted")
    assert event.object_id == str(desafio_id) and event.before["title"] == title

    published = make_desafio(make_convocatoria())
    response = admin.post(f"{BASE}/{published.convocatoria_id}/desafios/{published.id}/eliminar")
    assert response.status_code == 422
    assert "A challenge can only be deleted while the call is a draft." in text(response)
    db.session.expire_all()
    assert db.session.get(Desafio, published.id) is not None


def test_a_challenge_of_another_call_is_not_found(
    admin: Any, draft: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio]
) -> None:
    other = make_desafio(draft())
    call = draft()
    assert admin.get(f"{BASE}/{call.id}/desafios/{other.id}").status_code == 404
    assert admin.post(f"{BASE}/{call.id}/desafios/{other.id}/eliminar").status_code == 404


# --- publishing --------------------------------------------------------------------------------------

def _publish(admin: Any, call: Convocatoria) -> tuple[int, str]:
    response = admin.post(f"{BASE}/{call.id}/publicar")
    return response.status_code, text(response)


def test_publishing_is_refused_without_a_challenge(
    admin: Any, draft: Callable[..., Convocatoria], fixed_now: datetime
) -> None:
    call = draft()
    status, page = _publish(admin, call)
    assert status == 422
    assert "Add at least one challenge before publishing." in page
    [call] = calls()
    assert call.fase == Fase.BORRADOR and call.published_at is None
    assert events("convocatoria.published") == []


def test_publishing_is_refused_when_dates_are_out_of_order(
    admin: Any, draft: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio], fixed_now: datetime
) -> None:
    call = draft(vote_open_at=chile.from_santiago(datetime(2027, 8, 1, 9, 0)),
                 evaluation_end_at=chile.from_santiago(datetime(2027, 8, 15, 18, 0)))
    make_desafio(call)
    status, page = _publish(admin, call)
    assert status == 422
    assert "The date “Public vote opens” must come after “Evaluation ends”." in page
    assert calls()[0].fase == Fase.BORRADOR


def test_publishing_is_refused_without_the_submission_dates(
    admin: Any, draft: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio], fixed_now: datetime
) -> None:
    call = draft(submissions_open_at=None, submissions_close_at=None)
    make_desafio(call)
    status, page = _publish(admin, call)
    assert status == 422
    assert "Set the date submissions open." in page and "Set the submission deadline." in page


def test_publishing_is_refused_when_the_money_rules_do_not_add_up(
    admin: Any, draft: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio], fixed_now: datetime
) -> None:
    call = draft(total_budget=25_000_000, min_amount=0, max_amount=30_000_000)
    make_desafio(call)
    status, page = _publish(admin, call)
    assert status == 422
    assert "The minimum amount per project must be greater than zero." in page
    assert "The maximum amount per project cannot be greater than the total budget." in page
    assert calls()[0].fase == Fase.BORRADOR


def test_a_minimum_above_the_maximum_can_neither_be_saved_nor_published(
    admin: Any, draft: Callable[..., Convocatoria], app: Any, fixed_now: datetime
) -> None:
    call = draft()
    response = admin.post(f"{BASE}/{call.id}/editar", data=call_form(min_amount="$31.000.000"))
    assert response.status_code == 422
    assert "The minimum amount per project cannot be greater than the maximum." in text(response)
    assert calls()[0].min_amount == 20_000_000
    # The database refuses such a row too; the publication guard says the same of an unsaved call.
    unsaved = Convocatoria(title="X", year=2027, fase=Fase.BORRADOR, total_budget=650_000_000,
                           min_amount=31_000_000, max_amount=30_000_000, max_submissions_per_org=1,
                           submissions_open_at=call.submissions_open_at,
                           submissions_close_at=call.submissions_close_at)
    with app.test_request_context(), force_locale("en"):
        messages = [p.message for p in operations.publication_problems(unsaved)]
    assert "The minimum amount per project cannot be greater than the maximum." in messages


def test_publishing_is_refused_when_a_challenge_has_no_indicator_or_no_problem(
    admin: Any, draft: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio], fixed_now: datetime
) -> None:
    call = draft()
    make_desafio(call, title="Desafío completo")
    make_desafio(call, title="Desafío sin cifras", indicators=0)
    make_desafio(call, title="Desafío sin problema", problem="  ")
    status, page = _publish(admin, call)
    assert status == 422
    assert "The challenge “Desafío sin cifras” needs at least one baseline indicator." in page
    assert "The challenge “Desafío sin problema” has no problem statement." in page
    assert "Desafío completo”" not in page


def test_a_ready_call_is_published_and_opens_for_submissions(
    admin: Any, draft: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
    client: Any, fixed_now: datetime,
) -> None:
    call = draft(slug="fondo-idea-2027", title="Fondo IDEA 2027")
    make_desafio(call, indicators=2, regions=["13"])
    assert client.get("/convocatorias/fondo-idea-2027").status_code == 404  # not public yet

    page = text(admin.get(f"{BASE}/{call.id}"))
    assert "The call is ready to be published." in page
    response = admin.post(f"{BASE}/{call.id}/publicar")
    assert response.status_code == 302
    [call] = calls()
    assert call.fase == Fase.POSTULACION
    assert call.published_at == NOW
    [event] = events("convocatoria.published")
    assert event.actor_id == admin.user.id
    assert event.before == {"fase": "borrador", "published_at": None}
    assert event.after == {"fase": "postulacion", "published_at": NOW.isoformat()}

    listing = text(admin.get(f"{BASE}/"))
    assert "Fondo IDEA 2027" in listing and "Submission period" in listing
    assert chile.format_datetime_es(NOW) in text(admin.get(f"{BASE}/{call.id}"))
    assert client.get("/convocatorias/fondo-idea-2027").status_code == 200

    # Publishing twice is refused.
    status, page = _publish(admin, call)
    assert status == 422 and "This call is already published." in page


def test_preview_shows_the_call_its_challenges_and_their_baseline(
    admin: Any, draft: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio]
) -> None:
    call = draft(title="Fondo IDEA 2027", description="Primer párrafo.\n\nSegundo <b>párrafo</b>.")
    desafio = make_desafio(call, title="Cuidados en casa", regions=["08"], indicators=1)
    response = admin.get(f"{BASE}/{call.id}/vista-previa")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Segundo &lt;b&gt;párrafo&lt;/b&gt;." in body  # staff text is escaped
    page = text(response)
    assert "It is not public yet." in page
    assert desafio.title in page and "Biobío" in page
    assert "Indicador 1" in page and "12,5" in page and "Casen 2022" in page


# --- phases ------------------------------------------------------------------------------------------

@pytest.fixture
def published(make_convocatoria: Callable[..., Convocatoria]) -> Convocatoria:
    return make_convocatoria(
        year=2027, submissions_open_at=chile.from_santiago(datetime(2027, 1, 5, 9, 0)),
        submissions_close_at=chile.end_of_day_santiago(date(2027, 1, 31)),
    )


def test_a_call_moves_forward_one_phase_after_the_deadline(
    admin: Any, published: Convocatoria, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("idea.chile.utcnow", lambda: datetime(2027, 1, 20, tzinfo=UTC))
    response = admin.post(f"{BASE}/{published.id}/fase", data={"target": "admisibilidad"})
    assert response.status_code == 422
    assert ("Submissions are open until 31 de enero de 2027, 23:59; the call can leave this phase only after "
            "the deadline.") in text(response)
    assert calls()[0].fase == Fase.POSTULACION

    monkeypatch.setattr("idea.chile.utcnow", lambda: datetime(2027, 2, 1, 3, 0, 0, tzinfo=UTC))  # 00:00
    page = text(admin.get(f"{BASE}/{published.id}"))
    assert "Move to the next phase: Admissibility review" in page
    response = admin.post(f"{BASE}/{published.id}/fase", data={"target": "admisibilidad"})
    assert response.status_code == 302
    assert calls()[0].fase == Fase.ADMISIBILIDAD
    [event] = events("convocatoria.fase_changed")
    assert (event.before, event.after, event.actor_id) == (
        {"fase": "postulacion"}, {"fase": "admisibilidad"}, admin.user.id)


@pytest.mark.parametrize("target", ["votacion", "cierre", "postulacion", "borrador", "nada"])
def test_a_call_cannot_skip_phases_or_go_back(
    admin: Any, published: Convocatoria, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("idea.chile.utcnow", lambda: datetime(2027, 3, 1, tzinfo=UTC))
    assert admin.post(f"{BASE}/{published.id}/fase", data={"target": "admisibilidad"}).status_code == 302
    response = admin.post(f"{BASE}/{published.id}/fase", data={"target": target})
    assert response.status_code == 422
    page = text(response)
    if target == "nada":
        assert "Unknown phase." in page
    else:
        assert ("A call moves forward one phase at a time: from “Admissibility review” it can only go to "
                "“Evaluation”.") in page
    assert calls()[0].fase == Fase.ADMISIBILIDAD
    assert len(events("convocatoria.fase_changed")) == 1


def test_another_package_can_veto_a_phase_change(
    admin: Any, published: Convocatoria, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("idea.chile.utcnow", lambda: datetime(2027, 3, 1, tzinfo=UTC))

    def not_yet(convocatoria: Convocatoria, target: Fase) -> str | None:
        return "Scoring is not complete." if target == Fase.ADMISIBILIDAD else None

    operations.fase_change_requested.connect(not_yet)
    try:
        response = admin.post(f"{BASE}/{published.id}/fase", data={"target": "admisibilidad"})
    finally:
        operations.fase_change_requested.disconnect(not_yet)
    assert response.status_code == 422 and "Scoring is not complete." in text(response)
    assert calls()[0].fase == Fase.POSTULACION


# --- who may --------------------------------------------------------------------------------------------

def _attempts(call: Convocatoria, desafio: Desafio) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", f"{BASE}/nueva", None),
        ("POST", f"{BASE}/nueva", call_form()),
        ("GET", f"{BASE}/{call.id}/editar", None),
        ("POST", f"{BASE}/{call.id}/editar", call_form(title="Hackeada")),
        ("POST", f"{BASE}/{call.id}/publicar", {}),
        ("POST", f"{BASE}/{call.id}/fase", {"target": "postulacion"}),
        ("POST", f"{BASE}/{call.id}/desafios/nuevo", desafio_form(**indicator(0, "a", "b", "1", "c"))),
        ("POST", f"{BASE}/{call.id}/desafios/{desafio.id}", desafio_form(**indicator(0, "a", "b", "1", "c"))),
        ("POST", f"{BASE}/{call.id}/desafios/{desafio.id}/eliminar", {}),
    ]


@pytest.mark.parametrize("role", [Role.POSTULANTE, Role.EVALUADOR, Role.ENCARGADO_TECNICO, Role.COMITE])
def test_only_admins_change_calls(
    login_as: Callable[..., Any], role: Role, draft: Callable[..., Convocatoria],
    make_desafio: Callable[..., Desafio], fixed_now: datetime,
) -> None:
    call = draft(title="Original")
    desafio = make_desafio(call)
    user = login_as(role)
    for method, url, data in _attempts(call, desafio):
        response = user.open(url, method=method, data=data)
        assert response.status_code == 403, (role, method, url)
    [call] = calls()
    assert (call.title, call.fase, len(call.desafios)) == ("Original", Fase.BORRADOR, 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventoAuditoria)) == 0


def test_anonymous_visitors_are_sent_to_log_in(
    client: Any, draft: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio]
) -> None:
    call = draft()
    desafio = make_desafio(call)
    pages = [("GET", f"{BASE}/", None), ("GET", f"{BASE}/{call.id}", None),
             ("GET", f"{BASE}/{call.id}/vista-previa", None)]
    for method, url, data in [*_attempts(call, desafio), *pages]:
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, (method, url)
        assert "/cuenta/ingresar" in response.headers["Location"]
    assert len(calls()) == 1 and calls()[0].fase == Fase.BORRADOR


@pytest.mark.parametrize("role", [Role.POSTULANTE, Role.EVALUADOR])
def test_applicants_and_reviewers_cannot_see_the_admin_pages(
    login_as: Callable[..., Any], role: Role, draft: Callable[..., Convocatoria]
) -> None:
    call = draft()
    user = login_as(role)
    for url in (f"{BASE}/", f"{BASE}/{call.id}", f"{BASE}/{call.id}/vista-previa"):
        assert user.get(url).status_code == 403
    assert "Administration" not in text(english(user).get("/"))


def test_a_technical_lead_sees_the_calls_of_their_scope_read_only(
    login_as: Callable[..., Any], make_user: Callable[..., Any], draft: Callable[..., Convocatoria]
) -> None:
    mine, other = draft(title="Convocatoria propia"), draft(title="Convocatoria ajena")
    lead = english(login_as(make_user(Role.ENCARGADO_TECNICO, convocatoria_id=mine.id)))
    listing = text(lead.get(f"{BASE}/"))
    assert "Convocatoria propia" in listing and "Convocatoria ajena" not in listing
    assert "New call" not in listing
    assert "Administration" in text(lead.get("/"))
    page = lead.get(f"{BASE}/{mine.id}")
    assert page.status_code == 200
    assert "Publish the call" not in text(page) and "Edit call" not in text(page)
    assert lead.get(f"{BASE}/{mine.id}/vista-previa").status_code == 200
    assert lead.get(f"{BASE}/{other.id}").status_code == 404
    assert lead.get(f"{BASE}/{other.id}/vista-previa").status_code == 404


def test_admins_get_a_menu_link_and_can_bind_roles_to_a_call(
    admin: Any, draft: Callable[..., Convocatoria]
) -> None:
    draft(title="Fondo IDEA Regiones")
    # One "Administration" entry in the menu; the calls are one of its sections.
    home = text(admin.get("/"))
    assert home.count('href="/admin/"') == 1 and f'href="{BASE}/"' not in home
    assert f'href="{BASE}/"' in text(admin.get("/admin/"))
    page = text(admin.get("/admin/usuarios/invitar"))
    assert "Fondo IDEA Regiones (2027)" in page


# --- Chilean clock changes ---------------------------------------------------------------------------

def test_a_deadline_on_the_repeated_hour_is_the_later_one_whatever_the_precision_typed(admin: Any) -> None:
    """On 4 April 2026 clocks go back at midnight, so 23:00-23:59:59 happens twice: a deadline typed to the
    second, to the minute or as a bare date closes at the same, later instant."""
    for typed in ("2026-04-04T23:59:59", "2026-04-04T23:59", "2026-04-04 23:59:59", "2026-04-04"):
        response = admin.post(f"{BASE}/nueva", data=call_form(
            year="2026", submissions_open_at="2026-03-01T09:00", submissions_close_at=typed))
        assert response.status_code == 302
    assert {c.submissions_close_at for c in calls()} == {datetime(2026, 4, 5, 3, 59, 59, tzinfo=UTC)}
    # A start date on the repeated hour keeps the first one (it never opens late either).
    admin.post(f"{BASE}/nueva", data=call_form(year="2026", submissions_open_at="2026-04-04T23:30:00"))
    assert calls()[-1].submissions_open_at == datetime(2026, 4, 5, 2, 30, tzinfo=UTC)


def test_the_admin_is_told_when_a_time_typed_does_not_exist_in_chile(login_as: Callable[..., Any]) -> None:
    admin = login_as(Role.ADMIN)  # in Spanish, as the admin reads it
    response = admin.post(f"{BASE}/nueva", data=call_form(
        year="2026", submissions_open_at="2026-09-06", submissions_close_at="2026-09-06T00:30",
        vote_close_at="2026-04-04T23:59"), follow_redirects=True)
    assert response.status_code == 200
    [call] = calls()
    assert call.submissions_open_at == call.submissions_close_at == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    page = text(response)
    assert ("Cierre de postulaciones: la hora 00:30 del 06-09-2026 no existe en Chile (cambio de horario); "
            "se guardó 01:00.") in page
    assert "la hora 00:00 del 06-09-2026 no existe en Chile (cambio de horario); se guardó 01:00." in page
    assert "la hora 23:59 del 04-04-2026 ocurre dos veces en Chile" in page
    # Saving again what is now on screen says nothing more.
    again = admin.post(f"{BASE}/{call.id}/editar", data=call_form(
        year="2026", submissions_open_at="2026-09-06T01:00", submissions_close_at="2026-09-06T01:00"),
        follow_redirects=True)
    assert "no existe en Chile" not in text(again)
