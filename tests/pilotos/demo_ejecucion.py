"""Parameters of the execution pages from the demo data (pilotos/ejecucion_seed.py), for
tests/test_browser_pages.py."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from convocatorias.models import Convocatoria
from idea.extensions import db
from pilotos.ejecucion_models import EstadoReporte, Piloto
from pilotos.ejecucion_seed import EJECUCION_CALL_SLUG


def _call_id() -> int:
    return db.session.scalars(
        sa.select(Convocatoria.id).where(Convocatoria.slug == EJECUCION_CALL_SLUG)
    ).one()


def _pilots() -> list[Piloto]:
    """The demo applicant's pilot (O'Higgins), a Biobío one (the Biobío lead sees it), and the closed one."""
    pilots = list(
        db.session.scalars(sa.select(Piloto).where(Piloto.convocatoria_id == _call_id()).order_by(Piloto.id))
    )
    own = next(p for p in pilots if p.region == "06")
    biobio = next(p for p in pilots if p.region == "08")
    closed = next(p for p in pilots if p.status.value == "cerrado")
    return [own, biobio, closed]


def call(_demo: Any) -> list[dict[str, Any]]:
    return [{"convocatoria_id": _call_id()}]


def pilots(_demo: Any) -> list[dict[str, Any]]:
    return [{"piloto_id": p.id} for p in _pilots()]


def reports(_demo: Any) -> list[dict[str, Any]]:
    """A report sent back (editable form), one waiting for review, an approved one, and an approved final."""
    ids = []
    for piloto in _pilots():
        for status in (EstadoReporte.CON_OBSERVACIONES, EstadoReporte.ENVIADO):
            ids += [r.id for r in piloto.reportes if r.status == status][:1]
    own, _biobio, closed = _pilots()
    ids.append(own.reportes[0].id)  # approved
    ids.append(own.reportes[-1].id)  # the final report, not sent yet (its closing fields)
    ids.append(closed.reportes[-1].id)  # an approved final report
    return [{"reporte_id": i} for i in dict.fromkeys(ids)]
