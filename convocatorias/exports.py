"""Exports of submissions for staff: CSV (UTF-8 with BOM, `;`) and XLSX, safe against formula injection."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, BinaryIO

import xlsxwriter
from flask_babel import gettext as _

from convocatorias.labels import ESTADO_LABELS, MADUREZ_LABELS, TIPO_ORGANIZACION_LABELS, label
from convocatorias.models import Convocatoria
from idea import chile

# A spreadsheet runs a cell that starts with one of these as a formula (tab and CR too, in some programs).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = ("csv", "xlsx")


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


def rows(records: Iterable[Sequence[Any]], call_title: str, desafios: dict[int, str]) -> Iterator[list[Any]]:
    """Export cells (text not yet neutralised) from tuples of `lead_queries.EXPORT_COLUMNS`."""
    # Each label is translated once per export, not once per row.
    tipos = {member: label(TIPO_ORGANIZACION_LABELS, member) for member in TIPO_ORGANIZACION_LABELS}
    madurez = {member: label(MADUREZ_LABELS, member) for member in MADUREZ_LABELS}
    estados = {member: label(ESTADO_LABELS, member) for member in ESTADO_LABELS}
    for (folio, desafio_id, title, org_name, rut, tipo, region, comuna, maturity, beneficiaries_count,
         requested_amount, status, submitted_at, problem, solution) in records:
        yield [
            folio or "", call_title, desafios.get(desafio_id, ""), title, org_name, _rut(rut),
            tipos.get(tipo) or label(TIPO_ORGANIZACION_LABELS, tipo),
            chile.region_name(region, default=region) if region else "",
            comuna or "",
            madurez.get(maturity) or label(MADUREZ_LABELS, maturity),
            beneficiaries_count,
            requested_amount,
            estados.get(status) or label(ESTADO_LABELS, status),
            _local(submitted_at),
            problem,
            solution,
        ]


Progress = Callable[[int], None]
PROGRESS_EVERY = 500  # rows between two progress reports of a background export


def _counted(data: Iterable[Sequence[Any]], progress: Progress | None) -> Iterator[Sequence[Any]]:
    done = 0
    for values in data:
        yield values
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    if progress is not None:
        progress(done)


def write_csv(out: BinaryIO, data: Iterable[Sequence[Any]], header: Sequence[str],
              progress: Progress | None = None) -> None:
    """CSV for Excel in Chile: `;` separated, UTF-8 with a BOM so accents show, formulas neutralised."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for values in _counted(data, progress):
        writer.writerow(["" if v is None else neutralise(v) for v in values])
    text.detach()


def to_csv(data: Iterable[Sequence[Any]], header: Sequence[str]) -> bytes:
    buffer = io.BytesIO()
    write_csv(buffer, data, header)
    return buffer.getvalue()


# Control characters are not allowed in the file format (the same set openpyxl refuses).
_ILLEGAL_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def write_xlsx(target: str | BinaryIO, data: Iterable[Sequence[Any]], header: Sequence[str], title: str,
               progress: Progress | None = None) -> None:
    """A one-sheet workbook written row by row to temporary files (xlsxwriter's constant memory mode).

    Text is always written as text: no formula, number or link is ever read into what applicants typed.
    """
    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False,
    })
    sheet = workbook.add_worksheet(_ILLEGAL_XML.sub("", title)[:31])

    def write(row: int, values: Sequence[Any]) -> None:
        for col, value in enumerate(values):
            if isinstance(value, str):
                sheet.write_string(row, col, neutralise(_ILLEGAL_XML.sub("", value)))
            elif value is not None:
                sheet.write_number(row, col, value)

    write(0, header)
    for row, values in enumerate(_counted(data, progress), start=1):
        write(row, values)
    workbook.close()


def to_xlsx(data: Iterable[Sequence[Any]], header: Sequence[str], title: str) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, data, header, title)
    return buffer.getvalue()


def filename(convocatoria: Convocatoria, extension: str) -> str:
    """E.g. postulaciones-IDEA-2026-2026-05-31.csv (the date of the export, Chile time)."""
    today = chile.to_santiago(chile.utcnow()).date()
    return f"postulaciones-{convocatoria.folio_prefix}{today.isoformat()}.{extension}"


def write_export(extension: str, target: str | BinaryIO, records: Iterable[Sequence[Any]], call_title: str,
                 desafios: dict[int, str], progress: Progress | None = None) -> None:
    """Write the submissions export (`csv` or `xlsx`) of `records` to a path or binary file."""
    data = rows(records, call_title, desafios)
    if extension == "csv":
        if isinstance(target, str):
            with open(target, "wb") as out:
                write_csv(out, data, headers(), progress)
        else:
            write_csv(target, data, headers(), progress)
    else:
        write_xlsx(target, data, headers(), _("Submissions"), progress)


def export_bytes(extension: str, records: Iterable[Sequence[Any]], call_title: str,
                 desafios: dict[int, str]) -> bytes:
    buffer = io.BytesIO()
    write_export(extension, buffer, records, call_title, desafios)
    return buffer.getvalue()


MIMETYPES = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE}
