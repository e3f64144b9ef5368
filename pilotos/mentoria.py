"""Operations of the mentoring: the mentor directory, declared conflicts, confirming a match, logging
sessions, commenting on them, and the weeks without a session.

Each takes the actor explicitly, never commits, records an audit event and raises FormacionError (with
messages meant for the user) when the change is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from convocatorias.models import Desafio, Postulacion
from idea import audit, chile
from idea.extensions import db
from idea.models import Role, RoleAssignment, User
from pilotos import mentoria_rules as rules
from pilotos.mentoria_models import (
    ComentarioSesion,
    ConflictoMentor,
    EstadoMentoria,
    Mentor,
    Mentoria,
    SesionMentoria,
    TipoOrganizacionMentor,
)
from pilotos.models import Equipo
from pilotos.operations import FormacionError

MAX_TEXT = 4000


def today() -> date:
    return chile.to_santiago(chile.utcnow()).date()


# --- directory ---------------------------------------------------------------------------------------


@dataclass
class MentorData:
    organization: str
    kind: TipoOrganizacionMentor
    tags: list[str]
    region: str | None
    capacity: int
    bio: str = ""


def save_mentor(actor: User, user: User, data: MentorData, mentor: Mentor | None = None) -> Mentor:
    """Create or edit the directory entry of `user`, who gets the mentor role if they lack it."""
    problems = rules.tag_problems(data.tags)
    if not data.organization:
        problems.append(_("Enter the mentor's organisation."))
    if data.capacity < 1:
        problems.append(_("The capacity must be at least one team."))
    if mentor is not None and data.capacity < mentor.active_count:
        problems.append(
            _(
                "The mentor already has %(num)d teams: the capacity cannot be lower.",
                num=mentor.active_count,
            )
        )
    if mentor is None and db.session.scalar(sa.select(Mentor.id).where(Mentor.user_id == user.id)):
        problems.append(_("%(email)s is already in the mentor directory.", email=user.email))
    if problems:
        raise FormacionError(*problems)
    before = None
    if mentor is None:
        mentor = Mentor(user_id=user.id, active_count=0)
        db.session.add(mentor)
        action = "mentor.created"
    else:
        before = {"capacity": mentor.capacity, "region": mentor.region, "tags": list(mentor.tags or [])}
        action = "mentor.updated"
    mentor.organization = data.organization[:200]
    mentor.kind = data.kind
    mentor.tags = list(data.tags)
    mentor.region = data.region
    mentor.capacity = data.capacity
    mentor.bio = data.bio
    if not any(a.role == Role.MENTOR for a in user.roles):
        user.roles.append(RoleAssignment(role=Role.MENTOR, granted_by_id=actor.id))
    db.session.flush()
    audit.record(
        actor,
        action,
        mentor,
        before=before,
        after={"capacity": mentor.capacity, "region": mentor.region, "tags": mentor.tags},
    )
    return mentor


def remove_mentor(actor: User, mentor: Mentor) -> None:
    """Take a mentor out of the directory: only one who never mentored a team (the logs stay)."""
    if db.session.scalar(sa.select(Mentoria.id).where(Mentoria.mentor_id == mentor.id).limit(1)) is not None:
        raise FormacionError(
            _("%(name)s has mentored teams: their logs stay, so they cannot be removed.", name=mentor.name)
        )
    audit.record(actor, "mentor.removed", mentor, before={"user_id": mentor.user_id})
    db.session.execute(sa.delete(ConflictoMentor).where(ConflictoMentor.mentor_id == mentor.id))
    db.session.delete(mentor)
    db.session.flush()


def mentor_of(user: object) -> Mentor | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(sa.select(Mentor).where(Mentor.user_id == user.id))  # type: ignore[attr-defined]


def declare_conflict(
    actor: User, mentor: Mentor, *, rut: str | None = None, equipo: Equipo | None = None, reason: str = ""
) -> ConflictoMentor:
    """A conflict with an organisation (its RUT) or a team; a team already mentored by this mentor cannot be
    declared (the lead must end that mentoring first)."""
    canonical = None
    if rut:
        if not chile.is_valid_rut(rut):
            raise FormacionError(_("The RUT is not valid: check its check digit."))
        canonical = chile.normalize_rut(rut)
    if canonical is None and equipo is None:
        raise FormacionError(_("Choose a team or enter an organisation's RUT."))
    if len(reason) > 300:
        raise FormacionError(_("The reason may have at most 300 characters."))
    conflicto = ConflictoMentor(
        mentor_id=mentor.id,
        rut=canonical,
        equipo_id=equipo.id if equipo is not None else None,
        reason=reason.strip(),
    )
    db.session.add(conflicto)
    db.session.flush()
    audit.record(actor, "mentor.conflict", mentor, after={"rut": canonical, "equipo_id": conflicto.equipo_id})
    return conflicto


def remove_conflict(actor: User, conflicto: ConflictoMentor) -> None:
    mentor = conflicto.mentor
    audit.record(
        actor,
        "mentor.conflict_removed",
        mentor,
        before={"rut": conflicto.rut, "equipo_id": conflicto.equipo_id},
    )
    db.session.delete(conflicto)
    db.session.flush()


# --- suggestions and matches -------------------------------------------------------------------------


def team_profiles(equipos: list[Equipo]) -> dict[int, rules.PerfilEquipo]:
    """The suggestion's view of each team, in one query."""
    if not equipos:
        return {}
    rows = db.session.execute(
        sa.select(Equipo.id, Equipo.region, Postulacion.title, Desafio.title, Desafio.problem, Postulacion)
        .join(Postulacion, Postulacion.id == Equipo.postulacion_id)
        .join(Desafio, Desafio.id == Postulacion.desafio_id)
        .where(Equipo.id.in_([e.id for e in equipos]))
        .options(
            joinedload(Postulacion.organizacion),
            joinedload(Postulacion.desafio).joinedload(Desafio.grupo_vulnerable),
        )
    ).unique()
    profiles = {}
    for equipo_id, region, title, desafio_title, problem, postulacion in rows:
        grupo = postulacion.desafio.grupo_vulnerable
        text = " ".join([title or "", desafio_title or "", problem or "", grupo.name if grupo else ""])
        profiles[equipo_id] = rules.PerfilEquipo(equipo_id, region, text, postulacion.organizacion.rut)
    return profiles


def mentor_profiles() -> tuple[list[rules.PerfilMentor], dict[int, Mentor]]:
    """Every mentor of the directory with their conflicts, in two queries."""
    mentors = list(
        db.session.scalars(
            sa.select(Mentor)
            .options(joinedload(Mentor.user), selectinload(Mentor.conflictos))
            .order_by(Mentor.id)
        ).unique()
    )
    profiles = [
        rules.PerfilMentor(
            mentor_id=m.id,
            region=m.region,
            tags=tuple(m.tags or ()),
            capacity=m.capacity,
            active=m.active_count,
            conflict_ruts=frozenset(c.rut for c in m.conflictos if c.rut),
            conflict_equipos=frozenset(c.equipo_id for c in m.conflictos if c.equipo_id),
        )
        for m in mentors
    ]
    return profiles, {m.id: m for m in mentors}


def confirm_match(actor: User, equipo: Equipo, mentor: Mentor, start: date) -> Mentoria:
    """The lead assigns the mentor to the team from `start`. Refused when the mentor is full (checked by a
    conditional UPDATE, so two leads at once cannot overfill), has a conflict, or already mentors the team."""
    profile = team_profiles([equipo])[equipo.id]
    conflicted = any(
        c.equipo_id == equipo.id or (c.rut is not None and c.rut == profile.rut) for c in mentor.conflictos
    )
    if conflicted:
        raise FormacionError(_("%(name)s declared a conflict of interest with this team.", name=mentor.name))
    if db.session.scalar(
        sa.select(Mentoria.id).where(
            Mentoria.equipo_id == equipo.id,
            Mentoria.mentor_id == mentor.id,
        )
    ):
        raise FormacionError(_("%(name)s already mentors this team.", name=mentor.name))
    if db.session.scalar(
        sa.select(Mentoria.id).where(
            Mentoria.equipo_id == equipo.id, Mentoria.status == EstadoMentoria.ACTIVA
        )
    ):
        raise FormacionError(_("This team already has a mentor: end that mentoring first."))
    if abs((start - today()).days) > 366:
        raise FormacionError(_("The start date must be within a year from today."))
    taken = db.session.execute(
        sa.update(Mentor)
        .where(Mentor.id == mentor.id, Mentor.active_count < Mentor.capacity)
        .values(active_count=Mentor.active_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        raise FormacionError(
            _(
                "%(name)s has no room: they already mentor %(num)d teams.",
                name=mentor.name,
                num=mentor.capacity,
            )
        )
    db.session.refresh(mentor, ["active_count"])
    mentoria = Mentoria(
        equipo_id=equipo.id,
        mentor_id=mentor.id,
        start_date=start,
        status=EstadoMentoria.ACTIVA,
        created_by_id=actor.id,
    )
    db.session.add(mentoria)
    db.session.flush()
    audit.record(
        actor, "mentoria.confirmed", equipo, after={"mentor_id": mentor.id, "start_date": start.isoformat()}
    )
    return mentoria


def end_mentoring(actor: User, mentoria: Mentoria) -> None:
    """Finish a mentoring: the mentor gets the place back."""
    if mentoria.status != EstadoMentoria.ACTIVA:
        raise FormacionError(_("This mentoring has already ended."))
    mentoria.status = EstadoMentoria.FINALIZADA
    db.session.execute(
        sa.update(Mentor)
        .where(Mentor.id == mentoria.mentor_id, Mentor.active_count > 0)
        .values(active_count=Mentor.active_count - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    db.session.refresh(mentoria.mentor, ["active_count"])
    audit.record(actor, "mentoria.ended", mentoria.equipo, after={"mentor_id": mentoria.mentor_id})


# --- sessions ----------------------------------------------------------------------------------------


@dataclass
class SesionData:
    held_on: date | None
    duration_minutes: int | None
    topics: str
    agreements: str = ""
    next_steps: str = ""


def log_session(actor: User, mentoria: Mentoria, data: SesionData) -> SesionMentoria:
    """The mentor records a session: its date within the plan and not in the future."""
    problems = []
    if mentoria.status != EstadoMentoria.ACTIVA:
        problems.append(_("This mentoring has ended: no more sessions can be logged."))
    if data.held_on is None:
        problems.append(_("Enter the date of the session."))
    elif data.held_on > today():
        problems.append(_("The session's date cannot be in the future."))
    elif rules.week_of(mentoria.start_date, data.held_on) is None:
        problems.append(
            _(
                "The date must fall within the 8-week plan: from %(start)s to %(end)s.",
                start=chile.format_date_es(mentoria.start_date),
                end=chile.format_date_es(rules.plan_end(mentoria.start_date)),
            )
        )
    if data.duration_minutes is None or not 1 <= data.duration_minutes <= 600:
        problems.append(_("The duration must be between 1 and 600 minutes."))
    if not data.topics.strip():
        problems.append(_("Write the topics of the session."))
    if any(len(t) > MAX_TEXT for t in (data.topics, data.agreements, data.next_steps)):
        problems.append(_("Each text may have at most %(num)d characters.", num=MAX_TEXT))
    if problems:
        raise FormacionError(*problems)
    assert data.held_on is not None and data.duration_minutes is not None
    sesion = SesionMentoria(
        mentoria_id=mentoria.id,
        held_on=data.held_on,
        duration_minutes=data.duration_minutes,
        topics=data.topics.strip(),
        agreements=data.agreements.strip(),
        next_steps=data.next_steps.strip(),
        created_by_id=actor.id,
    )
    db.session.add(sesion)
    db.session.flush()
    audit.record(
        actor,
        "mentoria.session",
        mentoria.equipo,
        after={"held_on": data.held_on.isoformat(), "duration_minutes": data.duration_minutes},
    )
    return sesion


def comment(actor: User, sesion: SesionMentoria, body: str) -> ComentarioSesion:
    text = (body or "").strip()
    if not text:
        raise FormacionError(_("Write a comment."))
    if len(text) > 2000:
        raise FormacionError(_("A comment may have at most %(num)d characters.", num=2000))
    comentario = ComentarioSesion(sesion_id=sesion.id, user_id=actor.id, body=text)
    db.session.add(comentario)
    db.session.flush()
    audit.record(actor, "mentoria.comment", sesion.mentoria.equipo, after={"sesion_id": sesion.id})
    return comentario


# --- overview ----------------------------------------------------------------------------------------


@dataclass
class Estado:
    """Where one mentoring stands today."""

    mentoria: Mentoria
    sessions: int
    missed: list[int]
    week: int | None


def session_days(mentoria_ids: list[int]) -> dict[int, list[date]]:
    days: dict[int, list[date]] = {i: [] for i in mentoria_ids}
    if mentoria_ids:
        rows = db.session.execute(
            sa.select(SesionMentoria.mentoria_id, SesionMentoria.held_on).where(
                SesionMentoria.mentoria_id.in_(mentoria_ids)
            )
        )
        for mentoria_id, held_on in rows:
            days[mentoria_id].append(held_on)
    return days


def estados(mentorias: list[Mentoria], on: date | None = None) -> dict[int, Estado]:
    """Sessions and missed weeks of each mentoring (one query for them all)."""
    on = on or today()
    days = session_days([m.id for m in mentorias])
    return {
        m.id: Estado(
            m,
            len(days[m.id]),
            rules.missed_weeks(m.start_date, days[m.id], on) if m.status == EstadoMentoria.ACTIVA else [],
            rules.current_week(m.start_date, on),
        )
        for m in mentorias
    }


def mentorias_of_teams(equipo_ids: list[int]) -> list[Mentoria]:
    if not equipo_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Mentoria)
            .where(Mentoria.equipo_id.in_(equipo_ids))
            .options(joinedload(Mentoria.mentor).joinedload(Mentor.user))
            .order_by(Mentoria.id)
        ).unique()
    )


def started_at(day: date) -> datetime:
    return chile.from_santiago(datetime.combine(day, datetime.min.time()))
