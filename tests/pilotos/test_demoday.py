"""Demo day: a four-helix jury before it opens, recused jurors cannot score, scores 1–7 with live totals for
the organiser only, the final selection under the remaining budget with the committee's solver, recorded
per team with its reason, and award letters e-mailed once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from idea.audit import EventoAuditoria
from idea.extensions import db
from idea.models import Role, User
from pilotos import demoday as dops
from pilotos import formulario as fops
from pilotos.demoday_models import (
    AdjudicacionDemoDay,
    DemoDay,
    EstadoDemoDay,
    PuntajePitch,
    ResultadoDemoDay,
)
from tests.pilotos.conftest import Formacion

HELICES = ("estado", "academia", "empresa", "sociedad_civil")


@pytest.fixture
def demo(formacion: Callable[..., Formacion], make_user: Callable[..., User], app: Any) -> Callable[..., Any]:
    def factory(jurors: int = 4, budget: int | None = None) -> tuple[Formacion, DemoDay, list[User]]:
        f = formacion(regions=("13", "13", "08"))
        admin = make_user(Role.ADMIN)
        santiago = [e for e in f.equipos if e.region == "13"]
        amounts = [fops.awarded_amount(e) for e in santiago]
        with app.test_request_context():
            demoday = dops.create_demoday(
                admin, f.convocatoria, "Demo day RM", ["13"], budget if budget is not None else max(amounts)
            )
            users = [make_user(Role.JURADO) for _ in range(jurors)]
            for user, helix in zip(users, HELICES, strict=False):
                dops.add_juror(admin, demoday, user, helix)
        db.session.commit()
        return f, demoday, users

    return factory


def _scores(demoday: DemoDay, value: int) -> dict[str, str]:
    return {f"c{c.id}": str(value) for c in demoday.criterios}


def test_no_demo_day_opens_without_the_four_helices(
    demo: Any, login_as: Any, make_user: Any, app: Any
) -> None:
    f, demoday, users = demo(jurors=3)
    lead = login_as(Role.ENCARGADO_TECNICO)
    response = lead.post(f"/gestion/formacion/demoday/{demoday.id}/abrir", follow_redirects=True)
    assert "falta: Sociedad civil" in response.get_data(as_text=True)
    db.session.expire_all()
    assert demoday.status == EstadoDemoDay.PREPARACION
    # A person without the juror role cannot be added; with the fourth helix it opens.
    with app.test_request_context(), pytest.raises(dops.FormacionError):
        dops.add_juror(users[0], demoday, make_user(Role.EVALUADOR), "sociedad_civil")
    lead.post(
        f"/gestion/formacion/demoday/{demoday.id}/jurados",
        data={"email": make_user(Role.JURADO, email="sc@example.cl").email, "helix": "sociedad_civil"},
    )
    assert lead.post(f"/gestion/formacion/demoday/{demoday.id}/abrir").status_code == 302
    db.session.expire_all()
    assert demoday.status == EstadoDemoDay.ABIERTO


def test_a_recused_juror_cannot_score_that_team(demo: Any, login_as: Any) -> None:
    f, demoday, users = demo()
    login_as(Role.ENCARGADO_TECNICO).post(f"/gestion/formacion/demoday/{demoday.id}/abrir")
    equipo = f.equipos[0]
    juror = login_as(users[2])
    url = f"/jurado/demoday/{demoday.id}/equipos/{equipo.id}"
    assert juror.post(url + "/conflicto", data={"reason": "Soy socia de la organización."}).status_code == 302
    response = juror.post(url, data=_scores(demoday, 6))
    assert response.status_code == 403
    assert "Declaraste un conflicto" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(PuntajePitch.id))) == 0
    # The others still score it; a team of another region is not on this demo day; a non-juror sees nothing.
    assert login_as(users[0]).post(url, data=_scores(demoday, 6)).status_code == 302
    biobio = next(e for e in f.equipos if e.region == "08")
    assert login_as(users[0]).get(f"/jurado/demoday/{demoday.id}/equipos/{biobio.id}").status_code == 404
    assert login_as(Role.JURADO).get(f"/jurado/demoday/{demoday.id}").status_code == 404


def test_scores_must_be_1_to_7_on_every_criterion(demo: Any, login_as: Any) -> None:
    f, demoday, users = demo()
    login_as(Role.ENCARGADO_TECNICO).post(f"/gestion/formacion/demoday/{demoday.id}/abrir")
    data = _scores(demoday, 5)
    data[f"c{demoday.criterios[0].id}"] = "9"
    response = login_as(users[0]).post(f"/jurado/demoday/{demoday.id}/equipos/{f.equipos[0].id}", data=data)
    assert response.status_code == 422 and "de 1 a 7" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(PuntajePitch.id))) == 0


def test_live_totals_for_the_organiser_only(demo: Any, login_as: Any) -> None:
    f, demoday, users = demo()
    lead = login_as(Role.ENCARGADO_TECNICO)
    lead.post(f"/gestion/formacion/demoday/{demoday.id}/abrir")
    login_as(users[0]).post(
        f"/jurado/demoday/{demoday.id}/equipos/{f.equipos[0].id}", data=_scores(demoday, 7)
    )
    assert "Totales en vivo" in lead.get(f"/gestion/formacion/demoday/{demoday.id}").get_data(as_text=True)
    assert login_as(users[0]).get(f"/gestion/formacion/demoday/{demoday.id}").status_code == 403
    assert (
        login_as(Role.ENCARGADO_TECNICO, region="08")
        .get(f"/gestion/formacion/demoday/{demoday.id}")
        .status_code
        == 404
    )


def test_scoring_and_award_recorded_and_letters_sent_once(demo: Any, login_as: Any, outbox: Any) -> None:
    f, demoday, users = demo()
    lead = login_as(Role.ENCARGADO_TECNICO)
    lead.post(f"/gestion/formacion/demoday/{demoday.id}/abrir")
    first, second = [e for e in f.equipos if e.region == "13"]
    # One juror is recused from the first team; every other juror scores both, the first team higher.
    login_as(users[3]).post(
        f"/jurado/demoday/{demoday.id}/equipos/{first.id}/conflicto",
        data={"reason": "Familiar en el equipo."},
    )
    for n, user in enumerate(users):
        client = login_as(user)
        if n != 3:
            client.post(f"/jurado/demoday/{demoday.id}/equipos/{first.id}", data=_scores(demoday, 6 + n % 2))
        client.post(f"/jurado/demoday/{demoday.id}/equipos/{second.id}", data=_scores(demoday, 4))
    rows = {t.equipo.id: t for t in dops.totals(db.session.get(DemoDay, demoday.id))}
    assert len(rows[first.id].by_juror) == 3 and rows[first.id].recused
    assert rows[second.id].mean == pytest.approx(4.0)
    outbox.messages.clear()
    assert lead.post(f"/gestion/formacion/demoday/{demoday.id}/adjudicar").status_code == 302
    db.session.expire_all()
    records = {a.equipo_id: a for a in db.session.scalars(sa.select(AdjudicacionDemoDay))}
    assert records[first.id].outcome == ResultadoDemoDay.ADJUDICADO
    assert records[first.id].amount == fops.awarded_amount(first) and records[first.id].reason
    assert records[second.id].outcome == ResultadoDemoDay.NO_ADJUDICADO and records[second.id].reason
    assert db.session.get(DemoDay, demoday.id).status == EstadoDemoDay.CERRADO
    assert db.session.scalar(sa.select(EventoAuditoria.id).where(EventoAuditoria.action == "demoday.awarded"))
    owner = db.session.get(User, first.miembros[0].user_id)
    assert len(outbox.to(owner.email)) == 1 and "adjudicado" in outbox.to(owner.email)[0].subject
    assert all(a.letter_sent_at is not None for a in records.values())
    # Once: rerunning the job sends nothing more; a closed demo day cannot be awarded again.
    sent = len(outbox)
    assert dops.send_award_letters(demoday.id) == 0
    assert len(outbox) == sent
    lead.post(f"/gestion/formacion/demoday/{demoday.id}/adjudicar")
    assert db.session.scalar(sa.select(sa.func.count(AdjudicacionDemoDay.id))) == 2


def test_demo_data_demo_day_ready_to_score(app: Any) -> None:
    from idea.cli import seed_demo_users
    from pilotos.demoday_seed import seed_demo_demoday
    from pilotos.seed import seed_demo_formacion

    seed_demo_users()
    seed_demo_formacion()
    demoday = seed_demo_demoday()
    db.session.commit()
    assert seed_demo_demoday() is None
    assert demoday.status == EstadoDemoDay.ABIERTO and not dops.missing_helices(demoday)
    assert any(j.user.email == "jurado@demo.fondoidea.cl" for j in demoday.jurados)
    assert sum(len(dops.conflicted_teams(j)) for j in demoday.jurados) == 1
