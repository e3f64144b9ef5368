"""Attachment storage: PDF, PNG or JPEG files kept on local disk outside the web root, under random names.

The type is sniffed from the content (never trusted from the name or the browser), the size is checked while
reading (at most the limit plus one byte is read), and the files follow the database transaction: a file
written by a request that rolls back is removed, and a deleted attachment's file goes only once the deletion
is committed.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import filetype
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_POSTULACION = 5
# Detected type -> the extensions a download name may keep (the first one is added when missing).
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}

_CHUNK = 64 * 1024
_SNIFF_BYTES = 8192
_STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_NEW_KEY = "idea_uploads_written"
_DELETE_KEY = "idea_uploads_to_delete"


class UploadError(ValueError):
    """A refused file, with a message meant for the user."""

    def __init__(self, message: str, field: str | None = "archivo") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class StoredFile:
    """A file written to the upload folder, with what the attachment row keeps about it."""

    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def upload_dir() -> Path:
    directory = Path(current_app.config["UPLOAD_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def path_for(stored_name: str) -> Path:
    """The file of a stored attachment; the name is checked so it can never point elsewhere."""
    if not _STORED_NAME.match(stored_name):
        raise ValueError("not a stored attachment name")
    return upload_dir() / stored_name


def clean_original_name(name: str | None, content_type: str) -> str:
    """The user's file name without folders or control characters, ending in an extension of its real type."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _CONTROL.sub("", base).strip().strip(".") or "adjunto"
    extensions = ALLOWED_TYPES[content_type]
    if not base.lower().endswith(extensions):
        base += extensions[0]
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = stem[: 200 - len(ext) - 1] + dot + ext
    return base


def _open_new(path: Path) -> Any:
    # Exclusive creation, readable only by the application.
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def store_upload(stream: BinaryIO, original_name: str | None) -> StoredFile:
    """Copy an uploaded stream to the upload folder; UploadError when it is empty, too big or not allowed."""
    stored_name = secrets.token_hex(16)
    path = upload_dir() / stored_name
    digest = hashlib.sha256()
    head = b""
    size = 0
    try:
        with _open_new(path) as out:
            while True:
                chunk = stream.read(min(_CHUNK, MAX_FILE_BYTES + 1 - size))
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise UploadError(_("The file is larger than 10 MB. Make it smaller (for example, "
                                        "save the PDF with a lower image quality) and try again."))
                if len(head) < _SNIFF_BYTES:
                    head += chunk[: _SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadError(_("The file is empty. Choose the file again."))
        kind = filetype.guess(head)
        if kind is None or kind.mime not in ALLOWED_TYPES:
            raise UploadError(_("Only PDF, PNG and JPEG files can be attached. This file is of another "
                                "type, whatever its name says."))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    _remember(_NEW_KEY, path)
    return StoredFile(stored_name=stored_name, original_name=clean_original_name(original_name, kind.mime),
                      content_type=kind.mime, size=size, sha256=digest.hexdigest())


def remove_after_commit(stored_name: str) -> None:
    """Delete the file of an attachment once the transaction that deletes its row commits."""
    _remember(_DELETE_KEY, path_for(stored_name))


def _remember(key: str, path: Path) -> None:
    from idea.extensions import db

    db.session.info.setdefault(key, []).append(str(path))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released; the real commit comes later
        return
    session.info.pop(_NEW_KEY, None)
    for name in session.info.pop(_DELETE_KEY, None) or []:
        Path(name).unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is not None:
        return
    session.info.pop(_DELETE_KEY, None)
    for name in session.info.pop(_NEW_KEY, None) or []:
        Path(name).unlink(missing_ok=True)
