"""The audit log: one helper to record who did what to which object."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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


# --- reading the log: labels registered by each package ------------------------------------------------
#
# The core knows users and roles; every package registers the names of its own actions, fields and objects
# (and how to link to them), as menu entries are plugged in with `add_nav_provider`, so `idea` never imports
# a package. An action, field or object type nobody registered is shown as stored.

# Given the object ids of one type on a page, their names and links (one query per type, not per row).
ObjectDescriber = Callable[[list[str]], dict[str, tuple[str, str | None]]]


@dataclass
class AuditLabels:
    """What the audit pages call each action, field, field value and object type."""

    actions: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Callable[[Any], str]] = field(default_factory=dict)
    objects: dict[str, tuple[Any, ObjectDescriber | None]] = field(default_factory=dict)


def _labels(app: Flask | None = None) -> AuditLabels:
    app = app or current_app
    return app.extensions.setdefault("idea_audit_labels", AuditLabels())  # type: ignore[no-any-return]


def register_labels(
    app: Flask,
    *,
    actions: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
    values: dict[str, Callable[[Any], str]] | None = None,
    objects: dict[str, tuple[Any, ObjectDescriber | None]] | None = None,
) -> None:
    """Let a package name its audit actions (`"postulacion.submitted": _l("Sent the submission")`), the
    fields of before/after, how to show a field's stored value, and its object types with a describer."""
    labels = _labels(app)
    labels.actions.update(actions or {})
    labels.fields.update(fields or {})
    labels.values.update(values or {})
    labels.objects.update(objects or {})


def action_label(action: str) -> str:
    """What an action is called in the pages: "Inició sesión" rather than `user.login`."""
    label = _labels().actions.get(action)
    return str(label) if label is not None else action


@dataclass(frozen=True)
class ObjectRef:
    """An audited object as a page shows it: kind, name and (when there is a page for it) a link."""

    kind: str
    name: str
    url: str | None


def describe_objects(events: Sequence[EventoAuditoria]) -> dict[tuple[str, str | None], ObjectRef]:
    """The objects of `events`, named and linked by the describers their packages registered."""
    labels = _labels()
    ids: dict[str, list[str]] = {}
    for event in events:
        if event.object_id is not None and event.object_id not in ids.setdefault(event.object_type, []):
            ids[event.object_type].append(event.object_id)
    result: dict[tuple[str, str | None], ObjectRef] = {}
    for object_type, object_ids in ids.items():
        kind, describer = labels.objects.get(object_type, (object_type, None))
        found = describer(object_ids) if describer else {}
        for object_id in object_ids:
            name, url = found.get(object_id, (f"#{object_id}", None))
            result[(object_type, object_id)] = ObjectRef(str(kind), name, url)
    for event in events:
        if event.object_id is None:
            kind = labels.objects.get(event.object_type, (event.object_type, None))[0]
            result.setdefault((event.object_type, None), ObjectRef(str(kind), "", None))
    return result


@dataclass(frozen=True)
class Change:
    """One row of the before/after table: the field's name and both values as text."""

    field: str
    before: str
    after: str


def format_value(name: str, value: Any) -> str:
    """A stored value as text for people: labels for codes, Sí/No, lists joined; unicode as is."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    formatter = _labels().values.get(name)
    if formatter is not None and not isinstance(value, list | dict):
        return formatter(value) or str(value)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        return ", ".join(format_value(name, item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {format_value(k, v)}" for k, v in value.items())
    return str(value)


def field_label(name: str) -> str:
    label = _labels().fields.get(name)
    return str(label) if label is not None else name


def changes(event: EventoAuditoria) -> list[Change]:
    """The fields of an event's before/after: with both, only those that differ; with one, all of it."""
    before, after = event.before, event.after
    if not isinstance(before, dict) or not isinstance(after, dict):
        before = before if isinstance(before, dict) else ({} if before is None else {"": before})
        after = after if isinstance(after, dict) else ({} if after is None else {"": after})
        names = list(dict.fromkeys([*before, *after]))
    else:
        names = [n for n in dict.fromkeys([*before, *after]) if before.get(n) != after.get(n)]
    return [
        Change(
            field_label(n),
            format_value(n, before.get(n)) if n in before else "—",
            format_value(n, after.get(n)) if n in after else "—",
        )
        for n in names
    ]


def register_template_helpers(app: Flask) -> None:
    """`audit_action_label(e.action)`, `audit_objects(events)` and `audit_changes(e)` in every template."""
    app.add_template_global(action_label, "audit_action_label")
    app.add_template_global(describe_objects, "audit_objects")
    app.add_template_global(changes, "audit_changes")


def _describe_users(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    from flask import url_for

    numbers = [int(i) for i in ids if i.isdigit()]
    users = db.session.execute(sa.select(User.id, User.name, User.email).where(User.id.in_(numbers)))
    return {
        str(id_): (f"{name} ({email})", url_for("admin.user_detail", user_id=id_))
        for id_, name, email in users
    }


def register_core_labels(app: Flask) -> None:
    """The core's own actions (accounts and roles) and its one object type, the user."""
    from idea.chile import region_name
    from idea.forms import role_label

    register_labels(
        app,
        actions={
            "user.registered": _l("Created an account"),
            "user.email_confirmed": _l("Confirmed their e-mail"),
            "user.login_failed": _l("Failed log-in attempt"),
            "user.login": _l("Logged in"),
            "user.logout": _l("Logged out"),
            "user.password_set": _l("Set a new password"),
            "user.password_changed": _l("Changed their password"),
            "user.profile_updated": _l("Updated their profile"),
            "user.invited": _l("Invited a staff member"),
            "role.granted": _l("Granted a role"),
            "role.revoked": _l("Revoked a role"),
        },
        fields={
            "email": _l("E-mail"),
            "name": _l("Name"),
            "phone": _l("Phone"),
            "locale": _l("Language"),
            "role": _l("Role"),
            "convocatoria_id": _l("Call"),
            "region": _l("Region"),
        },
        values={
            "role": role_label,
            "region": lambda code: region_name(code, default=code),
            "locale": lambda code: {"es": "Español", "en": "English"}.get(code, code),
        },
        objects={"User": (_l("User"), _describe_users), "-": (_l("Platform"), None)},
    )
