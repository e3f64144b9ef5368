"""Operations of the training phase: teams, invitations, workshops, attendance, modules and progress.

Each takes the actor explicitly, never commits (the request, CLI or job does), records an audit event and
raises FormacionError with messages meant for the user when the change is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from convocatorias.models import Convocatoria, Fase, Postulacion
from convocatorias.operations import fase_changed
from evaluacion.comite_models import Decision, EstadoSesion, Resultado, SesionComite
from idea import audit, chile
from idea.accounts import normalize_email
from idea.extensions import db
from idea.mail import external_url, send_email
from idea.models import User
from pilotos.models import (
    AvanceModulo,
    Equipo,
    InscripcionTaller,
    InvitacionEquipo,
    ItemModulo,
    MiembroEquipo,
    Modulo,
    RecordatorioTaller,
    Taller,
)

INVITATION_DAYS = 14
MAX_ITEMS = 20


class FormacionError(ValueError):
    """A refused change, with one or more messages meant for the user."""

    def __init__(self, *messages: str) -> None:
        self.messages = [str(m) for m in messages]
        super().__init__("; ".join(self.messages))


# --- teams -------------------------------------------------------------------------------------------


def latest_closed_session(convocatoria_id: int) -> SesionComite | None:
    return db.session.scalar(
        sa.select(SesionComite)
        .where(SesionComite.convocatoria_id == convocatoria_id, SesionComite.status == EstadoSesion.CERRADA)
        .order_by(SesionComite.closed_at.desc(), SesionComite.id.desc())
        .limit(1)
    )


def selected_postulaciones(convocatoria_id: int) -> list[Postulacion]:
    """The submissions selected in the latest closed committee session of the call."""
    sesion = latest_closed_session(convocatoria_id)
    if sesion is None:
        return []
    stmt = (
        sa.select(Postulacion)
        .join(Decision, Decision.postulacion_id == Postulacion.id)
        .where(Decision.sesion_id == sesion.id, Decision.outcome == Resultado.SELECCIONADA)
        .order_by(Postulacion.id)
    )
    return list(db.session.scalars(stmt))


def create_teams(actor: User | None, convocatoria: Convocatoria) -> int:
    """A team for each selected submission that has none yet, its applicant a member; returns how many.
    Idempotent: running it again creates nothing new."""
    existing = set(
        db.session.scalars(sa.select(Equipo.postulacion_id).where(Equipo.convocatoria_id == convocatoria.id))
    )
    created = 0
    for postulacion in selected_postulaciones(convocatoria.id):
        if postulacion.id in existing:
            continue
        equipo = Equipo(
            convocatoria_id=convocatoria.id,
            postulacion_id=postulacion.id,
            region=postulacion.region,
            name=postulacion.organizacion.name[:200],
        )
        equipo.miembros.append(MiembroEquipo(user_id=postulacion.created_by_id))
        db.session.add(equipo)
        created += 1
    if created:
        db.session.flush()
        audit.record(actor, "equipo.created", convocatoria, after={"count": created})
    return created


def _on_fase_changed(
    convocatoria: Convocatoria, actor: User | None = None, after: Fase | None = None, **_kwargs: object
) -> None:
    if after == Fase.FORMACION:
        create_teams(actor, convocatoria)


def connect() -> None:
    fase_changed.connect(_on_fase_changed, weak=False)


# --- invitations -------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_member(actor: User, equipo: Equipo, email: str) -> InvitacionEquipo:
    """E-mail a single-use link to join the team (valid two weeks)."""
    address = normalize_email(email or "")
    if not address or "@" not in address or len(address) > 254:
        raise FormacionError(_("Enter a valid e-mail address."))
    already = db.session.scalar(
        sa.select(MiembroEquipo.id)
        .join(User, User.id == MiembroEquipo.user_id)
        .where(MiembroEquipo.equipo_id == equipo.id, sa.func.lower(User.email) == address)
    )
    if already is not None:
        raise FormacionError(_("%(email)s is already a member of the team.", email=address))
    token = secrets.token_urlsafe(32)
    now = chile.utcnow()
    invitacion = InvitacionEquipo(
        equipo_id=equipo.id,
        email=address,
        token_hash=_token_hash(token),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitacion)
    audit.record(actor, "equipo.invited", equipo, after={"email": address})
    send_email(
        address,
        _l("You are invited to the team %(team)s", team=equipo.name),
        "equipo_invitacion",
        equipo=equipo,
        inviter=actor,
        link=external_url("pilotos_equipo.accept", token=token),
        expires=chile.format_date_es(invitacion.expires_at),
    )
    return invitacion


def invitation_for(token: str) -> InvitacionEquipo | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        sa.select(InvitacionEquipo).where(InvitacionEquipo.token_hash == _token_hash(token))
    )


def accept_invitation(user: User, token: str) -> Equipo:
    """Join the team of the invitation; the link works once and until it expires."""
    invitacion = invitation_for(token)
    now = chile.utcnow()
    if invitacion is None:
        raise FormacionError(_("This invitation link is not valid."))
    if invitacion.accepted_at is not None:
        raise FormacionError(_("This invitation was already used."))
    if invitacion.expires_at <= now:
        raise FormacionError(_("This invitation expired: ask the team for a new one."))
    # Single use even with two clicks at once: only one UPDATE finds it unused.
    claimed = db.session.execute(
        sa.update(InvitacionEquipo)
        .where(InvitacionEquipo.id == invitacion.id, InvitacionEquipo.accepted_at.is_(None))
        .values(accepted_at=now, accepted_by_id=user.id)
    ).rowcount
    if not claimed:
        raise FormacionError(_("This invitation was already used."))
    equipo = invitacion.equipo
    member = db.session.scalar(
        sa.select(MiembroEquipo.id).where(
            MiembroEquipo.equipo_id == equipo.id, MiembroEquipo.user_id == user.id
        )
    )
    if member is None:
        db.session.add(MiembroEquipo(equipo_id=equipo.id, user_id=user.id, joined_at=now))
    audit.record(user, "equipo.joined", equipo, after={"user_id": user.id})
    db.session.flush()
    return equipo


# --- workshops ---------------------------------------------------------------------------------------


@dataclass
class TallerData:
    title: str
    topic: str
    region: str | None
    starts_at: datetime
    ends_at: datetime
    place: str
    online_url: str
    capacity: int


TALLER_FIELDS = ("title", "topic", "region", "starts_at", "ends_at", "place", "online_url", "capacity")


def is_web_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)


def _check_taller(data: TallerData, taller: Taller | None) -> None:
    problems = []
    if not data.title.strip():
        problems.append(_("Enter the workshop's title."))
    if data.ends_at <= data.starts_at:
        problems.append(_("The workshop must end after it starts."))
    if data.online_url and not is_web_link(data.online_url):
        problems.append(_("The online link must be a web address starting with http:// or https://."))
    if not data.place.strip() and not data.online_url:
        problems.append(_("Enter a place or an online link."))
    if data.capacity < 1:
        problems.append(_("The capacity must be at least 1 team."))
    if taller is not None and data.capacity < taller.registered_count:
        problems.append(
            _(
                "%(num)d teams are already registered: the capacity cannot be lower.",
                num=taller.registered_count,
            )
        )
    if problems:
        raise FormacionError(*problems)


def save_taller(
    actor: User, convocatoria: Convocatoria, data: TallerData, taller: Taller | None = None
) -> Taller:
    _check_taller(data, taller)
    before = audit.snapshot(taller, TALLER_FIELDS) if taller is not None else None
    if taller is None:
        taller = Taller(convocatoria_id=convocatoria.id, registered_count=0)
        db.session.add(taller)
    for name in TALLER_FIELDS:
        setattr(taller, name, getattr(data, name))
    db.session.flush()
    audit.record(
        actor,
        "taller.updated" if before else "taller.created",
        taller,
        before=before,
        after=audit.snapshot(taller, TALLER_FIELDS),
    )
    return taller


def delete_taller(actor: User, taller: Taller) -> None:
    audit.record(actor, "taller.deleted", taller, before=audit.snapshot(taller, TALLER_FIELDS))
    # Explicitly, not only by the foreign keys' cascade: SQLite does not enforce them.
    db.session.execute(sa.delete(InscripcionTaller).where(InscripcionTaller.taller_id == taller.id))
    db.session.execute(sa.delete(RecordatorioTaller).where(RecordatorioTaller.taller_id == taller.id))
    db.session.delete(taller)
    db.session.flush()


def register_team(actor: User, equipo: Equipo, taller: Taller, now: datetime | None = None) -> None:
    """Register the team; the capacity holds even with registrations at the same instant (the counter is
    raised by one conditional UPDATE and a CHECK constraint bounds it)."""
    now = now or chile.utcnow()
    if not (taller.convocatoria_id == equipo.convocatoria_id and taller.region in (None, equipo.region)):
        raise FormacionError(_("This workshop is not open to your team."))
    if taller.starts_at <= now:
        raise FormacionError(_("This workshop has already started."))
    if (
        db.session.scalar(
            sa.select(InscripcionTaller.id).where(
                InscripcionTaller.taller_id == taller.id, InscripcionTaller.equipo_id == equipo.id
            )
        )
        is not None
    ):
        raise FormacionError(_("Your team is already registered."))
    try:
        with db.session.begin_nested():
            raised = db.session.execute(
                sa.update(Taller)
                .where(Taller.id == taller.id, Taller.registered_count < Taller.capacity)
                .values(registered_count=Taller.registered_count + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not raised:
                raise FormacionError(_("This workshop is full."))
            db.session.add(InscripcionTaller(taller_id=taller.id, equipo_id=equipo.id, created_at=now))
            db.session.flush()
    except IntegrityError as error:
        raise FormacionError(_("Your team is already registered.")) from error
    db.session.refresh(taller)
    audit.record(actor, "taller.registered", taller, after={"equipo_id": equipo.id})


def unregister_team(actor: User, equipo: Equipo, taller: Taller, now: datetime | None = None) -> None:
    now = now or chile.utcnow()
    if taller.starts_at <= now:
        raise FormacionError(_("This workshop has already started."))
    deleted = db.session.execute(
        sa.delete(InscripcionTaller).where(
            InscripcionTaller.taller_id == taller.id, InscripcionTaller.equipo_id == equipo.id
        )
    ).rowcount
    if not deleted:
        raise FormacionError(_("Your team is not registered."))
    db.session.execute(
        sa.update(Taller)
        .where(Taller.id == taller.id)
        .values(registered_count=Taller.registered_count - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(taller)
    audit.record(actor, "taller.unregistered", taller, after={"equipo_id": equipo.id})


def inscripciones(taller: Taller) -> list[InscripcionTaller]:
    stmt = (
        sa.select(InscripcionTaller)
        .join(Equipo, Equipo.id == InscripcionTaller.equipo_id)
        .where(InscripcionTaller.taller_id == taller.id)
        .options(contains_eager(InscripcionTaller.equipo))
        .order_by(Equipo.name, Equipo.id)
    )
    return list(db.session.scalars(stmt))


def record_attendance(actor: User, taller: Taller, present: set[int]) -> int:
    """Mark which registered teams attended (ids of teams); returns how many attended."""
    rows = inscripciones(taller)
    count = 0
    for row in rows:
        row.attended = row.equipo_id in present
        count += row.attended
    taller.attendance_taken_at = chile.utcnow()
    audit.record(
        actor, "taller.attendance", taller, after={"present": sorted(r.equipo_id for r in rows if r.attended)}
    )
    db.session.flush()
    return count


# --- modules -----------------------------------------------------------------------------------------


@dataclass
class ModuloData:
    title: str
    body: str
    required: bool
    items: list[str]
    position: int = 0


def parse_items(text: str) -> list[str]:
    """One checklist item per line; blank lines dropped."""
    return [line.strip()[:300] for line in (text or "").splitlines() if line.strip()]


def save_modulo(
    actor: User, convocatoria: Convocatoria, data: ModuloData, modulo: Modulo | None = None
) -> Modulo:
    problems = []
    if not data.title.strip():
        problems.append(_("Enter the module's title."))
    if not data.items:
        problems.append(_("Write at least one checklist item."))
    if len(data.items) > MAX_ITEMS:
        problems.append(_("A checklist has at most %(num)d items.", num=MAX_ITEMS))
    if len(set(data.items)) != len(data.items):
        problems.append(_("Two checklist items say the same."))
    if problems:
        raise FormacionError(*problems)
    fields = ("title", "body", "required", "position")
    before = None
    if modulo is None:
        modulo = Modulo(convocatoria_id=convocatoria.id)
        db.session.add(modulo)
    else:
        before = audit.snapshot(modulo, fields) | {"items": [i.text for i in modulo.items]}
    for name in fields:
        setattr(modulo, name, getattr(data, name))
    # Items kept by their text, so a team's progress on an unchanged item stays.
    by_text = {item.text: item for item in modulo.items}
    kept = []
    for position, text in enumerate(data.items):
        item = by_text.pop(text, None) or ItemModulo(text=text)
        item.position = position
        kept.append(item)
    removed = [item.id for item in by_text.values() if item.id is not None]
    if removed:
        db.session.execute(sa.delete(AvanceModulo).where(AvanceModulo.item_id.in_(removed)))
    modulo.items = kept
    db.session.flush()
    audit.record(
        actor,
        "modulo.updated" if before else "modulo.created",
        modulo,
        before=before,
        after=audit.snapshot(modulo, fields) | {"items": data.items},
    )
    return modulo


def delete_modulo(actor: User, modulo: Modulo) -> None:
    audit.record(actor, "modulo.deleted", modulo, before={"title": modulo.title})
    item_ids = [item.id for item in modulo.items]
    if item_ids:  # explicitly, not only by the foreign keys' cascade: SQLite does not enforce them
        db.session.execute(sa.delete(AvanceModulo).where(AvanceModulo.item_id.in_(item_ids)))
    db.session.delete(modulo)
    db.session.flush()


def done_items(equipo_id: int, modulo_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(AvanceModulo.item_id)
            .join(ItemModulo, ItemModulo.id == AvanceModulo.item_id)
            .where(AvanceModulo.equipo_id == equipo_id, ItemModulo.modulo_id == modulo_id)
        )
    )


def set_progress(actor: User, equipo: Equipo, modulo: Modulo, done: set[int]) -> None:
    """The team's checklist of one module: exactly the items in `done` are marked done."""
    item_ids = {item.id for item in modulo.items}
    if not done <= item_ids:
        raise FormacionError(_("That item is not part of this module."))
    current = done_items(equipo.id, modulo.id)
    if current - done:
        db.session.execute(
            sa.delete(AvanceModulo).where(
                AvanceModulo.equipo_id == equipo.id, AvanceModulo.item_id.in_(sorted(current - done))
            )
        )
    for item_id in sorted(done - current):
        db.session.add(AvanceModulo(equipo_id=equipo.id, item_id=item_id, done_by_id=actor.id))
    if current != done:
        audit.record(actor, "modulo.progress", modulo, after={"equipo_id": equipo.id, "done": sorted(done)})
    db.session.flush()


def modulos_of(convocatoria_id: int) -> list[Modulo]:
    return list(
        db.session.scalars(
            sa.select(Modulo)
            .where(Modulo.convocatoria_id == convocatoria_id)
            .options(selectinload(Modulo.items))
            .order_by(Modulo.position, Modulo.id)
        )
    )


def progress(convocatoria_id: int, equipo_ids: list[int] | None = None) -> dict[tuple[int, int], int]:
    """Items done per (team, module) of a call, one aggregated query."""
    stmt = (
        sa.select(AvanceModulo.equipo_id, ItemModulo.modulo_id, sa.func.count(AvanceModulo.id))
        .join(ItemModulo, ItemModulo.id == AvanceModulo.item_id)
        .join(Modulo, Modulo.id == ItemModulo.modulo_id)
        .where(Modulo.convocatoria_id == convocatoria_id)
        .group_by(AvanceModulo.equipo_id, ItemModulo.modulo_id)
    )
    if equipo_ids is not None:
        stmt = stmt.where(AvanceModulo.equipo_id.in_(equipo_ids))
    return {(e, m): n for e, m, n in db.session.execute(stmt)}


def module_done(modulo: Modulo, done_count: int) -> bool:
    return bool(modulo.items) and done_count >= len(modulo.items)
