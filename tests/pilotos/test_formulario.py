"""The full form (formulario completo): locked until the required modules are done, every rule checked on
the server in one place with nothing half-written, the team sees only its own form, send back → correct →
accept with its history kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from evaluacion.comite_models import Decision
from idea.audit import EventoAuditoria
from idea.chile import from_santiago
from idea.extensions import db
from idea.models import Role, User
from pilotos import formulario as fops
from pilotos import operations as ops
from pilotos.formulario_models import EstadoFormulario, FormularioCompleto, RevisionFormulario
from pilotos.models import Equipo
from tests.pilotos.conftest import Formacion


@pytest.fixture
def ready(
    formacion: Callable[..., Formacion], make_user: Callable[..., User]
) -> Callable[..., tuple[Formacion, Equipo]]:
    """A call in training with an execution period (March–December 2027), one required module the first
    team has completed (when `done`), and an award of $24.000.000 for that team."""

    def factory(done: bool = True) -> tuple[Formacion, Equipo]:
        f = formacion()
        c = f.convocatoria
        c.execution_start_at = from_santiago(datetime(2027, 3, 1, 9))
        c.closing_at = from_santiago(datetime(2027, 12, 31, 18))
        admin = make_user(Role.ADMIN)
        modulo = ops.save_modulo(
            admin, c, ops.ModuloData(title="Teoría de cambio", body="", required=True, items=["Uno", "Dos"])
        )
        ops.save_modulo(admin, c, ops.ModuloData(title="Opcional", body="", required=False, items=["Tres"]))
        equipo = f.equipos[0]
        db.session.execute(
            sa.update(Decision)
            .where(Decision.postulacion_id == equipo.postulacion_id)
            .values(awarded_amount=24_000_000)
        )
        if done:
            owner = db.session.get(User, equipo.miembros[0].user_id)
            ops.set_progress(owner, equipo, modulo, {i.id for i in modulo.items})
        db.session.commit()
        return f, equipo

    return factory


def _owner(equipo: Equipo) -> User:
    return db.session.get(User, equipo.miembros[0].user_id)


def valid(**over: Any) -> dict[str, str]:
    data = {
        "problem": "Muchas familias sin acceso a cuidado.",
        "activities": "Talleres y visitas.",
        "outputs": "40 visitas.",
        "outcomes": "Más familias atendidas.",
        "impact": "Menos pobreza multidimensional.",
        "lineas-0-item": "Coordinadora",
        "lineas-0-category": "personal",
        "lineas-0-amount": "$20.000.000",
        "lineas-1-item": "Materiales de talleres",
        "lineas-1-category": "materiales",
        "lineas-1-amount": "4.000.000",
        "indicadores-0-name": "Familias atendidas",
        "indicadores-0-unit": "familias",
        "indicadores-0-baseline": "10",
        "indicadores-0-target": "40,5",
        "actividades-0-description": "Talleres",
        "actividades-0-starts_on": "2027-03-10",
        "actividades-0-ends_on": "2027-06-30",
        "riesgos-0-risk": "Baja asistencia",
        "riesgos-0-mitigation": "Horarios flexibles",
    }
    data.update(over)
    return data


def _count(model: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_the_form_is_locked_until_the_required_modules_are_done(ready: Any, login_as: Any, app: Any) -> None:
    f, equipo = ready(done=False)
    client = login_as(_owner(equipo))
    page = client.get(f"/equipo/{equipo.id}/formulario")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Teoría de cambio" in html and 'name="send"' not in html
    assert client.post(f"/equipo/{equipo.id}/formulario", data=valid(send="1")).status_code == 403
    with app.test_request_context(), pytest.raises(ops.FormacionError, match="módulos obligatorios"):
        fops.save(_owner(equipo), equipo, fops.FormularioData(), submit=False)
    assert _count(FormularioCompleto) == 0


def test_prefilled_with_the_challenge_baseline(ready: Any, login_as: Any) -> None:
    f, equipo = ready()
    html = login_as(_owner(equipo)).get(f"/equipo/{equipo.id}/formulario").get_data(as_text=True)
    assert 'value="Indicador 1"' in html and 'value="12,5"' in html
    assert 'name="send"' in html


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"lineas-1-amount": "3.999.999"}, "deben sumar exactamente"),
        ({"indicadores-0-baseline": ""}, "una meta necesita una línea base"),
        ({"actividades-0-ends_on": "2028-01-15"}, "dentro del período de ejecución"),
        ({"actividades-0-starts_on": "2027-02-28"}, "dentro del período de ejecución"),
        ({"lineas-0-category": "fiestas"}, "Línea de presupuesto 1"),
    ],
)
def test_each_broken_rule_is_refused_with_a_clear_message_and_nothing_written(
    ready: Any, login_as: Any, over: dict[str, str], message: str
) -> None:
    f, equipo = ready()
    client = login_as(_owner(equipo))
    # A draft saved first: a refused send must leave it exactly as it was.
    assert (
        client.post(f"/equipo/{equipo.id}/formulario", data={"problem": "Borrador", "save": "1"}).status_code
        == 302
    )
    events = _count(EventoAuditoria)
    response = client.post(f"/equipo/{equipo.id}/formulario", data=valid(send="1", **over))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    formulario = fops.formulario_of(equipo)
    assert formulario is not None
    assert formulario.status == EstadoFormulario.BORRADOR and formulario.problem == "Borrador"
    assert formulario.presupuesto == [] and formulario.actividades == []
    assert _count(RevisionFormulario) == 0 and _count(EventoAuditoria) == events


def test_the_one_validation_collects_every_message(ready: Any, app: Any) -> None:
    f, equipo = ready()
    data = fops.FormularioData(
        lineas=[fops.LineaData("Algo", "personal", 1000)],
        indicadores=[fops.IndicadorData("X", "%", None, None)],
        actividades=[fops.ActividadData("A", date(2026, 1, 1), date(2026, 1, 2))],
    )
    with app.test_request_context():
        errors = fops.check(equipo, data, submit=True)
        draft = fops.check(equipo, data, submit=False)
    text = " ".join(errors)
    assert "1 de marzo de 2027" in text
    assert "$1.000" in text and "$24.000.000" in text
    assert "Teoría de cambio" in text
    # A draft keeps only the row rules: the total may still be incomplete.
    assert not any("$24.000.000" in e for e in draft)


def test_send_back_correct_accept_with_history(ready: Any, login_as: Any, outbox: Any) -> None:
    f, equipo = ready()
    team = login_as(_owner(equipo))
    assert team.post(f"/equipo/{equipo.id}/formulario", data=valid(send="1")).status_code == 302
    formulario = fops.formulario_of(equipo)
    assert formulario.status == EstadoFormulario.ENVIADO
    assert sum(r["amount"] for r in formulario.presupuesto) == 24_000_000
    # Sent: the team can no longer change it.
    assert team.post(f"/equipo/{equipo.id}/formulario", data=valid(save="1")).status_code == 403

    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/formacion/formularios/{formulario.id}"
    assert "Familias atendidas" in lead.get(url).get_data(as_text=True)
    empty = lead.post(url, data={"comment": "", "send_back": "1"})
    assert empty.status_code == 422 and "Escribe qué" in empty.get_data(as_text=True)
    assert lead.post(url, data={"comment": "Detallen la meta.", "send_back": "1"}).status_code == 302
    db.session.expire_all()
    assert formulario.status == EstadoFormulario.CON_OBSERVACIONES
    assert "Detallen la meta." in team.get(f"/equipo/{equipo.id}/formulario").get_data(as_text=True)
    (returned,) = outbox.to(_owner(equipo).email)
    assert returned.subject == f"Equipo {equipo.name}: tu formulario completo fue devuelto con observaciones"
    assert "Detallen la meta." in returned.body and f"/equipo/{equipo.id}/formulario" in returned.body

    assert (
        team.post(
            f"/equipo/{equipo.id}/formulario", data=valid(send="1", **{"indicadores-0-target": "45"})
        ).status_code
        == 302
    )
    assert lead.post(url, data={"comment": "", "accept": "1"}).status_code == 302
    db.session.expire_all()
    assert formulario.status == EstadoFormulario.ACEPTADO
    assert outbox.to(_owner(equipo).email)[-1].subject.endswith("tu formulario completo fue aceptado")
    assert [h.action.value for h in formulario.historial] == ["enviado", "observado", "enviado", "aceptado"]
    assert formulario.historial[0].snapshot["indicadores"][0]["target"] == "40.5"
    assert formulario.indicadores[0]["target"] == "45"
    assert team.post(f"/equipo/{equipo.id}/formulario", data=valid(save="1")).status_code == 403
    actions = set(db.session.scalars(sa.select(EventoAuditoria.action)))
    assert {"formulario.sent", "formulario.returned", "formulario.accepted"} <= actions


def test_a_team_sees_only_its_own_form(ready: Any, login_as: Any) -> None:
    f, equipo = ready()
    other = f.equipos[1]
    client = login_as(_owner(other))
    assert client.get(f"/equipo/{equipo.id}/formulario").status_code == 404
    assert client.post(f"/equipo/{equipo.id}/formulario", data=valid(save="1")).status_code == 404
    login_as(_owner(equipo)).post(f"/equipo/{equipo.id}/formulario", data=valid(send="1"))
    formulario = fops.formulario_of(equipo)
    # Neither a team member nor a lead of another region reviews it.
    assert client.get(f"/gestion/formacion/formularios/{formulario.id}").status_code == 403
    assert (
        login_as(Role.ENCARGADO_TECNICO, region="08")
        .get(f"/gestion/formacion/formularios/{formulario.id}")
        .status_code
        == 404
    )


def test_add_rows_writes_nothing(ready: Any, login_as: Any) -> None:
    f, equipo = ready()
    client = login_as(_owner(equipo))
    response = client.post(f"/equipo/{equipo.id}/formulario", data=valid(add_rows="1"))
    assert response.status_code == 200
    assert 'name="lineas-3-item"' in response.get_data(as_text=True)
    assert _count(FormularioCompleto) == 0


def test_lead_list_of_forms(ready: Any, login_as: Any, count_queries: list[str]) -> None:
    f, equipo = ready()
    login_as(_owner(equipo)).post(f"/equipo/{equipo.id}/formulario", data=valid(send="1"))
    lead = login_as(Role.ENCARGADO_TECNICO)
    count_queries.clear()
    page = lead.get(f"/gestion/formacion/{f.convocatoria.id}/formularios")
    assert page.status_code == 200 and "Enviado" in page.get_data(as_text=True)
    assert len(count_queries) < 15


def test_demo_data_has_a_form_sent_back_and_one_accepted(app: Any) -> None:
    from pilotos.formulario_seed import seed_demo_formularios
    from pilotos.seed import seed_demo_formacion

    seed_demo_formacion()
    seed_demo_formularios()
    db.session.commit()
    seed_demo_formularios()  # idempotent
    formularios = list(db.session.scalars(sa.select(FormularioCompleto).order_by(FormularioCompleto.id)))
    assert [f.status for f in formularios] == [EstadoFormulario.CON_OBSERVACIONES, EstadoFormulario.ACEPTADO]
    with app.test_request_context():
        for formulario in formularios:
            assert fops.is_unlocked(formulario.equipo)
            assert fops.check(formulario.equipo, fops.from_formulario(formulario), submit=True) == []
