"""Execution: pilots start from demo-day awards with accepted full forms only (idempotent), with their report
calendar; the team fills and sends reports (others get 404), with evidence files; the lead approves or sends
back with a comment, and approving the final report closes the pilot; late reports are flagged and reminded
once a week."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from convocatorias import operations as cops
from convocatorias.models import Fase
from idea.audit import EventoAuditoria
from idea.chile import utcnow
from idea.extensions import db
from idea.jobs import commit
from idea.models import Role, User
from pilotos import ejecucion as eops
from pilotos.ejecucion_models import (
    EstadoPiloto,
    EstadoReporte,
    EvidenciaReporte,
    Piloto,
    ReportePiloto,
    TipoReporte,
)
from pilotos.ejecucion_reminders import send_late_report_reminders
from pilotos.models import MiembroEquipo
from tests.pilotos.conftest import Formacion
from tests.pilotos.ejecucion_fixtures import END, START, Adjudicados, award, report_form

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def adjudicados(formacion: Callable[..., Formacion]) -> Callable[..., Adjudicados]:
    def factory(**kwargs: Any) -> Adjudicados:
        return award(formacion(regions=("13", "08", "08", "13"), rejected=0), **kwargs)

    return factory


@pytest.fixture
def started(adjudicados: Callable[..., Adjudicados], make_user: Callable[..., User]) -> Callable[..., Any]:
    def factory(**kwargs: Any) -> tuple[Adjudicados, list[Piloto], User]:
        a = adjudicados(**kwargs)
        admin = make_user(Role.ADMIN)
        eops.start_pilots(admin, a.convocatoria, today=START)
        db.session.commit()
        pilots = list(db.session.scalars(sa.select(Piloto).order_by(Piloto.equipo_id)))
        return a, pilots, admin

    return factory


def member_of(piloto: Piloto) -> User:
    return db.session.scalars(
        sa.select(User)
        .join(MiembroEquipo, MiembroEquipo.user_id == User.id)
        .where(MiembroEquipo.equipo_id == piloto.equipo_id)
    ).first()


# --- starting ------------------------------------------------------------------------------------------


def test_pilots_start_only_for_awarded_teams_with_an_accepted_form_and_once(
    adjudicados: Any, make_user: Any
) -> None:
    a = adjudicados()
    admin = make_user(Role.ADMIN)
    a.convocatoria.fase = Fase.FORMACION
    cops.change_fase(admin, a.convocatoria, Fase.EJECUCION)  # the phase change starts them
    db.session.commit()
    pilots = list(db.session.scalars(sa.select(Piloto).order_by(Piloto.equipo_id)))
    assert [p.equipo_id for p in pilots] == [a.equipos[0].id, a.equipos[1].id]
    first = pilots[0]
    assert first.amount == 20_000_000 and first.region == "13"
    assert first.plan["presupuesto"][0]["item"] == "Coordinadora"
    assert (first.starts_on, first.ends_on) == (START, END)
    assert [h.title for h in first.hitos] == ["Convocatoria de familias", "Talleres y visitas"]
    assert [h.due_on for h in first.hitos] == [date(2026, 2, 15), date(2026, 7, 10)]
    # Again (the lead's button for late awards): nothing new.
    assert eops.start_pilots(admin, a.convocatoria) == 0
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Piloto.id))) == 2
    assert (
        db.session.scalar(
            sa.select(sa.func.count(EventoAuditoria.id)).where(EventoAuditoria.action == "piloto.started")
        )
        == 1
    )


def test_the_report_calendar(adjudicados: Any, make_user: Any) -> None:
    periods = eops.report_calendar(START, END, 2, 10)
    assert [(p.number, p.kind, p.start, p.end, p.due_on) for p in periods] == [
        (1, TipoReporte.AVANCE, date(2026, 1, 15), date(2026, 3, 14), date(2026, 3, 24)),
        (2, TipoReporte.AVANCE, date(2026, 3, 15), date(2026, 5, 14), date(2026, 5, 24)),
        (3, TipoReporte.FINAL, date(2026, 5, 15), date(2026, 7, 14), date(2026, 7, 24)),
    ]
    # Monthly from the 31st: the short months end on their last day; one report per month.
    monthly = eops.report_calendar(date(2026, 1, 31), date(2026, 4, 29), 1, 0)
    assert [(p.start, p.end) for p in monthly] == [
        (date(2026, 1, 31), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2026, 3, 30)),
        (date(2026, 3, 31), date(2026, 4, 29)),
    ]
    assert monthly[-1].kind == TipoReporte.FINAL
    # A call without an execution period: today + the duration.
    a = adjudicados()
    a.convocatoria.execution_start_at = None
    a.convocatoria.closing_at = None
    eops.start_pilots(make_user(Role.ADMIN), a.convocatoria, today=date(2026, 3, 1))
    piloto = db.session.scalars(sa.select(Piloto)).first()
    assert (piloto.starts_on, piloto.ends_on) == (date(2026, 3, 1), date(2026, 8, 31))
    assert len(piloto.reportes) == 3 and piloto.reportes[-1].kind == TipoReporte.FINAL


# --- the team's report ---------------------------------------------------------------------------------


def test_a_member_fills_and_sends_a_report_others_get_404(started: Any, login_as: Any, client: Any) -> None:
    _a, pilots, _admin = started()
    piloto = pilots[0]
    reporte = piloto.reportes[0]
    team = login_as(member_of(piloto))
    page = team.get(f"/mi-piloto/{piloto.id}")
    assert page.status_code == 200 and "Informe de avance 1" in page.get_data(as_text=True)
    assert team.get(f"/mi-piloto/reportes/{reporte.id}").status_code == 200
    response = team.post(f"/mi-piloto/reportes/{reporte.id}", data=report_form())
    assert response.status_code == 302
    db.session.expire_all()
    assert reporte.status == EstadoReporte.ENVIADO
    assert reporte.data["beneficiarios"] == {
        "total": 40,
        "mujeres": 25,
        "hombres": 14,
        "otro": 1,
        "por_region": {},
    }
    assert reporte.data["gastos"][1] == {"item": "Materiales", "executed": 1_000_000}
    assert reporte.historial[0].snapshot == reporte.data
    # Another team's member and a stranger: 404; nobody logged in: to the login page.
    other = login_as(member_of(pilots[1]))
    assert other.get(f"/mi-piloto/{piloto.id}").status_code == 404
    assert other.get(f"/mi-piloto/reportes/{reporte.id}").status_code == 404
    assert other.post(f"/mi-piloto/reportes/{reporte.id}", data=report_form()).status_code == 404
    assert login_as().get(f"/mi-piloto/reportes/{reporte.id}").status_code == 404
    anonymous = client.get(f"/mi-piloto/reportes/{reporte.id}")
    assert anonymous.status_code == 302 and "/ingresar" in anonymous.headers["Location"]


def test_refused_reports_write_nothing(started: Any, login_as: Any) -> None:
    _a, pilots, _admin = started()
    piloto = pilots[0]
    reporte = piloto.reportes[0]
    team = login_as(member_of(piloto))
    # A draft may be incomplete...
    draft = team.post(f"/mi-piloto/reportes/{reporte.id}", data={"ind-0": "30", "save": "1"})
    assert draft.status_code == 302
    db.session.expire_all()
    assert reporte.status == EstadoReporte.PENDIENTE and reporte.data["indicadores"][0]["actual"] == "30"
    saved = dict(reporte.data)
    # ...but not unreadable; and sending needs it whole, with the breakdown adding up.
    bad = team.post(f"/mi-piloto/reportes/{reporte.id}", data={"ind-0": "mucho", "total": "-3", "save": "1"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "el valor debe ser un número" in text
    incomplete = team.post(
        f"/mi-piloto/reportes/{reporte.id}", data=report_form(mujeres="20", worked="", **{"gasto-1": None})
    )
    text = incomplete.get_data(as_text=True)
    assert incomplete.status_code == 422
    assert "suman 35, pero el total es 40" in text
    assert "Escribe lo que funcionó" in text
    assert "Materiales" in text and "ingresa los pesos ejecutados" in text
    db.session.expire_all()
    assert reporte.status == EstadoReporte.PENDIENTE and reporte.data == saved and not reporte.historial


def test_evidence_refuses_a_disguised_file_and_is_served_to_the_team_and_leads(
    started: Any, login_as: Any
) -> None:
    _a, pilots, _admin = started()
    piloto = pilots[0]
    reporte = piloto.reportes[0]
    team = login_as(member_of(piloto))
    url = f"/mi-piloto/reportes/{reporte.id}/evidencias"
    disguised = team.post(
        url,
        data={"archivo": (io.BytesIO(b"MZ\x90\x00 not a pdf" * 10), "informe.pdf")},
        content_type="multipart/form-data",
    )
    assert disguised.status_code == 422
    assert "Solo se pueden adjuntar archivos PDF, PNG y JPEG" in disguised.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(EvidenciaReporte.id))) == 0
    ok = team.post(url, data={"archivo": (io.BytesIO(PDF), "fotos")}, content_type="multipart/form-data")
    assert ok.status_code == 302
    evidencia = db.session.scalars(sa.select(EvidenciaReporte)).one()
    assert evidencia.original_name == "fotos.pdf" and evidencia.content_type == "application/pdf"
    download = team.get(f"/piloto/evidencias/{evidencia.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    url = f"/piloto/evidencias/{evidencia.id}"
    for who, status in (
        (login_as(Role.ENCARGADO_TECNICO), 200),
        (login_as(Role.ENCARGADO_TECNICO, region="13"), 200),
        (login_as(Role.ENCARGADO_TECNICO, region="08"), 404),
        (login_as(member_of(pilots[1])), 404),
    ):
        response = who.get(url)
        assert response.status_code == status
        response.close()


# --- review --------------------------------------------------------------------------------------------


def test_the_lead_sends_back_with_a_comment_then_approves_and_the_final_closes(
    started: Any, login_as: Any, outbox: Any
) -> None:
    _a, pilots, _admin = started()
    piloto = pilots[0]
    first, second, final = piloto.reportes
    team = login_as(member_of(piloto))
    lead = login_as(Role.ENCARGADO_TECNICO)
    team.post(f"/mi-piloto/reportes/{first.id}", data=report_form())
    # A comment is required to send back.
    refused = lead.post(f"/gestion/ejecucion/reportes/{first.id}", data={"comment": " ", "send_back": "1"})
    assert refused.status_code == 422 and "Escribe qué debe cambiar el equipo" in refused.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert first.status == EstadoReporte.ENVIADO
    lead.post(
        f"/gestion/ejecucion/reportes/{first.id}", data={"comment": "Falta el gasto real.", "send_back": "1"}
    )
    db.session.expire_all()
    assert first.status == EstadoReporte.CON_OBSERVACIONES
    assert "Falta el gasto real." in team.get(f"/mi-piloto/{piloto.id}").get_data(as_text=True)
    # The team hears of it by e-mail, with the comment and the link to the report.
    (returned,) = outbox.to(member_of(piloto).email)
    assert returned.subject == f"Piloto {piloto.name}: el informe 1 fue devuelto con observaciones"
    assert "Falta el gasto real." in returned.body and f"/mi-piloto/reportes/{first.id}" in returned.body
    team.post(f"/mi-piloto/reportes/{first.id}", data=report_form(**{"gasto-0": "9000000"}))
    lead.post(f"/gestion/ejecucion/reportes/{first.id}", data={"approve": "1"})
    db.session.expire_all()
    assert first.status == EstadoReporte.APROBADO
    assert [h.action.value for h in first.historial] == ["enviado", "observado", "enviado", "aprobado"]
    history = lead.get(f"/gestion/ejecucion/reportes/{first.id}").get_data(as_text=True)
    assert "Falta el gasto real." in history and "Aprobado por el encargado" in history
    # An approved report is no longer editable.
    assert team.post(f"/mi-piloto/reportes/{first.id}", data=report_form()).status_code == 422
    # The final report waits for the progress reports.
    early = team.post(
        f"/mi-piloto/reportes/{final.id}", data=report_form(summary="Resultados", continuity="Sigue")
    )
    assert early.status_code == 422 and "Envía primero los informes de avance (informe 2)" in early.get_data(
        as_text=True
    )
    team.post(
        f"/mi-piloto/reportes/{second.id}",
        data=report_form(**{"gasto-0": "6000000"}, total="10", mujeres="5", hombres="5", otro="0"),
    )
    no_closing = team.post(f"/mi-piloto/reportes/{final.id}", data=report_form())
    assert no_closing.status_code == 422 and "Escribe los resultados del piloto" in no_closing.get_data(
        as_text=True
    )
    team.post(
        f"/mi-piloto/reportes/{final.id}",
        data=report_form(
            summary="Resultados",
            continuity="Sigue",
            total="0",
            mujeres="0",
            hombres="0",
            otro="0",
            **{"gasto-0": "0", "gasto-1": "0"},
        ),
    )
    premature = lead.post(f"/gestion/ejecucion/reportes/{final.id}", data={"approve": "1"})
    assert (
        premature.status_code == 422
        and "Aprueba primero los informes de avance (informe 2)" in premature.get_data(as_text=True)
    )
    lead.post(f"/gestion/ejecucion/reportes/{second.id}", data={"approve": "1"})
    lead.post(f"/gestion/ejecucion/reportes/{final.id}", data={"approve": "1"})
    db.session.expire_all()
    assert piloto.status == EstadoPiloto.CERRADO and piloto.closed_at is not None
    closing = outbox.to(member_of(piloto).email)[-1]
    assert closing.subject == f"Piloto {piloto.name}: el informe 3 fue aprobado"
    assert "el piloto quedó cerrado" in closing.body and "ficha de sistematización" in closing.body
    # The figures count the approved reports: 9 + 1 + 6 + 1 + 0 million executed, 50 reached.
    figures = eops.figures_of(piloto)
    assert figures.executed == 17_000_000 and figures.reached == 50
    page = lead.get(f"/gestion/ejecucion/pilotos/{piloto.id}").get_data(as_text=True)
    assert "Cerrado" in page and "85,0 %" in page and "sin línea base" in page
    assert "ejecución presupuestaria = monto ejecutado / monto adjudicado" in page


def test_a_regional_lead_sees_only_pilots_of_their_regions(started: Any, login_as: Any) -> None:
    _a, pilots, _admin = started()
    santiago, biobio = pilots
    lead = login_as(Role.ENCARGADO_TECNICO, region="08")
    assert lead.get(f"/gestion/ejecucion/pilotos/{biobio.id}").status_code == 200
    assert lead.get(f"/gestion/ejecucion/pilotos/{santiago.id}").status_code == 404
    assert lead.get(f"/gestion/ejecucion/reportes/{santiago.reportes[0].id}").status_code == 404
    assert (
        lead.post(f"/gestion/ejecucion/reportes/{santiago.reportes[0].id}", data={"approve": "1"}).status_code
        == 404
    )
    assert lead.get(f"/gestion/ejecucion/pilotos/{santiago.id}/plan").status_code == 404
    listing = lead.get(f"/gestion/ejecucion/{santiago.convocatoria_id}").get_data(as_text=True)
    assert biobio.name in listing and santiago.name not in listing
    # The call's settings and starting pilots are for leads of the whole call.
    assert lead.get(f"/gestion/ejecucion/{santiago.convocatoria_id}/configuracion").status_code == 404
    assert lead.post(f"/gestion/ejecucion/{santiago.convocatoria_id}/iniciar").status_code == 404
    # Neither a team member nor an applicant reaches the lead pages.
    assert login_as(member_of(biobio)).get(f"/gestion/ejecucion/pilotos/{biobio.id}").status_code == 403


def test_the_lead_edits_planned_beneficiaries_and_milestones(started: Any, login_as: Any) -> None:
    _a, pilots, _admin = started()
    piloto = pilots[0]
    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/ejecucion/pilotos/{piloto.id}/plan"
    bad = lead.post(url, data={"beneficiaries": "muchos", "hito-0-title": "", "hito-0-due": "2026-02-01"})
    assert bad.status_code == 422
    db.session.expire_all()
    assert piloto.beneficiaries_planned is None and len(piloto.hitos) == 2
    ok = lead.post(
        url,
        data={
            "beneficiaries": "200",
            "hito-0-title": "Convocatoria",
            "hito-0-due": "2026-02-20",
            "hito-1-title": "",
            "hito-1-due": "",
            "hito-2-title": "Cierre",
            "hito-2-due": "2026-07-01",
        },
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert piloto.beneficiaries_planned == 200
    assert [(h.title, h.due_on) for h in piloto.hitos] == [
        ("Convocatoria", date(2026, 2, 20)),
        ("Cierre", date(2026, 7, 1)),
    ]
    # The team marks a milestone done.
    team = login_as(member_of(piloto))
    assert team.post(f"/mi-piloto/hitos/{piloto.hitos[0].id}", data={"done": "1"}).status_code == 302
    db.session.expire_all()
    assert piloto.hitos[0].done_on is not None
    assert (
        login_as(member_of(pilots[1]))
        .post(f"/mi-piloto/hitos/{piloto.hitos[0].id}", data={"done": "0"})
        .status_code
        == 404
    )


def test_settings_refuse_out_of_range_values(adjudicados: Any, login_as: Any) -> None:
    a = adjudicados()
    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/ejecucion/{a.convocatoria.id}/configuracion"
    assert lead.get(url).status_code == 200
    refused = lead.post(url, data={"report_every_months": "8", "duration_months": "6", "grace_days": "10"})
    assert refused.status_code == 422
    ok = lead.post(
        url,
        data={
            "report_every_months": "3",
            "duration_months": "6",
            "grace_days": "5",
            "ask_sex_breakdown": "y",
        },
    )
    assert ok.status_code == 302
    config = eops.config_of(a.convocatoria)
    assert (config.report_every_months, config.grace_days, config.ask_region_breakdown) == (3, 5, False)


# --- late reports --------------------------------------------------------------------------------------


def test_late_reports_are_flagged_and_reminded_once_a_week(started: Any, login_as: Any, outbox: Any) -> None:
    _a, pilots, _admin = started()
    piloto = pilots[0]
    first = piloto.reportes[0]  # due 2026-03-24
    assert eops.is_late(first.status, first.due_on, date(2026, 3, 25))
    assert not eops.is_late(first.status, first.due_on, date(2026, 3, 24))
    now = utcnow()
    today = eops.today_cl(now)
    # Make the first report past due by a day in real time, the rest in the future.
    for n, reporte in enumerate(piloto.reportes):
        reporte.due_on = today - timedelta(days=1) if n == 0 else today + timedelta(days=30 * n)
    for reporte in pilots[1].reportes:
        reporte.due_on = today + timedelta(days=30)
    db.session.commit()
    page = login_as(member_of(piloto)).get(f"/mi-piloto/{piloto.id}").get_data(as_text=True)
    assert "Atrasado" in page
    assert "1 atrasado" in login_as(Role.ENCARGADO_TECNICO).get(
        f"/gestion/ejecucion/{piloto.convocatoria_id}"
    ).get_data(as_text=True)
    assert send_late_report_reminders(now) == 1
    commit()
    assert send_late_report_reminders(now + timedelta(days=3)) == 0  # within the week
    commit()
    mails = outbox.to(member_of(piloto).email)
    assert len(mails) == 1 and "informe 1 está atrasado" in mails[0].subject
    assert send_late_report_reminders(now + timedelta(days=7, minutes=1)) == 1  # a week later, again
    commit()
    assert len(outbox.to(member_of(piloto).email)) == 2
    # Sent: no longer late, no reminder.
    first.status = EstadoReporte.ENVIADO
    db.session.commit()
    assert send_late_report_reminders(now + timedelta(days=15)) == 0
    # Sent back and not resent: late again.
    first.status = EstadoReporte.CON_OBSERVACIONES
    db.session.commit()
    assert eops.is_late(first.status, first.due_on, today)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(ReportePiloto.id)).where(ReportePiloto.reminded_at.is_not(None))
        )
        == 1
    )
