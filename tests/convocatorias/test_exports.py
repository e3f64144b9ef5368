"""CSV and XLSX exports: every filtered row, accents intact, formulas neutralised, staff only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from convocatorias import exports
from convocatorias.models import Convocatoria, EstadoPostulacion, TipoOrganizacion
from idea.extensions import db
from idea.models import EventoAuditoria, Role
from tests.convocatorias.conftest import valid_rut
from tests.convocatorias.test_lead import add_postulaciones

ENVIADA = EstadoPostulacion.ENVIADA
DANGEROUS = ['=HYPERLINK("http://malo.example","clic")', "+1", "-2", "@SUM(A1)", "\tTabulado", "\rRetorno"]


def export_url(convocatoria: Convocatoria, extension: str, **args: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    url = f"/gestion/convocatorias/{convocatoria.id}/postulaciones.{extension}"
    return url + (f"?{query}" if query else "")


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so that Excel shows accents"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def read_xlsx(data: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


@pytest.fixture
def call(make_convocatoria: Any) -> Convocatoria:
    return make_convocatoria(title="Fondo IDEA 2026")


@pytest.fixture
def lead(login_as: Any) -> Any:
    return login_as(Role.ENCARGADO_TECNICO)


def test_neutralise() -> None:
    for text in DANGEROUS:
        assert exports.neutralise(text) == "'" + text
    assert exports.neutralise("Plaza de Ñuñoa") == "Plaza de Ñuñoa"
    assert exports.neutralise("") == ""
    assert exports.neutralise(-2) == -2  # numbers stay numbers
    assert exports.neutralise(None) is None


def test_csv_has_all_columns_accents_and_chilean_time(lead: Any, call: Convocatoria, make_desafio: Any,
                                                      make_organizacion: Any, make_postulacion: Any) -> None:
    org = make_organizacion(name="Fundación Ñandú", rut=valid_rut(76_086_428),
                            tipo=TipoOrganizacion.SIN_FINES_DE_LUCRO, region="16", comuna="Chillán")
    desafio = make_desafio(call, title="Niñez y educación")
    p = make_postulacion(desafio, org, status=ENVIADA, title="Educación en Ñuble",
                         requested_amount=27_350_000, beneficiaries_count=340,
                         problem="Niños sin escuela;\n\"muchos\"", solution="Tutorías")
    p.submitted_at = datetime(2026, 6, 1, 3, 59, tzinfo=UTC)  # 31 May 23:59 in Santiago (UTC-4)
    db.session.commit()

    response = lead.get(export_url(call, "csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename=postulaciones-IDEA-2026-" in disposition and disposition.endswith(".csv")
    assert response.headers["Cache-Control"] == "no-store"
    header, *data = read_csv(response.data)
    assert len(header) == 16
    assert data == [[
        p.folio, "Fondo IDEA 2026", "Niñez y educación", "Educación en Ñuble", "Fundación Ñandú",
        "76.086.428-" + valid_rut(76_086_428)[-1],
        data[0][6], "Ñuble", "Chillán", data[0][9], "340", "27350000", data[0][12], "2026-05-31 23:59",
        "Niños sin escuela;\n\"muchos\"", "Tutorías",
    ]]
    assert data[0][6] and data[0][9] and data[0][12]  # type, maturity and status as words


def test_xlsx_has_accents_and_integers(lead: Any, call: Convocatoria, make_desafio: Any,
                                       make_organizacion: Any, make_postulacion: Any) -> None:
    org = make_organizacion(name="Corporación Ayün", region="09", comuna="Temuco")
    make_postulacion(make_desafio(call), org, status=ENVIADA, title="Telar mapuche en Ercilla",
                     requested_amount=21_000_000, beneficiaries_count=45)
    response = lead.get(export_url(call, "xlsx"))
    assert response.status_code == 200
    assert response.mimetype == exports.XLSX_MIMETYPE
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    header, row = read_xlsx(response.data)
    assert len(header) == 16
    assert row[3] == "Telar mapuche en Ercilla"
    assert row[4] == "Corporación Ayün"
    assert row[7] == "La Araucanía"
    assert row[10] == 45 and row[11] == 21_000_000


def test_formulas_are_neutralised(lead: Any, call: Convocatoria, make_desafio: Any, make_organizacion: Any,
                                  make_postulacion: Any) -> None:
    desafio = make_desafio(call)
    org = make_organizacion(name="=cmd|' /C calc'!A0")
    for title in DANGEROUS:
        make_postulacion(desafio, org, status=ENVIADA, title=title, problem="-resta", solution="@arroba")

    _header, *data = read_csv(lead.get(export_url(call, "csv")).data)
    assert sorted(row[3] for row in data) == sorted("'" + t for t in DANGEROUS)
    assert all(row[4] == "'=cmd|' /C calc'!A0" and row[14] == "'-resta" and row[15] == "'@arroba"
               for row in data)

    workbook = load_workbook(io.BytesIO(lead.get(export_url(call, "xlsx")).data))
    cells = [row for row in workbook.active.iter_rows(min_row=2)]
    # xlsxwriter keeps a carriage return as the spreadsheet escape _x000D_ (Excel reads it back as "\r");
    # openpyxl reads "\r" back as a line feed with the standard library's XML parser and as itself with
    # lxml (used when installed): compare with line endings made one.
    titles = [_one_line_ending(row[3].value.replace("_x000D_", "\r")) for row in cells]
    assert sorted(titles) == sorted("'" + _one_line_ending(t) for t in DANGEROUS)
    for row in cells:
        for cell in (row[3], row[4], row[14], row[15]):
            assert cell.data_type == "s", cell.value
            assert cell.value.startswith("'")


def _one_line_ending(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_control_characters_do_not_break_the_workbook(lead: Any, call: Convocatoria, make_desafio: Any,
                                                     make_postulacion: Any) -> None:
    make_postulacion(make_desafio(call), status=ENVIADA, title="Idea\x0b con\x01 control")
    response = lead.get(export_url(call, "xlsx"))
    assert response.status_code == 200
    assert read_xlsx(response.data)[1][3] == "Idea con control"


def test_exports_have_every_filtered_row_not_one_page(lead: Any, call: Convocatoria, make_desafio: Any,
                                                      make_organizacion: Any) -> None:
    desafio = make_desafio(call)
    add_postulaciones(desafio, make_organizacion(region="08", comuna="Lota"), 60)
    add_postulaciones(desafio, make_organizacion(region="13"), 5, start=100)
    add_postulaciones(desafio, make_organizacion(region="08"), 3, start=200,
                      status=EstadoPostulacion.BORRADOR)

    assert len(read_csv(lead.get(export_url(call, "csv")).data)) == 1 + 65  # drafts are never exported
    assert len(read_xlsx(lead.get(export_url(call, "xlsx")).data)) == 1 + 65
    assert len(read_csv(lead.get(export_url(call, "csv", region="08")).data)) == 1 + 60
    assert len(read_xlsx(lead.get(export_url(call, "xlsx", region="08", estado="borrador")).data)) == 1 + 60
    assert len(read_csv(lead.get(export_url(call, "csv", q="masiva%2010")).data)) == 1 + 6  # 10, 100-104
    folios = [row[0] for row in read_csv(lead.get(export_url(call, "csv", region="08")).data)[1:]]
    assert folios == sorted(folios)


def test_an_export_is_recorded_in_the_audit_log(lead: Any, call: Convocatoria, make_desafio: Any,
                                                make_postulacion: Any) -> None:
    make_postulacion(make_desafio(call), status=ENVIADA)
    assert lead.get(export_url(call, "csv", region="13")).status_code == 200
    db.session.expire_all()
    event = db.session.scalars(sa.select(EventoAuditoria)
                               .where(EventoAuditoria.action == "postulaciones.export")).one()
    assert event.actor_id == lead.user.id
    assert event.object_id == str(call.id)
    assert event.after == {"format": "csv", "filters": {"region": "13"}, "rows": 1}


@pytest.mark.parametrize("role", [Role.POSTULANTE, Role.EVALUADOR])
def test_exports_refuse_applicants_and_reviewers(login_as: Any, call: Convocatoria, make_desafio: Any,
                                                 make_postulacion: Any, role: Role) -> None:
    make_postulacion(make_desafio(call), status=ENVIADA)
    client = login_as(role)
    for extension in ("csv", "xlsx"):
        response = client.get(export_url(call, extension))
        assert response.status_code == 403
        assert b"Idea" not in response.data


def test_exports_send_anonymous_visitors_to_log_in(client: Any, call: Convocatoria) -> None:
    for extension in ("csv", "xlsx"):
        response = client.get(export_url(call, extension))
        assert response.status_code == 302
        assert "/cuenta/ingresar" in response.headers["Location"]
