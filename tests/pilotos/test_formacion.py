"""Training phase: teams from the committee's selection, who sees a team's pages, invitations, workshops
(capacity, attendance, calendar file, reminders) and training modules (safe Markdown, progress)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa

from convocatorias.models import Convocatoria, Fase
from convocatorias.operations import change_fase
from idea.chile import from_santiago, utcnow
from idea.extensions import db
from idea.jobs import commit
from idea.models import Role, User
from pilotos import operations as ops
from pilotos.ics import workshop_ics
from pilotos.markdown import render
from pilotos.models import Equipo, InscripcionTaller, MiembroEquipo, RecordatorioTaller, Taller
from pilotos.reminders import send_workshop_reminders
from tests.pilotos.conftest import Formacion, make_taller

# --- teams -------------------------------------------------------------------------------------------


def test_teams_come_from_the_latest_closed_session_and_creating_them_is_idempotent(
    formacion: Callable[..., Formacion],
) -> None:
    f = formacion(regions=("13", "08", "05"), rejected=2)
    assert len(f.equipos) == 3
    assert {e.postulacion_id for e in f.equipos} == {p.id for p in f.postulaciones[:3]}
    for equipo, p in zip(f.equipos, f.postulaciones, strict=False):
        assert [m.user_id for m in equipo.miembros] == [p.created_by_id]
    assert ops.create_teams(None, f.convocatoria) == 0


def test_teams_are_created_when_the_call_enters_formacion(
    formacion: Callable[..., Formacion],
    make_user: Callable[..., User],
) -> None:
    f = formacion(teams=False)
    f.convocatoria.fase = Fase.COMITE
    db.session.commit()
    change_fase(make_user(Role.ADMIN), f.convocatoria, Fase.FORMACION)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Equipo.id))) == 2


def test_lead_button_creates_the_teams(formacion: Callable[..., Formacion], login_as: Any) -> None:
    f = formacion(teams=False)
    client = login_as(Role.ENCARGADO_TECNICO)
    response = client.post(f"/gestion/formacion/{f.convocatoria.id}/equipos")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Equipo.id))) == 2
    # A region-bound lead cannot create the call's teams.
    regional = login_as(Role.ENCARGADO_TECNICO, region="08")
    assert regional.post(f"/gestion/formacion/{f.convocatoria.id}/equipos").status_code == 403


def test_a_member_sees_only_their_own_team(formacion: Callable[..., Formacion], login_as: Any) -> None:
    f = formacion()
    mine, other = f.equipos
    owner = db.session.get(User, mine.miembros[0].user_id)
    client = login_as(owner)
    page = client.get(f"/equipo/{mine.id}")
    assert page.status_code == 200
    assert mine.name in page.text
    assert client.get(f"/equipo/{other.id}").status_code == 404
    assert client.post(f"/equipo/{other.id}/invitar", data={"email": "x@example.cl"}).status_code == 404


def test_a_non_member_and_anonymous_are_refused(
    formacion: Callable[..., Formacion], login_as: Any, client: Any
) -> None:
    f = formacion()
    assert login_as(Role.POSTULANTE).get(f"/equipo/{f.equipos[0].id}").status_code == 404
    assert login_as(Role.EVALUADOR).get(f"/equipo/{f.equipos[0].id}").status_code == 404
    assert client.get(f"/equipo/{f.equipos[0].id}").status_code == 302  # to the login page


def test_a_regional_lead_sees_only_their_region(formacion: Callable[..., Formacion], login_as: Any) -> None:
    f = formacion(regions=("13", "08"))
    santiago, biobio = f.equipos
    lead = login_as(Role.ENCARGADO_TECNICO, region="08")
    assert lead.get(f"/equipo/{biobio.id}").status_code == 200
    assert lead.get(f"/equipo/{santiago.id}").status_code == 404
    listing = lead.get(f"/gestion/formacion/{f.convocatoria.id}")
    assert biobio.name in listing.text and santiago.name not in listing.text
    # A lead sees the team's pages but does not act as a member.
    assert lead.post(f"/equipo/{biobio.id}/invitar", data={"email": "x@example.cl"}).status_code == 403
    assert login_as(Role.ADMIN).get(f"/equipo/{santiago.id}").status_code == 200


def test_invitation_link_joins_the_team_once(
    formacion: Callable[..., Formacion], login_as: Any, outbox: Any, make_user: Callable[..., User]
) -> None:
    f = formacion()
    equipo = f.equipos[0]
    owner = login_as(db.session.get(User, equipo.miembros[0].user_id))
    response = owner.post(f"/equipo/{equipo.id}/invitar", data={"email": "Socia@Example.cl"})
    assert response.status_code == 302
    [message] = outbox.to("socia@example.cl")
    link = re.search(r"http://localhost(/equipo/invitacion/\S+)", message.body).group(1)

    invited = make_user(Role.POSTULANTE, email="socia@example.cl")
    guest = login_as(invited)
    assert "Unirse al equipo" in guest.get(link).text
    assert guest.post(link).status_code == 302
    assert guest.get(f"/equipo/{equipo.id}").status_code == 200
    # Used once: a second person with the same link is refused.
    other = login_as(make_user(Role.POSTULANTE))
    assert other.get(link).status_code == 410
    assert other.post(link).status_code == 409
    assert other.get(f"/equipo/{equipo.id}").status_code == 404
    assert login_as(invited).get("/equipo/invitacion/not-a-token").status_code == 404


def test_expired_invitation_is_refused(
    app: Any, formacion: Callable[..., Formacion], make_user: Callable[..., User], outbox: Any
) -> None:
    f = formacion()
    equipo = f.equipos[0]
    owner = db.session.get(User, equipo.miembros[0].user_id)
    invitacion = ops.invite_member(owner, equipo, "tarde@example.cl")
    commit()
    link = re.search(r"/equipo/invitacion/(\S+)", outbox.to("tarde@example.cl")[0].body).group(1)
    invitacion.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    user = make_user()
    with app.test_request_context(), pytest.raises(ops.FormacionError, match="venció"):
        ops.accept_invitation(user, link)


# --- workshops ---------------------------------------------------------------------------------------


def test_registration_respects_region_and_capacity(
    formacion: Callable[..., Formacion], login_as: Any
) -> None:
    f = formacion(regions=("08", "08", "13"), rejected=0)
    a, b, santiago = f.equipos
    taller = make_taller(f.convocatoria, region="08", capacity=1)
    client_a = login_as(db.session.get(User, a.miembros[0].user_id))
    client_b = login_as(db.session.get(User, b.miembros[0].user_id))
    client_s = login_as(db.session.get(User, santiago.miembros[0].user_id))
    assert client_a.post(f"/equipo/{a.id}/talleres/{taller.id}/inscribir").status_code == 302
    full = client_b.post(f"/equipo/{b.id}/talleres/{taller.id}/inscribir", follow_redirects=True)
    assert "El taller está completo." in full.text
    other_region = client_s.post(
        f"/equipo/{santiago.id}/talleres/{taller.id}/inscribir", follow_redirects=True
    )
    assert "no está abierto a tu equipo" in other_region.text
    db.session.expire_all()
    assert db.session.get(Taller, taller.id).registered_count == 1
    assert db.session.scalar(sa.select(sa.func.count(InscripcionTaller.id))) == 1
    # Unregistering frees the place.
    assert client_a.post(f"/equipo/{a.id}/talleres/{taller.id}/anular").status_code == 302
    assert client_b.post(f"/equipo/{b.id}/talleres/{taller.id}/inscribir").status_code == 302
    db.session.expire_all()
    assert db.session.get(Taller, taller.id).registered_count == 1


def test_the_database_refuses_a_count_beyond_capacity(formacion: Callable[..., Formacion]) -> None:
    f = formacion()
    taller = make_taller(f.convocatoria, capacity=1)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Taller).where(Taller.id == taller.id).values(registered_count=2))
        db.session.flush()
    db.session.rollback()


def test_concurrent_registrations_never_exceed_capacity(
    app: Any, formacion: Callable[..., Formacion]
) -> None:
    """Two teams registering at the same time for the last place: one wins (PostgreSQL, real connections)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions")
    import threading

    f = formacion(regions=("13", "13", "13", "13"), rejected=0)
    taller = make_taller(f.convocatoria, capacity=2)
    ids = [(e.id, e.miembros[0].user_id) for e in f.equipos]
    taller_id = taller.id
    barrier = threading.Barrier(len(ids))
    results: list[str] = []

    def register(equipo_id: int, user_id: int) -> None:
        with app.test_request_context():
            equipo, user = db.session.get(Equipo, equipo_id), db.session.get(User, user_id)
            target = db.session.get(Taller, taller_id)
            barrier.wait()
            try:
                ops.register_team(user, equipo, target)
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

    threads = [threading.Thread(target=register, args=pair) for pair in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert sorted(results) == ["full", "full", "ok", "ok"]
    assert db.session.scalar(sa.select(sa.func.count(InscripcionTaller.id))) == 2
    assert db.session.get(Taller, taller_id).registered_count == 2


def test_lead_creates_a_workshop_in_chilean_time(formacion: Callable[..., Formacion], login_as: Any) -> None:
    f = formacion()
    client = login_as(Role.ENCARGADO_TECNICO)
    data = {
        "title": "Taller de sostenibilidad",
        "topic": "Modelo",
        "region": "",
        "starts_at": "2026-07-10T10:00",
        "ends_at": "2026-07-10T12:30",
        "place": "",
        "online_url": "javascript:alert(1)",
        "capacity": "5",
    }
    refused = client.post(f"/gestion/formacion/{f.convocatoria.id}/talleres/nuevo", data=data)
    assert refused.status_code == 422
    assert "http:// o https://" in refused.text
    data["online_url"] = "https://reunion.example.cl/taller"
    assert client.post(f"/gestion/formacion/{f.convocatoria.id}/talleres/nuevo", data=data).status_code == 302
    taller = db.session.scalars(sa.select(Taller)).one()
    # July: Chile is at UTC-4.
    assert taller.starts_at == datetime(2026, 7, 10, 14, 0, tzinfo=UTC)
    # A region-bound lead may not create a workshop for every region, nor another region's.
    regional = login_as(Role.ENCARGADO_TECNICO, region="08")
    data["region"] = "13"
    assert regional.post(f"/gestion/formacion/{f.convocatoria.id}/talleres/nuevo", data=data).status_code in (
        403,
        422,
    )
    assert regional.get(f"/gestion/formacion/{f.convocatoria.id}/talleres/{taller.id}").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Taller.id))) == 1


def test_attendance_is_saved(formacion: Callable[..., Formacion], login_as: Any) -> None:
    f = formacion(regions=("13", "13", "13"), rejected=0)
    taller = make_taller(f.convocatoria)
    for equipo in f.equipos:
        ops.register_team(db.session.get(User, equipo.miembros[0].user_id), equipo, taller)
    db.session.commit()
    client = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/formacion/{f.convocatoria.id}/talleres/{taller.id}/asistencia"
    page = client.get(url)
    assert page.text.count('type="checkbox" name="present"') == 3
    present = [f.equipos[0].id, f.equipos[2].id]
    assert (
        client.post(url, data={"present": [str(i) for i in present] + ["junk", "999999"]}).status_code == 302
    )
    db.session.expire_all()
    rows = db.session.scalars(sa.select(InscripcionTaller).order_by(InscripcionTaller.equipo_id)).all()
    assert [r.attended for r in rows] == [True, False, True]
    assert db.session.get(Taller, taller.id).attendance_taken_at is not None
    # A lead of another region cannot take it.
    assert login_as(Role.ENCARGADO_TECNICO, region="08").get(url).status_code == 404


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Parser().feed(html)
    return found


def _unfold(ics: str) -> dict[str, str]:
    lines = ics.replace("\r\n ", "").split("\r\n")
    return dict(line.split(":", 1) for line in lines if ":" in line)


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        # April 2026: Chile leaves summer time on the first Sunday of April (UTC-3 → UTC-4).
        (datetime(2026, 4, 4, 10, 0), datetime(2026, 4, 4, 13, 0, tzinfo=UTC)),
        (datetime(2026, 4, 6, 10, 0), datetime(2026, 4, 6, 14, 0, tzinfo=UTC)),
        # September 2026: back to summer time on the first Sunday of September.
        (datetime(2026, 9, 5, 10, 0), datetime(2026, 9, 5, 14, 0, tzinfo=UTC)),
        (datetime(2026, 9, 7, 10, 0), datetime(2026, 9, 7, 13, 0, tzinfo=UTC)),
    ],
)
def test_ics_has_utc_times_across_dst(local: datetime, utc: datetime) -> None:
    taller = Taller(
        id=7,
        title="Taller; uno, dos",
        topic="Línea 1\nLínea 2 \\ fin" + " x" * 60,
        starts_at=from_santiago(local),
        ends_at=from_santiago(local + timedelta(hours=2)),
        place="Sala 3, Concepción",
        online_url="",
        capacity=5,
    )
    text = workshop_ics(taller, host="fondoidea.cl", url="https://fondoidea.cl/x", now=utcnow())
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    fields = _unfold(text)
    assert fields["DTSTART"] == utc.strftime("%Y%m%dT%H%M%SZ")
    assert fields["DTEND"] == (utc + timedelta(hours=2)).strftime("%Y%m%dT%H%M%SZ")
    assert fields["UID"] == "taller-7@fondoidea.cl"
    assert fields["SUMMARY"] == "Taller\\; uno\\, dos"
    assert fields["LOCATION"] == "Sala 3\\, Concepción"
    assert fields["DESCRIPTION"].startswith("Línea 1\\nLínea 2 \\\\ fin")


def test_ics_download_for_members_only(formacion: Callable[..., Formacion], login_as: Any) -> None:
    f = formacion(regions=("13", "08"))
    taller = make_taller(f.convocatoria, region="13")
    member = login_as(db.session.get(User, f.equipos[0].miembros[0].user_id))
    response = member.get(f"/equipo/talleres/{taller.id}/calendario.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in response.text
    other_region = login_as(db.session.get(User, f.equipos[1].miembros[0].user_id))
    assert other_region.get(f"/equipo/talleres/{taller.id}/calendario.ics").status_code == 404
    assert login_as(Role.POSTULANTE).get(f"/equipo/talleres/{taller.id}/calendario.ics").status_code == 404


def test_reminder_sent_once_the_day_before(
    formacion: Callable[..., Formacion], outbox: Any, make_user: Callable[..., User]
) -> None:
    f = formacion(regions=("13",), rejected=0)
    equipo = f.equipos[0]
    owner = db.session.get(User, equipo.miembros[0].user_id)
    partner = make_user(Role.POSTULANTE)
    db.session.add(MiembroEquipo(equipo_id=equipo.id, user_id=partner.id))
    soon = make_taller(f.convocatoria, days=0.5, title="Taller mañana")
    later = make_taller(f.convocatoria, days=3, title="Taller lejano")
    for taller in (soon, later):
        ops.register_team(owner, equipo, taller)
    db.session.commit()
    assert send_workshop_reminders() == 2
    commit()
    assert send_workshop_reminders() == 0
    commit()
    assert db.session.scalar(sa.select(sa.func.count(RecordatorioTaller.id))) == 2
    assert len(outbox.to(owner.email)) == 1 and len(outbox.to(partner.email)) == 1
    assert "Taller mañana" in outbox.to(owner.email)[0].subject


def test_send_reminders_command_includes_workshops(app: Any, formacion: Callable[..., Formacion]) -> None:
    f = formacion(regions=("13",), rejected=0)
    equipo = f.equipos[0]
    ops.register_team(
        db.session.get(User, equipo.miembros[0].user_id), equipo, make_taller(f.convocatoria, days=0.5)
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert "Recordatorios enviados: 1" in result.output
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert "Recordatorios enviados: 0" in result.output


# --- modules -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "[clic](javascript:alert(1))",
        "[clic](JaVaScRiPt:alert(1))",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)" onclick="alert(1)">x</a>',
        "![x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_markdown_is_rendered_inert(source: str) -> None:
    """Whatever is written, the HTML has no script, no image, no event handler and only safe links (text that
    merely shows the markup, escaped, is fine)."""
    tags = _tags(str(render(source)))
    assert not [t for t, _a in tags if t in ("script", "img", "iframe", "object", "style")]
    for _tag, attrs in tags:
        assert not [name for name, _v in attrs if name.startswith("on")]
        for name, value in attrs:
            if name in ("href", "src"):
                assert (value or "").split(":", 1)[0].lower() in ("http", "https", "mailto"), value


def test_markdown_keeps_safe_formatting() -> None:
    html = str(
        render("# Título\n\n**fuerte** [FOSIS](https://www.fosis.gob.cl) [correo](mailto:a@b.cl)\n\n- uno")
    )
    assert "<h2>Título</h2>" in html
    assert "<strong>fuerte</strong>" in html
    assert 'href="https://www.fosis.gob.cl"' in html and 'href="mailto:a@b.cl"' in html
    assert "<li>uno</li>" in html


def _modulo(convocatoria: Convocatoria, body: str = "Texto", items: int = 3) -> Any:
    admin = db.session.scalars(sa.select(User)).first()
    modulo = ops.save_modulo(
        admin,
        convocatoria,
        ops.ModuloData(
            title="Teoría de cambio", body=body, required=True, items=[f"Paso {i}" for i in range(items)]
        ),
    )
    db.session.commit()
    return modulo


def test_module_page_renders_hostile_markdown_inert(
    formacion: Callable[..., Formacion], login_as: Any
) -> None:
    f = formacion()
    modulo = _modulo(
        f.convocatoria,
        body='<script>alert("x")</script>\n\n[a](javascript:alert(1))\n\n<img src=x onerror=alert(1)>',
    )
    client = login_as(db.session.get(User, f.equipos[0].miembros[0].user_id))
    page = client.get(f"/equipo/{f.equipos[0].id}/modulos/{modulo.id}").text
    prose = page[page.index('<div class="prose">') : page.index("</div>", page.index('<div class="prose">'))]
    tags = _tags(prose)
    assert [t for t, _a in tags if t in ("script", "img")] == []
    assert all(
        not name.startswith("on") and not (v or "").lower().startswith("javascript")
        for _t, attrs in tags
        for name, v in attrs
    )
    assert "alert" in prose  # the text is still shown, inert


def test_admin_writes_a_module_and_a_team_completes_it(
    formacion: Callable[..., Formacion], login_as: Any
) -> None:
    f = formacion()
    admin = login_as(Role.ADMIN)
    url = f"/gestion/formacion/{f.convocatoria.id}/modulos/nuevo"
    assert (
        admin.post(
            url, data={"title": "Sostenibilidad", "body": "x", "items": "", "required": "y"}
        ).status_code
        == 422
    )
    assert (
        admin.post(
            url, data={"title": "Sostenibilidad", "body": "**x**", "items": "Uno\n\nDos\n", "required": "y"}
        ).status_code
        == 302
    )
    # A region-bound lead sees the progress but cannot write modules.
    regional = login_as(Role.ENCARGADO_TECNICO, region="08")
    assert regional.get(url).status_code == 403
    modulo = ops.modulos_of(f.convocatoria.id)[0]
    assert [i.text for i in modulo.items] == ["Uno", "Dos"]
    equipo = f.equipos[0]
    member = login_as(db.session.get(User, equipo.miembros[0].user_id))
    page_url = f"/equipo/{equipo.id}/modulos/{modulo.id}"
    assert member.post(page_url, data={"done": [str(modulo.items[0].id)]}).status_code == 302
    assert ops.progress(f.convocatoria.id) == {(equipo.id, modulo.id): 1}
    member.post(page_url, data={"done": [str(i.id) for i in modulo.items]})
    done = ops.progress(f.convocatoria.id)[(equipo.id, modulo.id)]
    assert ops.module_done(modulo, done)
    # Another team's member cannot tick this team's items; a lead cannot either.
    other = login_as(db.session.get(User, f.equipos[1].miembros[0].user_id))
    assert other.post(page_url, data={"done": []}).status_code == 404
    assert login_as(Role.ADMIN).post(page_url, data={"done": []}).status_code == 403
    assert ops.progress(f.convocatoria.id)[(equipo.id, modulo.id)] == 2
    # Editing the module keeps progress on unchanged items.
    admin.post(
        f"/gestion/formacion/{f.convocatoria.id}/modulos/{modulo.id}",
        data={"title": "Sostenibilidad", "body": "", "items": "Uno\nTres", "required": "y"},
    )
    assert ops.progress(f.convocatoria.id)[(equipo.id, modulo.id)] == 1


def test_progress_page_query_count_is_constant(
    formacion: Callable[..., Formacion], login_as: Any, count_queries: list[str]
) -> None:
    def setup(n: int) -> Formacion:
        f = formacion(regions=("13",) * n, rejected=0)
        for position in range(3):
            modulo = _modulo(f.convocatoria)
            modulo.position = position
            for equipo in f.equipos:
                db.session.add_all(
                    [
                        __import__("pilotos.models", fromlist=["AvanceModulo"]).AvanceModulo(
                            equipo_id=equipo.id, item_id=item.id
                        )
                        for item in modulo.items[: equipo.id % 3]
                    ]
                )
        db.session.commit()
        return f

    client = login_as(Role.ENCARGADO_TECNICO)

    def queries(f: Formacion) -> int:
        url = f"/gestion/formacion/{f.convocatoria.id}/modulos"
        client.get(url)
        count_queries.clear()
        response = client.get(url)
        assert response.status_code == 200
        assert response.text.count("<tr>") == len(f.equipos) + 1
        return len(count_queries)

    small, large = setup(2), setup(12)
    assert queries(small) == queries(large), count_queries


def test_teams_page_query_count_is_constant(
    formacion: Callable[..., Formacion], login_as: Any, count_queries: list[str]
) -> None:
    client = login_as(Role.ENCARGADO_TECNICO)

    def queries(f: Formacion) -> int:
        url = f"/gestion/formacion/{f.convocatoria.id}"
        client.get(url)
        count_queries.clear()
        response = client.get(url)
        assert response.status_code == 200
        assert all(e.name in response.text for e in f.equipos)
        return len(count_queries)

    assert queries(formacion(regions=("13",) * 2, rejected=0)) == queries(
        formacion(regions=("13", "08") * 6, rejected=0)
    ), count_queries


def test_deleting_a_workshop_removes_its_registrations(
    formacion: Callable[..., Formacion], login_as: Any
) -> None:
    f = formacion(regions=("13",), rejected=0)
    equipo = f.equipos[0]
    taller = make_taller(f.convocatoria)
    ops.register_team(db.session.get(User, equipo.miembros[0].user_id), equipo, taller)
    db.session.commit()
    client = login_as(Role.ADMIN)
    url = f"/gestion/formacion/{f.convocatoria.id}/talleres/{taller.id}/eliminar"
    assert login_as(Role.ENCARGADO_TECNICO, region="08").post(url).status_code == 404
    assert client.post(url).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(InscripcionTaller.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Taller.id))) == 0


def test_menu_and_start_cards(formacion: Callable[..., Formacion], login_as: Any) -> None:
    f = formacion()
    member = login_as(db.session.get(User, f.equipos[0].miembros[0].user_id))
    start = member.get("/inicio").text
    assert "Mi equipo" in start and "/equipo/" in start
    # With one team, "My team" opens it.
    assert member.get("/equipo/").headers["Location"].endswith(f"/equipo/{f.equipos[0].id}")
    assert "Mi equipo" not in login_as(Role.POSTULANTE).get("/inicio").text
    lead_start = login_as(Role.ENCARGADO_TECNICO).get("/inicio").text
    assert "Formación" in lead_start and "/gestion/formacion/" in lead_start


def test_a_workshop_at_a_time_that_does_not_exist_in_chile_is_explained(
    formacion: Callable[..., Formacion], login_as: Any
) -> None:
    f = formacion()
    client = login_as(Role.ADMIN)
    # 2026-09-06 00:30 does not exist in Santiago (clocks jump from 00:00 to 01:00).
    data = {
        "title": "Taller",
        "topic": "",
        "region": "",
        "starts_at": "2026-09-06T00:30",
        "ends_at": "2026-09-06T03:00",
        "place": "Sede",
        "online_url": "",
        "capacity": "5",
    }
    page = client.post(
        f"/gestion/formacion/{f.convocatoria.id}/talleres/nuevo", data=data, follow_redirects=True
    )
    assert page.status_code == 200
    taller = db.session.scalars(sa.select(Taller)).one()
    assert taller.starts_at == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert "flash-info" in page.text
