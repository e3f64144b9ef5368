"""Labels of the evaluation phase, defined once and offered to every template."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from evaluacion.models import Conflicto, EstadoAsignacion, TipoConflicto
from idea import chile

ASIGNACION_LABELS = {
    EstadoAsignacion.PENDIENTE: _l("Not started"),
    EstadoAsignacion.BORRADOR: _l("Draft"),
    EstadoAsignacion.ENVIADA: _l("Submitted"),
    EstadoAsignacion.RETIRADA: _l("Withdrawn"),
}


def asignacion_label(status: Any) -> str:
    return str(ASIGNACION_LABELS.get(EstadoAsignacion(status), status))


def conflicto_label(c: Conflicto) -> str:
    if c.tipo == TipoConflicto.POSTULACION:
        return str(
            _l("Submission %(folio)s", folio=c.postulacion.folio if c.postulacion else c.postulacion_id)
        )
    if c.tipo == TipoConflicto.REGION:
        return str(_l("Region %(name)s", name=chile.region_name(c.value or "", c.value)))
    if c.tipo == TipoConflicto.ORGANIZACION:
        return str(_l("Organisation %(rut)s", rut=chile.format_rut(c.value or "")))
    return str(_l("Person %(rut)s", rut=chile.format_rut(c.value or "")))


def register(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"asignacion_label": asignacion_label, "conflicto_label": conflicto_label}
