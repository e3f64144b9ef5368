"""Large exports of submissions as background jobs: asked for, written with progress, downloaded by the
person who asked (while the call is in their scope), and removed when they expire."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale

from convocatorias import exports, lead_queries
from convocatorias.lead_queries import Filtros
from convocatorias.models import Convocatoria, EstadoExportacion, Exportacion
from idea import audit, chile
from idea.extensions import db
from idea.jobs import commit, enqueue
from idea.models import User

log = logging.getLogger(__name__)

# Exports of more rows than this (EXPORT_ASYNC_ROWS) are written by a job; smaller ones are sent at once.
DEFAULT_ASYNC_ROWS = 3000
DEFAULT_TTL_HOURS = 24
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx)$")


def async_threshold() -> int:
    return int(current_app.config.get("EXPORT_ASYNC_ROWS", DEFAULT_ASYNC_ROWS))


def _ttl() -> timedelta:
    return timedelta(hours=float(current_app.config.get("EXPORT_TTL_HOURS", DEFAULT_TTL_HOURS)))


def export_dir() -> Path:
    directory = Path(current_app.config["UPLOAD_DIR"]) / "exports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def path_for(exportacion: Exportacion) -> Path | None:
    """The file of a finished export; the name is checked so it can never point elsewhere."""
    name = exportacion.stored_name
    if not name or not _STORED_NAME.match(name):
        return None
    return export_dir() / name


def request_export(actor: User, convocatoria: Convocatoria, extension: str, filtros: Filtros,
                   rows: int) -> Exportacion:
    """Ask for an export to be written in the background; the job starts once this transaction commits."""
    if extension not in exports.EXTENSIONS:
        raise ValueError(f"unknown export format {extension!r}")
    remove_expired()
    now = chile.utcnow()
    exportacion = Exportacion(requested_by_id=actor.id, convocatoria_id=convocatoria.id, format=extension,
                              filters=asdict(filtros), rows_total=rows, created_at=now,
                              expires_at=now + _ttl())
    db.session.add(exportacion)
    db.session.flush()
    # Personal data leaves the platform: who exported what is kept in the audit log.
    audit.record(actor, "postulaciones.export", convocatoria, after={
        "format": extension, "filters": filtros.as_args(), "rows": rows, "exportacion": exportacion.id})
    enqueue(run_export, exportacion.id)
    return exportacion


def run_export(exportacion_id: int) -> None:
    """The job: write the file with the requester's scope and filters, reporting progress as it goes."""
    exportacion = db.session.get(Exportacion, exportacion_id)
    if exportacion is None or exportacion.status != EstadoExportacion.PENDIENTE:
        return  # removed meanwhile, or a retry of a job that already ran
    exportacion.status = EstadoExportacion.EN_CURSO
    commit()
    user = db.session.get(User, exportacion.requested_by_id)
    extension, call_id = exportacion.format, exportacion.convocatoria_id
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    path = export_dir() / stored_name
    try:
        if user is None:
            raise LookupError("the requester no longer exists")
        records = lead_queries.export_records(user, call_id, Filtros(**exportacion.filters))
        exportacion.rows_total = len(records)

        def progress(done: int) -> None:
            exportacion.rows_done = done
            commit()

        # No request here: the headers and labels are written in the requester's language.
        with force_locale(user.locale or "es_CL"):
            exports.write_export(extension, str(path), records, exportacion.convocatoria.title,
                                 lead_queries.desafio_titles(call_id), progress)
    except Exception:
        log.exception("Export %s failed", exportacion_id)
        db.session.rollback()
        path.unlink(missing_ok=True)
        exportacion.status = EstadoExportacion.FALLIDA
        exportacion.finished_at = chile.utcnow()
        commit()
        return
    now = chile.utcnow()
    exportacion.stored_name = stored_name
    exportacion.status = EstadoExportacion.LISTA
    exportacion.finished_at = now
    exportacion.expires_at = now + _ttl()
    commit()


def can_view(user: User, exportacion: Exportacion) -> bool:
    """Only the person who asked may follow an export, and only while its call is in their scope."""
    return (exportacion.requested_by_id == user.id
            and lead_queries.can_view_call(user, exportacion.convocatoria))


def can_download(user: User, exportacion: Exportacion, now: datetime | None = None) -> bool:
    return (can_view(user, exportacion) and exportacion.status == EstadoExportacion.LISTA
            and (now or chile.utcnow()) < exportacion.expires_at)


def remove_expired(now: datetime | None = None) -> int:
    """Delete the exports past their expiry, with their files; returns how many."""
    now = now or chile.utcnow()
    expired = list(db.session.scalars(sa.select(Exportacion).where(Exportacion.expires_at <= now)))
    for exportacion in expired:
        path = path_for(exportacion)
        if path is not None:
            path.unlink(missing_ok=True)
        db.session.delete(exportacion)
    db.session.flush()
    # Files left without a row (requester or call deleted, a crash mid-write) also go after a while.
    kept = set(db.session.scalars(
        sa.select(Exportacion.stored_name).where(Exportacion.stored_name.is_not(None))))
    cutoff = (now - _ttl()).timestamp()
    for path in export_dir().iterdir():
        if path.name not in kept and _STORED_NAME.match(path.name) and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
    return len(expired)


def register_cli(app: Flask) -> None:
    @app.cli.command("clean-exports")
    def clean_exports_command() -> None:
        """Delete expired export files (run it every hour, beside send-reminders)."""
        count = remove_expired()
        commit()
        click.echo(f"Exportaciones eliminadas: {count}")
