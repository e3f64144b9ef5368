"""Mentoring: the 8-week plan, suggested mentors (capacity, conflicts, region, expertise), the lead's
confirmation with the capacity enforced on the server, sessions logged by the mentor and commented by the
team, weeks without a session flagged and reminded once, and who may see which mentoring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from idea.chile import utcnow
from idea.extensions import db
from idea.jobs import commit
from idea.models import Role, User
from pilotos import mentoria as ops
from pilotos import mentoria_rules as rules
from pilotos.mentoria_models import (
    ComentarioSesion,
    ConflictoMentor,
    Mentor,
    Mentoria,
    RecordatorioMentoria,
    SesionMentoria,
    TipoOrganizacionMentor,
)
from pilotos.mentoria_reminders import send_mentoring_reminders
from tests.convocatorias.conftest import valid_rut
from tests.pilotos.conftest import Formacion

# --- helpers -----------------------------------------------------------------------------------------


@pytest.fixture
def make_mentor(make_user: Callable[..., User]) -> Callable[..., Mentor]:
    def factory(
        region: str | None = "13",
        tags: tuple[str, ...] = ("personas_mayores",),
        capacity: int = 2,
        user: User | None = None,
        name: str = "Mentora de Prueba",
    ) -> Mentor:
        user = user or make_user(Role.MENTOR, name=name)
        mentor = ops.save_mentor(
            user,
            user,
            ops.MentorData(
                organization="Universidad de Prueba",
                kind=TipoOrganizacionMentor.UNIVERSIDAD,
                tags=list(tags),
                region=region,
                capacity=capacity,
            ),
        )
        db.session.commit()
        return mentor

    return factory


def _owner(equipo: Any) -> User:
    return db.session.get(User, equipo.miembros[0].user_id)


def _match(equipo: Any, mentor: Mentor, start: date | None = None) -> Mentoria:
    admin = db.session.scalar(sa.select(User).limit(1))
    mentoria = ops.confirm_match(admin, equipo, mentor, start or ops.today())
    db.session.commit()
    return mentoria


def _older_people(f: Formacion) -> None:
    desafio = f.postulaciones[0].desafio
    desafio.title = "Soledad no deseada"
    desafio.problem = "Las personas mayores que viven solas tienen poco contacto con su barrio."
    db.session.commit()


# --- the plan ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        date(2026, 8, 20),
        date(2026, 3, 20),
        date(2026, 12, 28),
    ],  # across Chile's September and April DST changes
)
def test_the_plan_is_eight_weeks_of_calendar_dates_whatever_the_clock_change(start: date) -> None:
    weeks = rules.plan(start)
    assert [w.number for w in weeks] == list(range(1, 9))
    assert weeks[0].start == start
    for previous, week in zip(weeks, weeks[1:], strict=False):
        assert week.start == previous.end + timedelta(days=1)
        assert (week.end - week.start).days == 6
    assert weeks[-1].end == rules.plan_end(start) == start + timedelta(days=55)
    assert rules.week_of(start, start - timedelta(days=1)) is None
    assert rules.week_of(start, start + timedelta(days=56)) is None
    assert rules.week_of(start, start + timedelta(days=7)) == 2


def test_missed_weeks_are_the_finished_ones_without_a_session() -> None:
    start = date(2026, 9, 1)
    today = start + timedelta(days=22)  # in week 4
    assert rules.missed_weeks(start, [start + timedelta(days=2)], today) == [2, 3]
    assert (
        rules.missed_weeks(start, [start, start + timedelta(days=8), start + timedelta(days=20)], today) == []
    )
    # The current week is never missed yet; the plan's end closes the count at eight.
    assert rules.missed_weeks(start, [], start + timedelta(days=365)) == list(range(1, 9))


def test_the_mentoring_page_shows_the_plan_in_chilean_dates(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    mentor = make_mentor()
    mentoria = _match(f.equipos[0], mentor, ops.today() - timedelta(days=3))
    page = login_as(mentor.user).get(f"/mentoria/{mentoria.id}")
    assert page.status_code == 200
    for n in range(1, 9):
        assert f"Semana {n}" in page.text
    from idea.chile import format_date_es

    assert format_date_es(rules.plan_end(mentoria.start_date)) in page.text


# --- suggestions -------------------------------------------------------------------------------------


def _team(region: str = "13", text: str = "personas mayores solas", rut: str | None = "70000001-2") -> Any:
    return rules.PerfilEquipo(equipo_id=1, region=region, text=text, rut=rut)


def _mentor(mentor_id: int, **fields: Any) -> rules.PerfilMentor:
    defaults: dict[str, Any] = {"region": "13", "tags": ("personas_mayores",), "capacity": 2, "active": 0}
    defaults.update(fields)
    return rules.PerfilMentor(mentor_id=mentor_id, **defaults)


def test_suggestions_rank_by_region_and_expertise_and_explain_why(app: Any) -> None:
    mentors = [
        _mentor(1),  # same region + expertise: 5
        _mentor(2, region="08"),  # expertise only: 2
        _mentor(3, region=None, tags=("tecnologia",)),  # any region, no expertise: 1
        _mentor(4, region="08", tags=("tecnologia",)),  # nothing in common: not suggested
        _mentor(5, tags=("personas_mayores", "soledad")),  # free tag found in the text: 7
    ]
    team = _team(text="Soledad de personas mayores")
    suggestions = rules.suggest(team, mentors)
    assert [(s.mentor_id, s.score) for s in suggestions] == [(5, 7), (1, 5), (2, 2), (3, 1)]
    with app.test_request_context(headers={"Accept-Language": "es"}):
        reasons = [rules.reason_text(r) for r in suggestions[0].reasons]
    assert reasons == ["misma región", "experiencia en personas mayores", "experiencia en soledad"]


def test_suggestions_leave_out_full_mentors_and_declared_conflicts() -> None:
    team = _team()
    mentors = [
        _mentor(1, capacity=2, active=2),  # full
        _mentor(2, conflict_ruts=frozenset({"70000001-2"})),  # conflict with the organisation
        _mentor(3, conflict_equipos=frozenset({1})),  # conflict with the team
        _mentor(4, capacity=3, active=2),  # one place left
    ]
    assert [s.mentor_id for s in rules.suggest(team, mentors)] == [4]


def test_ties_go_to_the_mentor_with_more_room() -> None:
    mentors = [_mentor(1, capacity=2, active=1), _mentor(2, capacity=3, active=0)]
    assert [s.mentor_id for s in rules.suggest(_team(), mentors)] == [2, 1]


def test_the_lead_sees_suggestions_from_the_database(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion(regions=("13", "08"))
    _older_people(f)
    near = make_mentor(region="13", name="Cercana Experta")
    far = make_mentor(region="05", tags=("tecnologia",), name="Lejana Sin Relación")
    conflicted = make_mentor(region="13", name="Con Conflicto")
    ops.declare_conflict(conflicted.user, conflicted, rut=f.equipos[0].postulacion.organizacion.rut)
    db.session.commit()
    page = login_as(Role.ENCARGADO_TECNICO).get(
        f"/gestion/formacion/{f.convocatoria.id}/mentorias/equipos/{f.equipos[0].id}"
    )
    assert page.status_code == 200
    suggested = page.text.split("Confirmar una mentora o mentor")[0]
    assert near.user.name in suggested and "misma región" in suggested
    assert far.user.name not in suggested
    assert conflicted.user.name not in page.text  # neither suggested nor offered


# --- confirming a match ------------------------------------------------------------------------------


def test_the_lead_confirms_a_match_and_the_capacity_is_enforced_on_the_server(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion(regions=("13", "13"))
    mentor = make_mentor(capacity=1)
    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/formacion/{f.convocatoria.id}/mentorias/equipos/{{}}"
    data = {"mentor_id": str(mentor.id), "start_date": ops.today().isoformat()}
    assert lead.post(url.format(f.equipos[0].id), data=data).status_code == 302
    # The second team: the mentor is full (the option is not even offered, and a forged POST is refused).
    refused = lead.post(url.format(f.equipos[1].id), data=data)
    assert refused.status_code == 422
    assert "Opción inválida" in refused.text or "no tiene cupo" in refused.text
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Mentoria.id))) == 1
    assert db.session.get(Mentor, mentor.id).active_count == 1


def test_confirm_match_refuses_a_full_mentor_a_conflict_and_a_second_active_mentor(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], app: Any
) -> None:
    f = formacion(regions=("13", "13"))
    full = make_mentor(capacity=1)
    _match(f.equipos[0], full)
    with app.test_request_context(headers={"Accept-Language": "es"}):
        with pytest.raises(ops.FormacionError, match="no tiene cupo"):
            ops.confirm_match(full.user, f.equipos[1], full, ops.today())
        db.session.rollback()
        other = make_mentor()
        with pytest.raises(ops.FormacionError, match="ya tiene"):
            ops.confirm_match(other.user, f.equipos[0], other, ops.today())
        db.session.rollback()
        ops.declare_conflict(other.user, other, equipo=f.equipos[1])
        db.session.commit()
        with pytest.raises(ops.FormacionError, match="conflicto de interés"):
            ops.confirm_match(other.user, f.equipos[1], other, ops.today())
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Mentoria.id))) == 1


def test_ending_a_mentoring_frees_the_place(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    mentor = make_mentor(capacity=1)
    mentoria = _match(f.equipos[0], mentor)
    lead = login_as(Role.ENCARGADO_TECNICO)
    assert lead.post(f"/mentoria/{mentoria.id}/finalizar").status_code == 302
    db.session.expire_all()
    assert db.session.get(Mentor, mentor.id).active_count == 0
    # A mentor cannot end a mentoring (a lead's action).
    assert login_as(mentor.user).post(f"/mentoria/{mentoria.id}/finalizar").status_code == 403


# --- sessions and comments ---------------------------------------------------------------------------


def test_a_mentor_logs_two_sessions_and_the_team_comments(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    mentor = make_mentor()
    start = ops.today() - timedelta(days=10)
    mentoria = _match(f.equipos[0], mentor, start)
    client = login_as(mentor.user)
    for day, topics in ((start, "Árbol de problemas"), (start + timedelta(days=8), "Indicadores")):
        response = client.post(
            f"/mentoria/{mentoria.id}/sesiones",
            data={
                "held_on": day.isoformat(),
                "duration_minutes": "60",
                "topics": topics,
                "agreements": "Revisar con la comunidad",
                "next_steps": "Enviar borrador",
            },
        )
        assert response.status_code == 302
    sesiones = list(db.session.scalars(sa.select(SesionMentoria).order_by(SesionMentoria.held_on)))
    assert [s.topics for s in sesiones] == ["Árbol de problemas", "Indicadores"]

    team = login_as(_owner(f.equipos[0]))
    assert team.get(f"/equipo/{f.equipos[0].id}/mentoria").status_code == 302  # to its mentoring
    page = team.get(f"/mentoria/{mentoria.id}")
    assert page.status_code == 200 and "Árbol de problemas" in page.text and "Indicadores" in page.text
    assert "Registrar sesión" not in page.text  # only the mentor logs
    posted = team.post(
        f"/mentoria/{mentoria.id}/sesiones/{sesiones[0].id}/comentarios",
        data={f"s{sesiones[0].id}-body": "Ya lo compartimos con la junta de vecinos."},
    )
    assert posted.status_code == 302
    assert "Ya lo compartimos" in client.get(f"/mentoria/{mentoria.id}").text  # the mentor reads it
    # Two sessions in weeks 1 and 2: nothing missed.
    assert ops.estados([mentoria])[mentoria.id].missed == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"held_on": "2999-01-01"}, "no puede ser futura"),
        ({"held_on": "2000-01-01"}, "plan de 8 semanas"),
        ({"held_on": "no-es-fecha"}, "fecha"),
        ({"duration_minutes": "0"}, "entre 1 y 600"),
        ({"duration_minutes": "diez"}, "número"),
        ({"topics": "   "}, "Escribe los temas"),
    ],
)
def test_bad_session_input_is_refused_in_spanish_and_nothing_is_written(
    formacion: Callable[..., Formacion],
    make_mentor: Callable[..., Mentor],
    login_as: Any,
    fields: dict[str, str],
    message: str,
) -> None:
    f = formacion()
    mentor = make_mentor()
    mentoria = _match(f.equipos[0], mentor, ops.today() - timedelta(days=3))
    data = {"held_on": ops.today().isoformat(), "duration_minutes": "45", "topics": "Tema"} | fields
    response = login_as(mentor.user).post(f"/mentoria/{mentoria.id}/sesiones", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(sa.select(sa.func.count(SesionMentoria.id))) == 0


def test_an_empty_comment_is_refused(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    mentor = make_mentor()
    mentoria = _match(f.equipos[0], mentor, ops.today())
    sesion = ops.log_session(mentor.user, mentoria, ops.SesionData(ops.today(), 30, "Tema"))
    db.session.commit()
    team = login_as(_owner(f.equipos[0]))
    response = team.post(
        f"/mentoria/{mentoria.id}/sesiones/{sesion.id}/comentarios", data={f"s{sesion.id}-body": "  "}
    )
    assert response.status_code == 303
    missing = team.post(f"/mentoria/{mentoria.id}/sesiones/{sesion.id}/comentarios", data={})
    assert missing.status_code == 303
    assert "obligatorio" in team.get(f"/mentoria/{mentoria.id}").text
    assert db.session.scalar(sa.select(sa.func.count(ComentarioSesion.id))) == 0


# --- who sees what -----------------------------------------------------------------------------------


def test_a_mentor_sees_only_their_own_teams(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    mine, theirs = make_mentor(), make_mentor()
    own = _match(f.equipos[0], mine)
    other = _match(f.equipos[1], theirs)
    sesion = ops.log_session(theirs.user, other, ops.SesionData(ops.today(), 30, "Privado"))
    db.session.commit()
    client = login_as(mine.user)
    assert client.get(f"/mentoria/{own.id}").status_code == 200
    assert client.get(f"/equipo/{f.equipos[0].id}/mentoria").status_code == 302
    listing = client.get("/mentoria/")
    assert f.equipos[0].name in listing.text
    assert client.get(f"/mentoria/{other.id}").status_code == 404
    assert client.get(f"/equipo/{f.equipos[1].id}/mentoria").status_code == 404
    assert client.get(f"/equipo/{f.equipos[1].id}").status_code == 404
    data = {"held_on": ops.today().isoformat(), "duration_minutes": "30", "topics": "x"}
    assert client.post(f"/mentoria/{other.id}/sesiones", data=data).status_code == 404
    assert (
        client.post(f"/mentoria/{other.id}/sesiones/{sesion.id}/comentarios", data={"body": "x"}).status_code
        == 404
    )
    # Not a lead: no overview, no directory.
    assert client.get(f"/gestion/formacion/{f.convocatoria.id}/mentorias").status_code == 403
    assert client.get("/gestion/formacion/mentores").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(SesionMentoria.id))) == 1


def test_a_team_sees_only_its_own_mentoring_and_cannot_log_sessions(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    mentor = make_mentor()
    own = _match(f.equipos[0], mentor)
    other = _match(f.equipos[1], make_mentor())
    team = login_as(_owner(f.equipos[0]))
    assert team.get(f"/mentoria/{own.id}").status_code == 200
    assert team.get(f"/mentoria/{other.id}").status_code == 404
    assert team.get(f"/equipo/{f.equipos[1].id}/mentoria").status_code == 404
    data = {"held_on": ops.today().isoformat(), "duration_minutes": "30", "topics": "x"}
    assert team.post(f"/mentoria/{own.id}/sesiones", data=data).status_code == 403
    assert team.get("/mentoria/").status_code == 403  # not a mentor
    assert db.session.scalar(sa.select(sa.func.count(SesionMentoria.id))) == 0


def test_anonymous_and_strangers_are_refused(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any, client: Any
) -> None:
    f = formacion()
    mentoria = _match(f.equipos[0], make_mentor())
    assert client.get(f"/mentoria/{mentoria.id}").status_code == 302  # to the login page
    stranger = login_as(Role.POSTULANTE)
    assert stranger.get(f"/mentoria/{mentoria.id}").status_code == 404
    assert (
        login_as(Role.EVALUADOR).get(f"/gestion/formacion/{f.convocatoria.id}/mentorias").status_code == 403
    )


def test_a_regional_lead_sees_only_the_teams_of_their_region(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion(regions=("13", "08"))
    santiago = _match(f.equipos[0], make_mentor())
    biobio = _match(f.equipos[1], make_mentor(region="08"))
    lead = login_as(Role.ENCARGADO_TECNICO, region="08")
    overview = lead.get(f"/gestion/formacion/{f.convocatoria.id}/mentorias")
    assert overview.status_code == 200
    assert f.equipos[1].name in overview.text and f.equipos[0].name not in overview.text
    assert lead.get(f"/mentoria/{biobio.id}").status_code == 200
    assert lead.get(f"/mentoria/{santiago.id}").status_code == 404
    url = f"/gestion/formacion/{f.convocatoria.id}/mentorias/equipos/{f.equipos[0].id}"
    assert lead.get(url).status_code == 404
    assert lead.post(f"/mentoria/{santiago.id}/finalizar").status_code == 404


# --- the directory -----------------------------------------------------------------------------------


def test_admin_adds_a_mentor_and_a_regional_lead_cannot(
    login_as: Any, make_user: Callable[..., User]
) -> None:
    person = make_user(name="Nueva Mentora")
    admin = login_as(Role.ADMIN)
    data = {
        "email": person.email,
        "organization": "Empresa Ejemplo",
        "kind": "empresa",
        "tags": ["tecnologia", "empleo"],
        "free_tags": "turismo rural, Turismo rural",
        "region": "05",
        "capacity": "2",
    }
    assert admin.post("/gestion/formacion/mentores/nuevo", data=data).status_code == 302
    mentor = db.session.scalar(sa.select(Mentor).where(Mentor.user_id == person.id))
    assert mentor.tags == ["tecnologia", "empleo", "turismo rural"] and mentor.region == "05"
    db.session.refresh(person)
    assert any(a.role == Role.MENTOR for a in person.roles)
    assert "Nueva Mentora" in admin.get("/gestion/formacion/mentores").text

    regional = login_as(Role.ENCARGADO_TECNICO, region="08")
    assert regional.get("/gestion/formacion/mentores").status_code == 200  # reads the directory
    assert regional.get("/gestion/formacion/mentores/nuevo").status_code == 403
    assert regional.post(f"/gestion/formacion/mentores/{mentor.id}", data=data).status_code == 403


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "nadie@example.cl"}, "No hay una cuenta"),
        ({"capacity": "0"}, "entre 1 y 20"),
        ({"kind": "secta"}, "Opción inválida"),
        ({"free_tags": ",".join(f"t{n}" for n in range(20))}, "12"),
    ],
)
def test_bad_mentor_input_is_refused_in_spanish(
    login_as: Any, make_user: Callable[..., User], fields: dict[str, str], message: str
) -> None:
    person = make_user()
    data = {"email": person.email, "organization": "Org", "kind": "empresa", "capacity": "2"} | fields
    response = login_as(Role.ADMIN).post("/gestion/formacion/mentores/nuevo", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(sa.select(sa.func.count(Mentor.id))) == 0


def test_capacity_cannot_drop_below_the_teams_mentored(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    mentor = make_mentor(capacity=2)
    _match(f.equipos[0], mentor)
    _match(f.equipos[1], mentor)
    data = {"organization": "Org", "kind": "empresa", "capacity": "1"}
    response = login_as(Role.ADMIN).post(f"/gestion/formacion/mentores/{mentor.id}", data=data)
    assert response.status_code == 422 and "no puede ser menor" in response.text
    db.session.expire_all()
    assert db.session.get(Mentor, mentor.id).capacity == 2


def test_a_mentor_declares_a_conflict_and_is_no_longer_suggested(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    _older_people(f)
    mentor = make_mentor()
    client = login_as(mentor.user)
    bad = client.post("/mentoria/conflictos", data={"conflicto-rut": "12.345.678-0"})
    assert bad.status_code == 303
    assert "no es válido" in client.get("/mentoria/conflictos").text
    assert db.session.scalar(sa.select(sa.func.count(ConflictoMentor.id))) == 0
    rut = f.equipos[0].postulacion.organizacion.rut
    assert (
        client.post(
            "/mentoria/conflictos", data={"conflicto-rut": rut, "conflicto-reason": "Socia"}
        ).status_code
        == 302
    )
    profiles = ops.team_profiles([f.equipos[0]])
    mentors, _by_id = ops.mentor_profiles()
    assert rules.suggest(profiles[f.equipos[0].id], mentors) == []
    # Another mentor cannot remove it.
    conflicto = db.session.scalar(sa.select(ConflictoMentor))
    other = login_as(make_mentor().user)
    assert other.post(f"/mentoria/conflictos/{conflicto.id}/eliminar").status_code == 404
    assert client.post(f"/mentoria/conflictos/{conflicto.id}/eliminar").status_code == 302
    assert valid_rut(1) != rut


# --- weeks without a session -------------------------------------------------------------------------


def test_a_week_without_a_session_is_flagged_and_the_mentor_reminded_once(
    formacion: Callable[..., Formacion],
    make_mentor: Callable[..., Mentor],
    login_as: Any,
    outbox: Any,
) -> None:
    f = formacion()
    mentor = make_mentor()
    start = ops.today() - timedelta(days=15)  # weeks 1 and 2 are over
    late = _match(f.equipos[0], mentor, start)
    ops.log_session(mentor.user, late, ops.SesionData(start + timedelta(days=1), 60, "Inicio"))
    on_time = _match(f.equipos[1], make_mentor(), ops.today())
    db.session.commit()

    overview = login_as(Role.ENCARGADO_TECNICO).get(f"/gestion/formacion/{f.convocatoria.id}/mentorias")
    flagged = overview.text.split("Semanas sin sesión")[1].split("</section>")[0]
    assert f.equipos[0].name in flagged and f.equipos[1].name not in flagged
    assert "Semana 2" in flagged

    assert send_mentoring_reminders() == 1
    commit()
    assert send_mentoring_reminders() == 0  # once per week
    commit()
    [message] = outbox.to(mentor.user.email)
    assert "semana 2" in message.subject and f"/mentoria/{late.id}" in message.body
    assert on_time.id not in set(db.session.scalars(sa.select(RecordatorioMentoria.mentoria_id)))
    # A week later week 3 of the late one is over too, and week 1 of the other: one reminder each.
    assert send_mentoring_reminders(utcnow() + timedelta(days=7)) == 2
    commit()
    sent = set(db.session.execute(sa.select(RecordatorioMentoria.mentoria_id, RecordatorioMentoria.week)))
    assert sent == {(late.id, 2), (late.id, 3), (on_time.id, 1)}
    assert len(outbox.to(mentor.user.email)) == 2


def test_send_reminders_command_includes_mentoring(
    app: Any, formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor]
) -> None:
    f = formacion()
    _match(f.equipos[0], make_mentor(), ops.today() - timedelta(days=8))
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count(RecordatorioMentoria.id))) == 1


# --- query counts ------------------------------------------------------------------------------------


def test_the_lead_overview_makes_the_same_number_of_queries_for_more_teams(
    formacion: Callable[..., Formacion],
    make_mentor: Callable[..., Mentor],
    login_as: Any,
    count_queries: list[str],
) -> None:
    def measure(regions: tuple[str, ...]) -> int:
        f = formacion(regions=regions)
        for equipo in f.equipos[: len(regions) // 2]:
            mentoria = _match(equipo, make_mentor(capacity=1))
            ops.log_session(mentoria.mentor.user, mentoria, ops.SesionData(ops.today(), 30, "Tema"))
        make_mentor(region=None, capacity=5)
        db.session.commit()
        client = login_as(Role.ENCARGADO_TECNICO)
        url = f"/gestion/formacion/{f.convocatoria.id}/mentorias"
        client.get(url)
        count_queries.clear()
        assert client.get(url).status_code == 200
        return len(count_queries)

    small = measure(("13", "08"))
    large = measure(("13", "08", "05", "09", "13", "08", "10", "06"))
    assert large == small


def test_concurrent_matches_never_exceed_the_mentor_capacity(
    app: Any, formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor]
) -> None:
    """Four leads confirming the same mentor (two places) at once: two win (PostgreSQL, real connections)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions")
    import threading

    from pilotos.models import Equipo

    f = formacion(regions=("13", "13", "13", "13"), rejected=0)
    mentor_id = make_mentor(capacity=2).id
    pairs = [(e.id, e.miembros[0].user_id) for e in f.equipos]
    barrier = threading.Barrier(len(pairs))
    results: list[str] = []

    def confirm(equipo_id: int, user_id: int) -> None:
        with app.test_request_context():
            equipo, user = db.session.get(Equipo, equipo_id), db.session.get(User, user_id)
            mentor = db.session.get(Mentor, mentor_id)
            _conflicts = list(mentor.conflictos)
            barrier.wait()
            try:
                ops.confirm_match(user, equipo, mentor, ops.today())
                db.session.commit()
                results.append("ok")
            except ops.FormacionError:
                db.session.rollback()
                results.append("full")
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                results.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert sorted(results) == ["full", "full", "ok", "ok"]
    assert db.session.scalar(sa.select(sa.func.count(Mentoria.id))) == 2
    assert db.session.get(Mentor, mentor_id).active_count == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start_date": "2999-01-01"}, "menos de un año"),
        ({"start_date": "31-31-2026"}, "fecha"),
        ({"mentor_id": "999999"}, "Opción inválida"),
        ({"mentor_id": ""}, "obligatorio"),
    ],
)
def test_bad_match_input_is_refused_in_spanish_and_nothing_is_written(
    formacion: Callable[..., Formacion],
    make_mentor: Callable[..., Mentor],
    login_as: Any,
    fields: dict[str, str],
    message: str,
) -> None:
    f = formacion()
    mentor = make_mentor()
    data = {"mentor_id": str(mentor.id), "start_date": ops.today().isoformat()} | fields
    response = login_as(Role.ENCARGADO_TECNICO).post(
        f"/gestion/formacion/{f.convocatoria.id}/mentorias/equipos/{f.equipos[0].id}", data=data
    )
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(sa.select(sa.func.count(Mentoria.id))) == 0
    db.session.expire_all()
    assert db.session.get(Mentor, mentor.id).active_count == 0


def test_a_mentor_finds_their_teams_from_the_menu_and_start_page(
    make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    mentor = make_mentor()
    client = login_as(mentor.user)
    start = client.get("/inicio")  # the mentor's only card: the start page opens it
    assert start.status_code == 302 and start.headers["Location"].endswith("/mentoria/")
    assert 'href="/mentoria/"' in client.get("/mentoria/").text  # in the menu
    assert "Mis mentorías" not in login_as(Role.POSTULANTE).get("/inicio").text
    assert "Mis mentorías" not in login_as(Role.ADMIN).get("/inicio").text  # a mentor's own page


def test_only_a_mentor_who_never_mentored_can_be_removed(
    formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    f = formacion()
    busy, idle = make_mentor(), make_mentor()
    ops.declare_conflict(idle.user, idle, equipo=f.equipos[1])
    _match(f.equipos[0], busy)
    admin = login_as(Role.ADMIN)
    refused = admin.post(f"/gestion/formacion/mentores/{busy.id}/eliminar")
    assert refused.status_code == 303
    assert "no se puede eliminar" in admin.get(f"/gestion/formacion/mentores/{busy.id}").text
    assert (
        login_as(Role.ENCARGADO_TECNICO, region="08")
        .post(f"/gestion/formacion/mentores/{idle.id}/eliminar")
        .status_code
        == 403
    )
    assert admin.post(f"/gestion/formacion/mentores/{idle.id}/eliminar").status_code == 302
    assert set(db.session.scalars(sa.select(Mentor.id))) == {busy.id}
    assert db.session.scalar(sa.select(sa.func.count(ConflictoMentor.id))) == 0


def test_the_forms_of_the_mentoring_page_carry_their_own_csrf_token(
    app: Any, formacion: Callable[..., Formacion], make_mentor: Callable[..., Mentor], login_as: Any
) -> None:
    """With CSRF on (as in production) each session's comment form posts its own prefixed token."""
    import re

    f = formacion()
    mentor = make_mentor()
    mentoria = _match(f.equipos[0], mentor, ops.today())
    sesion = ops.log_session(mentor.user, mentoria, ops.SesionData(ops.today(), 30, "Tema"))
    db.session.commit()
    team = login_as(_owner(f.equipos[0]))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = team.get(f"/mentoria/{mentoria.id}").text
        token = re.search(rf'name="s{sesion.id}-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        url = f"/mentoria/{mentoria.id}/sesiones/{sesion.id}/comentarios"
        assert team.post(url, data={f"s{sesion.id}-body": "Sin token"}).status_code == 400
        ok = team.post(url, data={f"s{sesion.id}-body": "Con token", f"s{sesion.id}-csrf_token": token})
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert [c.body for c in db.session.scalars(sa.select(ComentarioSesion))] == ["Con token"]
