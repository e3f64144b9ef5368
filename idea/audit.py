"""The audit log: one helper to record who did what to which object."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import has_request_context, request

from idea.extensions import db
from idea.models import EventoAuditoria, User


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> EventoAuditoria:
    """Add an audit event to the session (the caller's transaction commits it with the change)."""
    if obj is not None:
        if getattr(obj, "id", None) is None:
            db.session.flush()
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else obj.id
    event = EventoAuditoria(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type or "-",
        object_id=str(object_id) if object_id is not None else None,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of `obj`, ready to store as `before` or `after`."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}
