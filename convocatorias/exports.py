"""Exports of submissions for staff: CSV (UTF-8 with BOM, `;`) and XLSX, safe against formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from convocatorias.labels import ESTADO_LABELS, MADUREZ_LABELS, TIPO_ORGANIZACION_LABELS, label
from convocatorias.models import Convocatoria, Postulacion
from idea import chile

# A spreadsheet runs a cell that starts with one of these as a formula (tab and CR too, in some programs).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: Any) -> Any:
    """Prefix text that a spreadsheet would read as a formula with a single quote; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def headers() -> list[str]:
    return [
        _("Folio"), _("Call"), _("Challenge"), _("Title"), _("Organisation"), _("Organisation RUT"),
        _("Organisation type"), _("Region"), _("Commune"), _("Maturity"), _("Number of beneficiaries"),
        _("Requested amount (CLP)"), _("Status"), _("Submitted at (Chile time)"), _("Problem"), _("Solution"),
    ]


def _local(moment: datetime | None) -> str:
    return f"{chile.to_santiago(moment):%Y-%m-%d %H:%M}" if moment else ""


def _rut(value: str) -> str:
    try:
        return chile.format_rut(value)
    except ValueError:
        return value


def row(p: Postulacion) -> list[Any]:
    """One submission as export cells (text not yet neutralised)."""
    org = p.organizacion
    return [
        p.folio or "",
        p.convocatoria.title,
        p.desafio.title,
        p.title,
        org.name,
        _rut(org.rut),
        label(TIPO_ORGANIZACION_LABELS, org.tipo),
        chile.region_name(p.region, default=p.region) if p.region else "",
        p.comuna or "",
        label(MADUREZ_LABELS, p.maturity),
        p.beneficiaries_count,
        p.requested_amount,
        label(ESTADO_LABELS, p.status),
        _local(p.submitted_at),
        p.problem,
        p.solution,
    ]


def rows(postulaciones: Iterable[Postulacion]) -> Iterable[list[Any]]:
    for p in postulaciones:
        yield row(p)


def to_csv(data: Iterable[Sequence[Any]], header: Sequence[str]) -> bytes:
    """CSV for Excel in Chile: `;` separated, UTF-8 with a BOM so accents show, formulas neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for values in data:
        writer.writerow(["" if v is None else neutralise(v) for v in values])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, str):
        # Control characters are not allowed in the file format; a formula is written as plain text.
        cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)))
        cell.data_type = "s"
        return cell
    return WriteOnlyCell(sheet, value=value)


def to_xlsx(data: Iterable[Sequence[Any]], header: Sequence[str], title: str) -> bytes:
    """A one-sheet workbook written row by row (write-only mode keeps memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([_xlsx_cell(sheet, h) for h in header])
    for values in data:
        sheet.append([_xlsx_cell(sheet, v) for v in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(convocatoria: Convocatoria, extension: str) -> str:
    """E.g. postulaciones-IDEA-2026-2026-05-31.csv (the date of the export, Chile time)."""
    today = chile.to_santiago(chile.utcnow()).date()
    return f"postulaciones-{convocatoria.folio_prefix}{today.isoformat()}.{extension}"


def export_csv(postulaciones: Iterable[Postulacion]) -> bytes:
    return to_csv(rows(postulaciones), headers())


def export_xlsx(postulaciones: Iterable[Postulacion]) -> bytes:
    return to_xlsx(rows(postulaciones), headers(), _("Submissions"))
