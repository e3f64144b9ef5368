"""Systematization sheets and the public learning repository: the team writes and sends its sheet once the
pilot is closed, the lead sends it back (with a comment) or publishes it (its figures frozen), only the team
and its leads see it before, and the public list, page, feed, open data and PDF show only published sheets;
search (Spanish stemming and accents on PostgreSQL, a plain fallback on SQLite), filters that refuse junk,
constant queries, and e-mail subscriptions with double opt-in and a digest that sends each sheet once."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa

from idea.audit import EventoAuditoria
from idea.extensions import db
from idea.jobs import commit
from idea.models import Role, User
from pilotos import aprendizaje as aops
from pilotos.aprendizaje_models import EstadoSistematizacion, Sistematizacion, SuscripcionAprendizaje
from pilotos.ejecucion_models import EstadoPiloto, EstadoReporte, Piloto, ReportePiloto, TipoReporte
from pilotos.models import Equipo
from tests.pilotos.conftest import Formacion

PLAN = {
    "presupuesto": [{"item": "Equipo", "category": "personal", "amount": 20_000_000}],
    "indicadores": [
        {"name": "Asistencia escolar", "unit": "%", "baseline": "60", "target": "80"},
        {"name": "Familias acompañadas", "unit": "familias", "baseline": "", "target": "50"},
    ],
    "actividades": [],
}
ATOM = "{http://www.w3.org/2005/Atom}"


def _report(piloto: Piloto, number: int, status: EstadoReporte, final: bool = False, **values: Any) -> None:
    data = {
        "indicadores": [{"name": "Asistencia escolar", "actual": values.get("actual", "70")}],
        "beneficiarios": {"total": values.get("reached", 40), "mujeres": 20, "hombres": 20, "otro": 0},
        "gastos": [{"item": "Equipo", "executed": values.get("executed", 9_000_000)}],
        "actividades": [],
        "aprendizajes": {},
    }
    db.session.add(
        ReportePiloto(
            piloto_id=piloto.id,
            number=number,
            kind=TipoReporte.FINAL if final else TipoReporte.AVANCE,
            period_start=date(2025, number, 1),
            period_end=date(2025, number, 28),
            due_on=date(2025, number + 1, 10),
            status=status,
            data=data,
        )
    )


def make_piloto(equipo: Equipo, *, closed: bool = True, name: str | None = None) -> Piloto:
    piloto = Piloto(
        equipo_id=equipo.id,
        convocatoria_id=equipo.convocatoria_id,
        region=equipo.region,
        name=name or equipo.postulacion.title,
        amount=20_000_000,
        beneficiaries_planned=100,
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 6, 30),
        plan=PLAN,
        status=EstadoPiloto.CERRADO if closed else EstadoPiloto.EN_EJECUCION,
    )
    db.session.add(piloto)
    db.session.flush()
    _report(piloto, 1, EstadoReporte.APROBADO)
    _report(piloto, 2, EstadoReporte.APROBADO if closed else EstadoReporte.PENDIENTE, final=True, actual="75")
    db.session.commit()
    return piloto


def member_of(equipo: Equipo) -> User:
    return db.session.get(User, equipo.miembros[0].user_id)


FULL = {
    "problem": "Niñas y niños que dejaron la escuela.",
    "solution": "Tutorías de barrio para la educación.",
    "results": "La asistencia subió de 60 % a 75 %.",
    "learnings": "La visita en la casa abre la puerta.",
    "scaling_conditions": "Coordinación con las escuelas.",
    "adopter": "mineduc",
    "adopter_other": "",
    "groups": ["ninez", "nna-fuera-escuela"],
    "outcome": "escalar",
}


@pytest.fixture
def closed(formacion: Callable[..., Formacion]) -> Callable[..., tuple[Formacion, list[Piloto]]]:
    def factory(
        regions: tuple[str, ...] = ("13", "08"), closed: bool = True
    ) -> tuple[Formacion, list[Piloto]]:
        f = formacion(regions=regions, rejected=0)
        return f, [make_piloto(e, closed=closed) for e in f.equipos]

    return factory


def write_and_send(piloto: Piloto, **changes: Any) -> Sistematizacion:
    data = {**FULL, **changes}
    data["groups"] = tuple(data["groups"])
    sheet = aops.save(member_of(piloto.equipo), piloto, aops.SheetData(**data), send=True)
    db.session.commit()
    return sheet


def publish(piloto: Piloto, make_user: Callable[..., User], **changes: Any) -> Sistematizacion:
    sheet = write_and_send(piloto, **changes)
    aops.publish(make_user(Role.ADMIN), sheet)
    db.session.commit()
    return sheet


# --- the team --------------------------------------------------------------------------------------------


def test_the_team_writes_a_draft_and_sends_the_sheet(closed: Any, login_as: Any) -> None:
    f, (piloto, _other) = closed()
    team = login_as(member_of(piloto.equipo))
    url = f"/equipo/pilotos/{piloto.id}/sistematizacion"
    assert team.get(url).status_code == 200
    # A draft may be incomplete.
    assert team.post(url, data={"problem": "Un borrador", "save": "1"}).status_code == 302
    sheet = db.session.scalars(sa.select(Sistematizacion)).one()
    assert sheet.status == EstadoSistematizacion.BORRADOR and sheet.problem == "Un borrador"
    # Sending asks for every part, all reasons at once, nothing written.
    response = team.post(url, data={"problem": "Otro texto", "send": "1"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Elige al menos un grupo vulnerable" in text or "Choose at least one vulnerable group" in text
    db.session.expire_all()
    assert sheet.status == EstadoSistematizacion.BORRADOR and sheet.problem == "Un borrador"
    response = team.post(url, data={**FULL, "send": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert sheet.status == EstadoSistematizacion.ENVIADA
    assert [h.action.value for h in sheet.historial] == ["enviada"]
    assert sheet.group_keys == ["ninez", "nna-fuera-escuela"]
    # Once sent, the team cannot change it.
    assert team.post(url, data={**FULL, "problem": "Cambio", "save": "1"}).status_code == 403
    db.session.expire_all()
    assert sheet.problem == FULL["problem"]


def test_no_sheet_before_the_pilot_is_closed_or_its_final_report_sent(closed: Any, login_as: Any) -> None:
    f, (piloto, _other) = closed(closed=False)
    team = login_as(member_of(piloto.equipo))
    url = f"/equipo/pilotos/{piloto.id}/sistematizacion"
    assert team.post(url, data={**FULL, "save": "1"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Sistematizacion.id))) == 0
    # Once the final report is sent, the team may write.
    final = db.session.scalars(
        sa.select(ReportePiloto).where(ReportePiloto.kind == TipoReporte.FINAL)
    ).first()
    final.status = EstadoReporte.ENVIADO
    db.session.commit()
    assert team.post(url, data={**FULL, "save": "1"}).status_code == 302


def test_another_team_a_stranger_and_anonymous_cannot_see_an_unpublished_sheet(
    closed: Any, login_as: Any, client: Any
) -> None:
    f, (piloto, other) = closed()
    sheet = write_and_send(piloto)
    url = f"/equipo/pilotos/{piloto.id}/sistematizacion"
    assert login_as(member_of(other.equipo)).get(url).status_code == 404
    assert login_as(Role.POSTULANTE).get(url).status_code == 404
    assert login_as(member_of(other.equipo)).post(url, data={**FULL, "save": "1"}).status_code == 404
    assert client.get(url).status_code == 302  # to the login page
    assert client.get(f"/aprendizaje/{sheet.id}").status_code == 404
    assert login_as(member_of(piloto.equipo)).get(f"/aprendizaje/{sheet.id}").status_code == 404
    assert client.get(f"/aprendizaje/{sheet.id}/ficha.pdf").status_code == 404
    # Only leads review.
    assert login_as(member_of(piloto.equipo)).get(f"/gestion/aprendizaje/{sheet.id}").status_code == 403


# --- the lead --------------------------------------------------------------------------------------------


def test_the_lead_sends_back_with_a_comment_then_publishes(
    closed: Any, login_as: Any, client: Any, outbox: Any
) -> None:
    f, (piloto, _other) = closed()
    sheet = write_and_send(piloto)
    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/aprendizaje/{sheet.id}"
    assert sheet.id and lead.get(url).status_code == 200
    assert lead.get("/gestion/aprendizaje/").status_code == 200
    # Sending back needs a comment.
    response = lead.post(url, data={"comment": "  ", "send_back": "1"})
    assert response.status_code == 422
    db.session.expire_all()
    assert sheet.status == EstadoSistematizacion.ENVIADA
    assert lead.post(url, data={"comment": "Agreguen cifras.", "send_back": "1"}).status_code == 302
    db.session.expire_all()
    assert sheet.status == EstadoSistematizacion.CON_OBSERVACIONES
    assert sheet.historial[-1].comment == "Agreguen cifras."
    (returned,) = outbox.to(member_of(piloto.equipo).email)
    assert "devuelta con observaciones" in returned.subject and "Agreguen cifras." in returned.body
    # The team sees the comment, corrects and sends again.
    team = login_as(member_of(piloto.equipo))
    assert "Agreguen cifras." in team.get(f"/equipo/pilotos/{piloto.id}/sistematizacion").get_data(
        as_text=True
    )
    team.post(
        f"/equipo/pilotos/{piloto.id}/sistematizacion", data={**FULL, "results": "Con cifras.", "send": "1"}
    )
    db.session.expire_all()
    assert sheet.status == EstadoSistematizacion.ENVIADA
    assert lead.post(url, data={"publish": "1"}).status_code == 302
    db.session.expire_all()
    assert sheet.status == EstadoSistematizacion.PUBLICADA and sheet.published_at is not None
    assert [h.action.value for h in sheet.historial] == ["enviada", "observada", "enviada", "publicada"]
    published = outbox.to(member_of(piloto.equipo).email)[-1]
    assert "está publicada" in published.subject and f"/aprendizaje/{sheet.id}" in published.body
    assert db.session.scalar(
        sa.select(EventoAuditoria.id).where(EventoAuditoria.action == "sistematizacion.published")
    )
    # The snapshot: the approved reports' figures against the baseline.
    snap = sheet.snapshot
    assert snap["reports"] == 2 and snap["executed"] == 18_000_000 and snap["reached"] == 80
    assert snap["budget_execution"]["value"] == "0.9" and not snap["budget_execution"]["flagged"]
    assert (
        snap["indicators"][0]["actual"] == "75"
        and snap["indicators"][1]["progress"]["missing"] == "no_baseline"
    )
    page = client.get(f"/aprendizaje/{sheet.id}")
    assert page.status_code == 200
    assert "Con cifras." in page.get_data(as_text=True)
    # Frozen: a later change of the reports does not move the published figures.
    db.session.execute(sa.update(ReportePiloto).values(data={}))
    db.session.commit()
    db.session.expire_all()
    assert sheet.snapshot["executed"] == 18_000_000


def test_a_regional_lead_cannot_review_another_regions_sheet(closed: Any, login_as: Any) -> None:
    f, pilotos = closed(regions=("13", "08"))
    santiago = next(p for p in pilotos if p.region == "13")
    biobio = next(p for p in pilotos if p.region == "08")
    s1, s2 = write_and_send(santiago), write_and_send(biobio)
    regional = login_as(Role.ENCARGADO_TECNICO, region="08")
    assert regional.get(f"/gestion/aprendizaje/{s1.id}").status_code == 404
    assert regional.post(f"/gestion/aprendizaje/{s1.id}", data={"publish": "1"}).status_code == 404
    db.session.expire_all()
    assert s1.status == EstadoSistematizacion.ENVIADA
    listing = regional.get("/gestion/aprendizaje/").get_data(as_text=True)
    assert biobio.equipo.postulacion.title in listing and santiago.equipo.postulacion.title not in listing
    assert regional.post(f"/gestion/aprendizaje/{s2.id}", data={"publish": "1"}).status_code == 302


# --- the public repository --------------------------------------------------------------------------------


def test_unpublished_sheets_never_appear_in_public(closed: Any, make_user: Any, client: Any) -> None:
    f, (published_pilot, waiting_pilot) = closed()
    published = publish(published_pilot, make_user, learnings="Aprendizaje publicado.")
    waiting = write_and_send(waiting_pilot, learnings="Aprendizaje en espera.")
    hidden = waiting.title
    assert hidden and hidden != published.title
    pages = {
        "list": client.get("/aprendizaje/"),
        "search": client.get("/aprendizaje/?q=espera"),
        "feed": client.get("/aprendizaje/feed.atom"),
        "csv": client.get("/aprendizaje/datos.csv"),
        "json": client.get("/aprendizaje/datos.json"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        body = response.get_data(as_text=True)
        assert "Aprendizaje en espera" not in body and hidden not in body, name
    assert published.title in pages["list"].get_data(as_text=True)
    assert len(json.loads(pages["json"].get_data(as_text=True))["sistematizaciones"]) == 1
    assert client.get(f"/aprendizaje/{waiting.id}").status_code == 404
    assert client.get(f"/aprendizaje/{waiting.id}/ficha.pdf").status_code == 404
    pdf = client.get(f"/aprendizaje/{published.id}/ficha.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_the_feed_is_atom_with_absolute_links(closed: Any, make_user: Any, client: Any) -> None:
    f, (piloto, _other) = closed()
    sheet = publish(piloto, make_user)
    response = client.get("/aprendizaje/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(response.data)  # noqa: S314 - our own feed, in a test
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].find(f"{ATOM}title").text == sheet.title
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.startswith("http") and link.endswith(f"/aprendizaje/{sheet.id}")
    assert root.find(f"{ATOM}updated").text and root.find(f"{ATOM}id").text.startswith("http")


def test_filters_find_by_group_region_year_outcome_and_challenge(
    closed: Any, make_user: Any, client: Any
) -> None:
    f, (santiago, biobio) = closed()
    a = publish(santiago, make_user, groups=["ninez"], outcome="escalar")
    b = publish(biobio, make_user, groups=["migrantes"], outcome="no_continuar")

    def titles(query: str) -> set[str]:
        body = client.get(f"/aprendizaje/?{query}").get_data(as_text=True)
        return {t for t in (a.title, b.title) if f">{t}</a>" in body}

    assert titles("") == {a.title, b.title}
    assert titles("grupo=ninez") == {a.title}
    assert titles("grupo=migrantes") == {b.title}
    assert titles("region=08") == {b.title}
    assert titles("resultado=escalar") == {a.title}
    assert titles(f"anio={a.year}&region=13") == {a.title}
    assert titles(f"desafio={a.desafio_id}") == {a.title, b.title}
    assert titles("anio=1999") == {a.title, b.title}  # out of range: ignored


@pytest.mark.parametrize(
    "query",
    [
        "grupo=%27%3B--",
        "region=99",
        "anio=999999999999999999999999",
        "anio=-3",
        "desafio=99999999999",
        "desafio=abc",
        "resultado=<script>",
        "page=-1",
        "page=99999999999999",
        "q=" + "x" * 5000,
        "q=%25%25_",
        "q=a&q=b&grupo=ninez&grupo=migrantes",
        "q=%F0%9F%98%80",
        "q=!@%23%24%5E%26*()",
    ],
)
def test_junk_filter_values_never_fail(client: Any, query: str) -> None:
    assert client.get(f"/aprendizaje/?{query}").status_code == 200


def test_search_ignores_accents_on_sqlite(closed: Any, make_user: Any, client: Any, app: Any) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the LIKE fallback is SQLite's; PostgreSQL's full-text search is tested below")
    f, (santiago, biobio) = closed()
    a = publish(santiago, make_user, solution="Refuerzo de la educación en la tarde.")
    b = publish(biobio, make_user, solution="Apoyo a personas cuidadoras.", adopter="minsal")
    for q in ("educacion", "EDUCACIÓN", "Educación tarde"):
        body = client.get(f"/aprendizaje/?q={q}").get_data(as_text=True)
        assert a.title in body and b.title not in body, q


def test_search_in_spanish_on_postgresql(closed: Any, make_user: Any, client: Any) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Spanish full-text search needs PostgreSQL (set DATABASE_URL to a PostgreSQL server)")
    f, (santiago, biobio) = closed()
    nna = publish(
        santiago,
        make_user,
        problem="Muchas niñas y niños no vuelven a clases.",
        solution="Tutorías.",
        results="Mejor asistencia.",
        learnings="Visitas.",
        groups=["migrantes"],
        adopter="mds",
    )
    edu = publish(
        biobio,
        make_user,
        problem="Personas adultas sin estudios.",
        solution="Nivelación de educación.",
        results="Certificados.",
        learnings="Horarios.",
        groups=["desempleo"],
        adopter="mintrab",
    )
    cases = {"niño": {nna.title}, "educacion": {edu.title}, "NIÑAS": {nna.title}, "educación": {edu.title}}
    for q, expected in cases.items():
        body = client.get(f"/aprendizaje/?q={q}").get_data(as_text=True)
        assert {t for t in (nna.title, edu.title) if t in body} == expected, q


def _clone(model: Any, obj: Any, count: int, changes: Callable[[int], dict[str, Any]]) -> list[int]:
    """`count` copies of a row (one multi-row INSERT), each with `changes(n)`; their ids."""
    table = model.__table__
    base = {c.name: getattr(obj, c.key) for c in table.columns if c.name != "id"}
    rows = [{**base, **changes(n)} for n in range(count)]
    return list(db.session.execute(sa.insert(table).returning(table.c.id), rows).scalars())


def add_published_sheets(template: Sistematizacion, count: int) -> None:
    """Published sheets like `template`, each with a pilot, team and submission of its own."""
    piloto = db.session.get(Piloto, template.piloto_id)
    equipo = piloto.equipo
    offset = db.session.scalar(sa.select(sa.func.count(Sistematizacion.id))) or 0
    postulaciones = _clone(
        type(equipo.postulacion),
        equipo.postulacion,
        count,
        lambda n: {"folio": f"X-{offset + n}", "folio_number": 10_000 + offset + n},
    )
    equipos = _clone(Equipo, equipo, count, lambda n: {"postulacion_id": postulaciones[n]})
    pilotos = _clone(Piloto, piloto, count, lambda n: {"equipo_id": equipos[n]})
    _clone(
        Sistematizacion,
        template,
        count,
        lambda n: {"piloto_id": pilotos[n], "title": f"Ficha {offset + n}", "search_vector": None},
    )
    db.session.commit()


def test_the_list_issues_the_same_queries_with_6_and_600_sheets(
    closed: Any, make_user: Any, login_as: Any, count_queries: list[str]
) -> None:
    f, (piloto, _other) = closed()
    template = publish(piloto, make_user)
    # A logged-in visitor always gets a freshly rendered page (no page cache).
    visitor = login_as(Role.POSTULANTE)

    def queries() -> int:
        count_queries.clear()
        assert visitor.get("/aprendizaje/?grupo=ninez&page=2").status_code == 200
        return len(count_queries)

    add_published_sheets(template, 5)
    six = queries()
    add_published_sheets(template, 594)
    assert db.session.scalar(sa.select(sa.func.count(Sistematizacion.id))) == 600
    assert queries() == six


# --- subscriptions ----------------------------------------------------------------------------------------


def _link(message: Any, path: str) -> str:
    found = re.search(rf"https?://\S+{re.escape(path)}\S+", message.body)
    assert found, message.body
    return found.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_subscription_double_opt_in_and_a_digest_that_sends_each_sheet_once(
    closed: Any, make_user: Any, client: Any, outbox: Any, app: Any
) -> None:
    f, (santiago, biobio) = closed()
    form = client.get("/aprendizaje/suscribirse")
    assert form.status_code == 200
    response = client.post(
        "/aprendizaje/suscribirse", data={"email": "lectora@example.cl", "topic": "grupo:ninez"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/aprendizaje/suscripcion/enviada"
    assert "Revisa tu correo" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(outbox) == 1
    confirm_path = _link(outbox[0], "/aprendizaje/suscripcion/confirmar/")
    assert "/aprendizaje/suscripcion/baja/" in outbox[0].body
    subscription = db.session.scalars(sa.select(SuscripcionAprendizaje)).one()
    assert subscription.confirmed_at is None

    publish(santiago, make_user, groups=["ninez"])
    assert aops.send_digest() == 0  # not confirmed: nothing sent (and the sheet is taken)
    commit()
    # Opening the link (a mail scanner does) changes nothing; the button confirms.
    assert client.get(confirm_path).status_code == 200
    db.session.expire_all()
    assert subscription.confirmed_at is None
    confirmed = client.post(confirm_path, data={})
    assert confirmed.status_code == 302 and client.get(confirmed.headers["Location"]).status_code == 200
    db.session.expire_all()
    assert subscription.confirmed_at is not None

    sheet = publish(biobio, make_user, groups=["ninez", "migrantes"])
    sent_before = len(outbox)
    # Through `flask send-reminders`; a rerun sends nothing twice.
    assert "Recordatorios enviados: 1" in app.test_cli_runner().invoke(args=["send-reminders"]).output
    assert "Recordatorios enviados: 0" in app.test_cli_runner().invoke(args=["send-reminders"]).output
    # (The team whose sheet was published hears of it too: only the subscriber's mail is the digest.)
    digest = [m for m in list(outbox)[sent_before:] if "lectora@example.cl" in m.recipients]
    assert len(digest) == 1 and digest[0].recipients == ["lectora@example.cl"]
    assert sheet.title in digest[0].body
    unsubscribe_path = _link(digest[0], "/aprendizaje/suscripcion/baja/")
    assert client.get(unsubscribe_path).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(SuscripcionAprendizaje.id))) == 1
    assert client.post(unsubscribe_path, data={}).status_code == 302
    assert client.get(unsubscribe_path).status_code == 200  # says it is cancelled
    assert db.session.scalar(sa.select(sa.func.count(SuscripcionAprendizaje.id))) == 0
    # A forged or stale link is refused plainly.
    assert client.get("/aprendizaje/suscripcion/confirmar/forjado").status_code == 404


def test_subscribing_refuses_junk_and_is_rate_limited(client: Any, app: Any, monkeypatch: Any) -> None:
    assert (
        client.post(
            "/aprendizaje/suscribirse", data={"email": "no-es-correo", "topic": "grupo:ninez"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/aprendizaje/suscribirse", data={"email": "a@example.cl", "topic": "grupo:nada"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/aprendizaje/suscribirse", data={"email": "a@example.cl", "topic": "region:99"}
        ).status_code
        == 422
    )
    assert db.session.scalar(sa.select(sa.func.count(SuscripcionAprendizaje.id))) == 0
    monkeypatch.setitem(app.config, "APRENDIZAJE_SUBSCRIBE_LIMIT", "2 per hour")
    from idea.extensions import limiter

    limiter.reset()
    for n in range(2):
        data = {"email": f"p{n}@example.cl", "topic": "region:13"}
        assert client.post("/aprendizaje/suscribirse", data=data).status_code == 302
    assert (
        client.post(
            "/aprendizaje/suscribirse", data={"email": "p9@example.cl", "topic": "region:13"}
        ).status_code
        == 429
    )
