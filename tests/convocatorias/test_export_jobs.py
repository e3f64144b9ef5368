"""Large exports run as a job: a progress page, then a download only for the person who asked, within
their scope, as an attachment, until it expires and is cleaned up. The lead's list sorts on an index."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias import export_jobs, lead_queries
from convocatorias.models import Convocatoria, Exportacion
from idea import chile
from idea.extensions import db
from idea.models import EventoAuditoria, Role, RoleAssignment
from tests.conftest import run_queued_jobs
from tests.convocatorias.test_exports import read_csv, read_xlsx
from tests.convocatorias.test_lead import add_postulaciones


@pytest.fixture
def small_threshold(app: Flask) -> Iterator[int]:
    """Exports of more than 3 rows go through a job (the real threshold is in the thousands)."""
    before = app.config["EXPORT_ASYNC_ROWS"]
    app.config["EXPORT_ASYNC_ROWS"] = 3
    yield 3
    app.config["EXPORT_ASYNC_ROWS"] = before


@pytest.fixture
def call(make_convocatoria: Any, make_desafio: Any, make_organizacion: Any) -> Convocatoria:
    convocatoria = make_convocatoria(title="Fondo IDEA 2026")
    add_postulaciones(make_desafio(convocatoria), make_organizacion(region="08"), 5,
                      title="=HYPERLINK(\"http://malo.example\")")
    return convocatoria


@pytest.fixture
def lead(login_as: Any) -> Any:
    return login_as(Role.ENCARGADO_TECNICO)


def _ask(app: Flask, client: Any, call: Convocatoria, extension: str) -> Exportacion:
    response = client.get(f"/gestion/convocatorias/{call.id}/postulaciones.{extension}")
    assert response.status_code == 302
    run_queued_jobs(app)
    db.session.expire_all()
    exportacion = db.session.scalars(sa.select(Exportacion).order_by(Exportacion.id.desc())).first()
    assert response.headers["Location"].endswith(f"/gestion/exportaciones/{exportacion.id}")
    return exportacion


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_a_large_export_becomes_a_job_with_a_progress_page_and_a_download(
        app: Flask, lead: Any, call: Convocatoria, small_threshold: int, extension: str) -> None:
    exportacion = _ask(app, lead, call, extension)
    assert exportacion.status == "lista" and exportacion.rows_done == exportacion.rows_total == 5

    page = lead.get(f"/gestion/exportaciones/{exportacion.id}")
    assert page.status_code == 200
    assert f"/gestion/exportaciones/{exportacion.id}/descargar" in page.text
    assert 'data-poll=' not in page.text  # finished: the page stops reloading

    download = lead.get(f"/gestion/exportaciones/{exportacion.id}/descargar")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"] == "no-store"
    rows = read_csv(download.data) if extension == "csv" else read_xlsx(download.data)
    download.close()
    assert len(rows) == 6
    assert all(row[3].startswith("'=HYPERLINK") for row in rows[1:])  # still neutralised
    [event] = db.session.scalars(sa.select(EventoAuditoria).where(
        EventoAuditoria.action == "postulaciones.export")).all()
    assert event.actor_id == lead.user.id and event.after["rows"] == 5
    assert event.after["exportacion"] == exportacion.id


def test_a_small_export_is_sent_at_once(lead: Any, call: Convocatoria) -> None:
    response = lead.get(f"/gestion/convocatorias/{call.id}/postulaciones.csv")
    assert response.status_code == 200 and len(read_csv(response.data)) == 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Exportacion)) == 0


def test_a_pending_export_shows_its_progress_and_reloads(app: Flask, lead: Any, call: Convocatoria) -> None:
    exportacion = Exportacion(requested_by_id=lead.user.id, convocatoria_id=call.id, format="csv",
                              filters={}, rows_total=4000, rows_done=1000,
                              expires_at=chile.utcnow() + timedelta(hours=1))
    db.session.add(exportacion)
    db.session.commit()
    page = lead.get(f"/gestion/exportaciones/{exportacion.id}")
    assert page.status_code == 200 and 'data-poll=' in page.text
    assert "1000" in page.text and "4000" in page.text and 'value="25"' in page.text
    assert lead.get(f"/gestion/exportaciones/{exportacion.id}/descargar").status_code == 404


def test_only_the_requester_within_scope_may_see_or_download(
        app: Flask, lead: Any, call: Convocatoria, small_threshold: int, login_as: Any,
        make_convocatoria: Any) -> None:
    exportacion = _ask(app, lead, call, "csv")
    status = f"/gestion/exportaciones/{exportacion.id}"
    download = f"{status}/descargar"
    for other in (login_as(Role.ENCARGADO_TECNICO), login_as(Role.ADMIN), login_as(Role.POSTULANTE)):
        assert other.get(status).status_code in (403, 404)
        assert other.get(download).status_code in (403, 404)
    # The requester is later bound to another call: the file is out of their scope now.
    [assignment] = db.session.scalars(sa.select(RoleAssignment).where(
        RoleAssignment.user_id == lead.user.id)).all()
    assignment.convocatoria_id = make_convocatoria().id
    db.session.commit()
    assert lead.get(status).status_code == 404 and lead.get(download).status_code == 404


def test_an_expired_export_is_refused_then_cleaned_with_its_file(
        app: Flask, lead: Any, call: Convocatoria, small_threshold: int) -> None:
    exportacion = _ask(app, lead, call, "xlsx")
    path = export_jobs.path_for(exportacion)
    assert path is not None and path.is_file() and Path(app.config["UPLOAD_DIR"]) in path.parents
    exportacion.expires_at = chile.utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert lead.get(f"/gestion/exportaciones/{exportacion.id}/descargar").status_code == 404

    result = app.test_cli_runner().invoke(args=["clean-exports"])
    assert result.exit_code == 0 and "1" in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Exportacion)) == 0
    assert not path.exists()


def test_cleaning_also_removes_old_files_left_without_a_row(app: Flask) -> None:
    folder = export_jobs.export_dir()
    old, recent = folder / ("a" * 32 + ".csv"), folder / ("b" * 32 + ".csv")
    for path in (old, recent):
        path.write_text("folio")
    stale = (chile.utcnow() - timedelta(days=3)).timestamp()
    os.utime(old, (stale, stale))
    export_jobs.remove_expired()
    assert not old.exists() and recent.exists()
    recent.unlink()


# --- the list's order is served by an index --------------------------------------------------------

@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="the plan checked is PostgreSQL's")
def test_the_list_reads_its_page_in_folio_order_from_the_index(make_user: Any, call: Convocatoria) -> None:
    user = make_user(Role.ADMIN)
    stmt = lead_queries.filtered_select(user, call.id, lead_queries.Filtros()).limit(50).offset(4950)
    sql = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        conn.execute(sa.text("SET enable_sort = off"))  # a sort the plan cannot avoid still shows up
        plan = "\n".join(conn.execute(sa.text(f"EXPLAIN {sql}")).scalars())
    assert "uq_postulacion_folio_number" in plan, plan
    assert "Sort" not in plan, plan
