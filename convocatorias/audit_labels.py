"""How the audit log names the actions and objects of calls and submissions, and links to them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, url_for
from flask_babel import lazy_gettext as _l

from convocatorias.labels import FIELD_LABELS, estado_label, madurez_label, tipo_label
from convocatorias.models import (
    Adjunto,
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Fase,
    Organizacion,
    Postulacion,
)
from convocatorias.queries import fase_label
from idea import audit
from idea.extensions import db

ACTIONS: dict[str, Any] = {
    "organizacion.created": _l("Registered an organisation"),
    "organizacion.updated": _l("Updated an organisation"),
    "postulacion.draft_created": _l("Started a draft submission"),
    "postulacion.draft_saved": _l("Saved a draft submission"),
    "postulacion.edited": _l("Edited a sent submission"),
    "postulacion.submitted": _l("Sent the submission"),
    "postulacion.withdrawn": _l("Withdrew the submission"),
    "postulacion.draft_deleted": _l("Deleted a draft submission"),
    "adjunto.uploaded": _l("Attached a file"),
    "adjunto.deleted": _l("Deleted an attached file"),
    "adjunto.downloaded": _l("Downloaded an attached file"),
    "convocatoria.created": _l("Created a call"),
    "convocatoria.updated": _l("Edited a call"),
    "convocatoria.published": _l("Published a call"),
    "convocatoria.fase_changed": _l("Moved a call to another phase"),
    "desafio.created": _l("Created a challenge"),
    "desafio.updated": _l("Edited a challenge"),
    "desafio.deleted": _l("Deleted a challenge"),
    "postulaciones.export": _l("Exported submissions"),
}


def _ints(ids: list[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit()]


def _postulaciones(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(
        sa.select(Postulacion.id, Postulacion.folio, Postulacion.title, Postulacion.status)
        .where(Postulacion.id.in_(_ints(ids))))
    # Drafts have no staff page: named, not linked.
    return {str(id_): (f"{folio} · {title}" if folio else title,
                       url_for("convocatorias_lead.submission", postulacion_id=id_)
                       if status != EstadoPostulacion.BORRADOR else None)
            for id_, folio, title, status in rows}


def _adjuntos(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(
        sa.select(Adjunto.id, Adjunto.original_name, Postulacion.id, Postulacion.folio, Postulacion.status)
        .join(Adjunto.postulacion).where(Adjunto.id.in_(_ints(ids))))
    return {str(id_): (f"{name} ({folio})" if folio else name,
                       url_for("convocatorias_lead.submission", postulacion_id=p_id) + "#adjuntos"
                       if status != EstadoPostulacion.BORRADOR else None)
            for id_, name, p_id, folio, status in rows}


def _convocatorias(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(sa.select(Convocatoria.id, Convocatoria.title)
                              .where(Convocatoria.id.in_(_ints(ids))))
    return {str(id_): (title, url_for("convocatorias_admin.detail", convocatoria_id=id_))
            for id_, title in rows}


def _desafios(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(sa.select(Desafio.id, Desafio.title, Desafio.convocatoria_id)
                              .where(Desafio.id.in_(_ints(ids))))
    return {str(id_): (title, url_for("convocatorias_admin.edit_desafio", convocatoria_id=call_id,
                                      desafio_id=id_))
            for id_, title, call_id in rows}


def _organizaciones(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(sa.select(Organizacion.id, Organizacion.name)
                              .where(Organizacion.id.in_(_ints(ids))))
    return {str(id_): (name, None) for id_, name in rows}


def _fase(value: Any) -> str:
    return fase_label(value) if value in set(Fase) else str(value)


def register(app: Flask) -> None:
    """Plug the names of this package's actions, fields and objects into the audit log."""
    audit.register_labels(
        app,
        actions=ACTIONS,
        fields={**FIELD_LABELS, "postulacion_id": _l("Submission"), "content_type": _l("File type"),
                "sha256": _l("SHA-256 checksum"), "slug": _l("Web address"),
                "indicators": _l("Baseline indicators"), "unit": _l("Unit"), "value": _l("Value"),
                "source": _l("Source"), "measured_on": _l("Date of the measurement")},
        values={"status": estado_label, "maturity": madurez_label, "tipo": tipo_label,
                "fase": _fase},
        objects={
            "Postulacion": (_l("Submission"), _postulaciones),
            "Adjunto": (_l("Attachment"), _adjuntos),
            "Convocatoria": (_l("Call"), _convocatorias),
            "Desafio": (_l("Challenge"), _desafios),
            "Organizacion": (_l("Organisation"), _organizaciones),
        },
    )
