"""Attachments: only real PDF, PNG and JPEG files, at most 10 MB and five per submission, kept outside the web
root under random names, and downloaded only by those allowed."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from convocatorias import uploads
from convocatorias.models import Adjunto, EstadoPostulacion, Organizacion, Postulacion
from idea.extensions import db
from idea.models import EventoAuditoria, Role, User
from tests.convocatorias.test_applicant import count, errors_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 512
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 512


@pytest.fixture
def owner(make_user: Callable[..., User], login_as: Callable[..., Any],
          make_organizacion: Callable[..., Organizacion]) -> Any:
    user = make_user(Role.POSTULANTE)
    client = login_as(user)
    client.org = make_organizacion(user)
    return client


@pytest.fixture
def draft(owner: Any, make_postulacion: Callable[..., Postulacion]) -> Postulacion:
    return make_postulacion(organizacion=owner.org)


def upload(client: Any, p: Postulacion, content: bytes, name: str,
           content_type: str = "application/pdf") -> Any:
    # Encoded in memory: the test client would otherwise spool a large body to a file it never closes.
    file = FileStorage(io.BytesIO(content), filename=name, content_type=content_type)
    boundary, body = encode_multipart({"archivo": file})
    return client.post(f"/mis-postulaciones/{p.id}/adjuntos", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def fetch(client: Any, url: str) -> Any:
    """GET a download and close it (a streamed file stays open until the response is closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def stored_files(app: Flask) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_DIR"]).iterdir() if p.is_file()]


@pytest.fixture(autouse=True)
def empty_upload_dir(app: Flask) -> None:
    for path in stored_files(app):
        path.unlink()


@pytest.mark.parametrize(("content", "name", "mimetype"), [
    (PDF, "Presentación del proyecto.pdf", "application/pdf"),
    (PNG, "foto.png", "image/png"),
    (JPEG, "foto.jpeg", "image/jpeg"),
])
def test_a_valid_file_is_kept_and_downloaded_as_an_attachment(
        app: Flask, owner: Any, draft: Postulacion, content: bytes, name: str, mimetype: str) -> None:
    response = upload(owner, draft, content, name, content_type="application/octet-stream")
    assert response.status_code == 302
    adjunto = db.session.scalars(sa.select(Adjunto)).one()
    assert adjunto.postulacion_id == draft.id and adjunto.original_name == name
    assert adjunto.content_type == mimetype and adjunto.size == len(content)
    assert adjunto.sha256 == hashlib.sha256(content).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{32}", adjunto.stored_name)
    [path] = stored_files(app)
    assert path.name == adjunto.stored_name and path.read_bytes() == content
    static = Path(app.static_folder or "").resolve()
    assert static not in path.resolve().parents
    assert "adjunto.uploaded" in db.session.scalars(sa.select(EventoAuditoria.action)).all()

    download = fetch(owner, f"/mis-postulaciones/adjuntos/{adjunto.id}")
    assert download.status_code == 200
    assert download.data == content
    assert download.mimetype == mimetype
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "no-store" in download.headers["Cache-Control"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    detail = owner.get(f"/mis-postulaciones/{draft.id}").get_data(as_text=True)
    assert f"/mis-postulaciones/adjuntos/{adjunto.id}" in detail


@pytest.mark.parametrize(("content", "name"), [
    (EXE, "bases.pdf"), (ELF, "foto.png"), (b"<html><script>alert(1)</script></html>", "pagina.jpg"),
    (b"PK\x03\x04" + b"\x00" * 100, "planilla.pdf"),
])
def test_a_file_of_another_type_is_refused_whatever_its_name(app: Flask, owner: Any, draft: Postulacion,
                                                             content: bytes, name: str) -> None:
    response = upload(owner, draft, content, name)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Solo se pueden adjuntar archivos PDF, PNG y JPEG" in errors_of(html, "archivo")
    assert count(Adjunto) == 0
    assert stored_files(app) == []


def test_an_11_mb_file_gets_a_clear_message_not_a_500(app: Flask, owner: Any, draft: Postulacion) -> None:
    big = PDF + b"0" * (11 * 1024 * 1024)
    response = upload(owner, draft, big, "grande.pdf")
    assert response.status_code == 422
    assert "pesa más de 10 MB" in errors_of(response.get_data(as_text=True), "archivo")
    assert count(Adjunto) == 0
    assert stored_files(app) == []


def test_exactly_10_mb_is_accepted(owner: Any, draft: Postulacion) -> None:
    content = PDF + b"0" * (uploads.MAX_FILE_BYTES - len(PDF))
    assert upload(owner, draft, content, "justo.pdf").status_code == 302
    assert db.session.scalars(sa.select(Adjunto)).one().size == uploads.MAX_FILE_BYTES


def test_the_size_is_checked_while_reading(app: Flask) -> None:
    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            size = 65536 if size is None or size < 0 else size
            self.read_bytes += size
            return b"%PDF" + b"0" * (size - 4) if self.read_bytes == size else b"0" * size

    stream = Endless()
    with app.test_request_context(), pytest.raises(uploads.UploadError):
        uploads.store_upload(stream, "sin-fin.pdf")  # type: ignore[arg-type]
    assert stream.read_bytes == uploads.MAX_FILE_BYTES + 1


def test_an_empty_file_and_no_file_are_refused(owner: Any, draft: Postulacion) -> None:
    response = upload(owner, draft, b"", "vacio.pdf")
    assert response.status_code == 422
    assert errors_of(response.get_data(as_text=True), "archivo")
    response = owner.post(f"/mis-postulaciones/{draft.id}/adjuntos", data={})
    assert response.status_code == 422
    assert "Elige un archivo" in errors_of(response.get_data(as_text=True), "archivo")
    assert count(Adjunto) == 0


def test_a_sixth_attachment_is_refused(app: Flask, owner: Any, draft: Postulacion) -> None:
    for n in range(5):
        assert upload(owner, draft, PDF + bytes([n]), f"anexo-{n}.pdf").status_code == 302
    response = upload(owner, draft, PNG, "sexto.png")
    assert response.status_code == 422
    assert "como máximo 5 archivos adjuntos" in errors_of(response.get_data(as_text=True), "archivo")
    assert count(Adjunto) == 5
    assert len(stored_files(app)) == 5
    # With five files the page no longer offers the upload form.
    assert 'name="archivo"' not in owner.get(f"/mis-postulaciones/{draft.id}").get_data(as_text=True)


def test_deleting_an_attachment_is_a_post_and_removes_the_file(app: Flask, owner: Any,
                                                               draft: Postulacion) -> None:
    upload(owner, draft, PDF, "plan.pdf")
    adjunto_id = db.session.scalars(sa.select(Adjunto.id)).one()
    assert owner.get(f"/mis-postulaciones/adjuntos/{adjunto_id}/eliminar").status_code == 405
    assert owner.post(f"/mis-postulaciones/adjuntos/{adjunto_id}/eliminar").status_code == 302
    assert count(Adjunto) == 0
    assert stored_files(app) == []
    assert "adjunto.deleted" in db.session.scalars(sa.select(EventoAuditoria.action)).all()


def test_deleting_a_draft_removes_its_files(app: Flask, owner: Any, draft: Postulacion) -> None:
    upload(owner, draft, PDF, "plan.pdf")
    assert len(stored_files(app)) == 1
    assert owner.post(f"/mis-postulaciones/{draft.id}/eliminar").status_code == 302
    assert stored_files(app) == []


def test_a_refused_request_leaves_no_file_behind(app: Flask, owner: Any, draft: Postulacion,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """If anything fails after the file was written, the rollback removes it."""
    from convocatorias import postulaciones

    def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise postulaciones.PostulacionError("boom", "archivo")

    monkeypatch.setattr(postulaciones.audit, "record", broken_audit)
    assert upload(owner, draft, PDF, "plan.pdf").status_code == 422
    assert stored_files(app) == []


def test_attachments_are_frozen_after_the_deadline(owner: Any, draft: Postulacion,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    upload(owner, draft, PDF, "plan.pdf")
    adjunto_id = db.session.scalars(sa.select(Adjunto.id)).one()
    later = draft.convocatoria.submissions_close_at + timedelta(seconds=1)
    monkeypatch.setattr("idea.chile.utcnow", lambda: later)
    response = upload(owner, draft, PNG, "tarde.png")
    assert response.status_code == 422
    assert "plazo de esta convocatoria ya venció" in errors_of(response.get_data(as_text=True), "archivo")
    assert owner.post(f"/mis-postulaciones/adjuntos/{adjunto_id}/eliminar").status_code == 422
    assert count(Adjunto) == 1
    assert fetch(owner, f"/mis-postulaciones/adjuntos/{adjunto_id}").status_code == 200  # still downloadable


def test_others_cannot_download_or_delete_and_staff_in_scope_can_download(
        owner: Any, draft: Postulacion, login_as: Callable[..., Any],
        make_postulacion: Callable[..., Postulacion]) -> None:
    upload(owner, draft, PDF, "plan.pdf")
    adjunto_id = db.session.scalars(sa.select(Adjunto.id)).one()
    stranger = login_as(Role.POSTULANTE)
    assert fetch(stranger, f"/mis-postulaciones/adjuntos/{adjunto_id}").status_code == 404
    assert stranger.post(f"/mis-postulaciones/adjuntos/{adjunto_id}/eliminar").status_code == 404
    assert upload(stranger, draft, PDF, "intruso.pdf").status_code == 404
    # A lead in scope does not see drafts; once sent, they may download.
    lead = login_as(Role.ENCARGADO_TECNICO, region=draft.region, convocatoria_id=draft.convocatoria_id)
    assert fetch(lead, f"/mis-postulaciones/adjuntos/{adjunto_id}").status_code == 404
    p = db.session.get(Postulacion, draft.id)
    p.status, p.folio, p.folio_number = EstadoPostulacion.ENVIADA, "IDEA-2026-0900", 900
    db.session.commit()
    assert fetch(lead, f"/mis-postulaciones/adjuntos/{adjunto_id}").status_code == 200
    assert lead.post(f"/mis-postulaciones/adjuntos/{adjunto_id}/eliminar").status_code == 403
    assert fetch(login_as(Role.ADMIN), f"/mis-postulaciones/adjuntos/{adjunto_id}").status_code == 200
    assert count(Adjunto) == 1


def test_a_file_missing_on_disk_is_a_404_not_a_500(app: Flask, owner: Any, draft: Postulacion) -> None:
    upload(owner, draft, PDF, "plan.pdf")
    for path in stored_files(app):
        path.unlink()
    adjunto_id = db.session.scalars(sa.select(Adjunto.id)).one()
    assert fetch(owner, f"/mis-postulaciones/adjuntos/{adjunto_id}").status_code == 404


@pytest.mark.parametrize(("name", "mime", "expected"), [
    ("C:\\Users\\ana\\plan.pdf", "application/pdf", "plan.pdf"),
    ("../../etc/passwd", "application/pdf", "passwd.pdf"),
    ("foto.pdf", "image/png", "foto.pdf.png"),
    ("", "image/jpeg", "adjunto.jpg"),
    ("Foto.JPEG", "image/jpeg", "Foto.JPEG"),
    ("a\x00b\nc.pdf", "application/pdf", "abc.pdf"),
])
def test_the_download_name_is_clean_and_matches_the_real_type(name: str, mime: str, expected: str) -> None:
    assert uploads.clean_original_name(name, mime) == expected
