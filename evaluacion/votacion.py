"""The popular vote: settings, shortlist, voting without an account (request by e-mail, confirm by POST),
the phase guard and the erasure of the voters' e-mails.

Staff operations take their actor, flush, record an audit event and never commit. The voters' operations
have no actor (nobody is logged in) and record no audit event: the vote rows are the record, and the audit
log would keep the voter's IP address. The plain RUT is never stored, logged or audited: a voter is the
keyed hash of the normalised RUT (`rut_hash`), so every spelling of one RUT is one person.

Double counting is prevented by the database's unique constraints (see `votacion_models`), not by a check in
Python: `confirm_vote` inserts the vote in a savepoint and turns a violated constraint into an answer.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from convocatorias.models import Convocatoria, Desafio, EstadoPostulacion, Fase, Postulacion
from convocatorias.operations import PHASE_DATES, fase_change_requested, fase_changed
from evaluacion import queries
from evaluacion.operations import EvaluacionError
from evaluacion.votacion_models import (
    ConfiguracionVotacion,
    ModoPreseleccion,
    Preseleccion,
    SolicitudVoto,
    Votante,
    Voto,
)
from idea import audit, chile
from idea.extensions import db
from idea.mail import external_url, send_email
from idea.models import User

log = logging.getLogger(__name__)

VOTE_TOKEN_MAX_AGE = 60 * 60 * 24  # the confirmation link lasts 24 hours
SUMMARY_LENGTH = 280  # characters of the public card's text
MAX_VOTES_LIMIT = 50  # the table's CHECK on max_votes_per_person
_TOKEN_SALT = "idea-vote-confirm"  # noqa: S105 - a salt, not a secret

# Sent after a vote was counted (convocatoria_id=, preseleccion_id=) and after a shortlist was published
# (convocatoria_id=): public pages that show counts or the shortlist invalidate their cache on them.
signals = Namespace()
vote_counted = signals.signal("vote-counted")
shortlist_published = signals.signal("shortlist-published")


class VotacionError(EvaluacionError):
    """A refused change or vote; `messages` are meant for the person (Spanish through the catalogue)."""


# --- keyed hashes ------------------------------------------------------------------------------------


def _key() -> bytes:
    return str(current_app.config["VOTE_HASH_KEY"]).encode()


def _hmac(kind: str, value: str) -> str:
    return hmac.new(_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def rut_hash(rut: str) -> str:
    """The voter's identity: HMAC-SHA256 of the normalised RUT. Raises `chile.RutError` (Spanish) when it
    is not a valid RUT. 12.345.678-5, 12345678-5 and 123456785 give the same hash."""
    return _hmac("rut", chile.normalize_rut(rut))


def network_hash(ip: str | None) -> str:
    """A keyed hash of the network an address belongs to (/24 for IPv4, /48 for IPv6), never the address:
    enough to see many votes coming from one network, not to find a person."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return _hmac("net", "unknown")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return _hmac("net", str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_TOKEN_SALT)


def sign_token(token: str) -> str:
    """The token as it travels in the link: signed, so a forged or truncated one is refused unread."""
    return _serializer().dumps(token)


def unsign_token(signed: str) -> str | None:
    """The raw token of a link younger than 24 h; None when forged; raises SignatureExpired when old."""
    try:
        value = _serializer().loads(signed, max_age=VOTE_TOKEN_MAX_AGE)
    except SignatureExpired:
        raise
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


# --- settings ----------------------------------------------------------------------------------------


def settings_of(convocatoria: Convocatoria) -> ConfiguracionVotacion | None:
    return db.session.scalar(
        sa.select(ConfiguracionVotacion).where(ConfiguracionVotacion.convocatoria_id == convocatoria.id)
    )


def ensure_settings(convocatoria: Convocatoria) -> ConfiguracionVotacion:
    """The call's vote settings, created with the defaults the first time they are asked for."""
    config = settings_of(convocatoria)
    if config is not None:
        return config
    config = ConfiguracionVotacion(
        convocatoria_id=convocatoria.id,
        mode=ModoPreseleccion.TODAS,
        top_n=None,
        max_votes_per_person=1,
        show_counts=True,
    )
    try:
        with db.session.begin_nested():
            db.session.add(config)
    except IntegrityError:
        return db.session.scalars(
            sa.select(ConfiguracionVotacion).where(ConfiguracionVotacion.convocatoria_id == convocatoria.id)
        ).one()
    return config


@dataclass
class VotacionData:
    """The lead's settings of a call's vote; dates aware UTC (typed in Chilean time)."""

    mode: ModoPreseleccion = ModoPreseleccion.TODAS
    top_n: int | None = None
    max_votes_per_person: int = 1
    show_counts: bool = True
    vote_open_at: datetime | None = None
    vote_close_at: datetime | None = None


SETTINGS_FIELDS = ("mode", "top_n", "max_votes_per_person", "show_counts")


def has_votes(convocatoria_id: int) -> bool:
    return bool(db.session.scalar(sa.select(sa.exists().where(Voto.convocatoria_id == convocatoria_id))))


def _date_order_problems(convocatoria: Convocatoria, data: VotacionData) -> list[str]:
    problems = []
    if data.vote_open_at is None or data.vote_close_at is None:
        problems.append(_("Set both the opening and the closing of the vote."))
        return problems
    if data.vote_close_at <= data.vote_open_at:
        problems.append(_("The vote must close after it opens."))
    names = [name for name, _label in PHASE_DATES]
    labels = dict(PHASE_DATES)
    values = {name: getattr(convocatoria, name) for name in names}
    values["vote_open_at"], values["vote_close_at"] = data.vote_open_at, data.vote_close_at
    own = ("vote_open_at", "vote_close_at")
    for name in own:
        i = names.index(name)
        before = next((n for n in reversed(names[:i]) if values[n] is not None and n not in own), None)
        after = next((n for n in names[i + 1 :] if values[n] is not None and n not in own), None)
        if before is not None and values[name] <= values[before]:
            problems.append(
                _(
                    "The date “%(later)s” must come after “%(earlier)s”.",
                    later=labels[name],
                    earlier=labels[before],
                )
            )
        if after is not None and values[name] >= values[after]:
            problems.append(
                _(
                    "The date “%(later)s” must come after “%(earlier)s”.",
                    later=labels[after],
                    earlier=labels[name],
                )
            )
    return problems


def update_settings(actor: User, convocatoria: Convocatoria, data: VotacionData) -> ConfiguracionVotacion:
    """Change how the shortlist is made, how many votes a person has, whether counts show, and the vote's
    window (the call's `vote_open_at`/`vote_close_at`). Once votes exist only the window and the counts'
    visibility may change."""
    config = ensure_settings(convocatoria)
    problems = _date_order_problems(convocatoria, data)
    if data.mode == ModoPreseleccion.MEJORES and not data.top_n:
        problems.append(_("Say how many submissions per challenge go to the vote."))
    if data.top_n is not None and data.top_n < 1:
        problems.append(_("The number per challenge must be at least 1."))
    if not 1 <= data.max_votes_per_person <= MAX_VOTES_LIMIT:
        problems.append(_("Each person may have from 1 to %(num)d votes.", num=MAX_VOTES_LIMIT))
    if has_votes(convocatoria.id) and (
        data.mode != config.mode
        or (data.top_n if data.mode == ModoPreseleccion.MEJORES else None) != config.top_n
        or data.max_votes_per_person != config.max_votes_per_person
    ):
        problems.append(_("Votes have been cast: only the dates and the visibility of counts can change."))
    if problems:
        raise VotacionError(*problems)
    before = audit.snapshot(config, SETTINGS_FIELDS) | audit.snapshot(
        convocatoria, ("vote_open_at", "vote_close_at")
    )
    config.mode = data.mode
    config.top_n = data.top_n if data.mode == ModoPreseleccion.MEJORES else None
    config.max_votes_per_person = data.max_votes_per_person
    config.show_counts = data.show_counts
    convocatoria.vote_open_at = data.vote_open_at
    convocatoria.vote_close_at = data.vote_close_at
    db.session.flush()
    after = audit.snapshot(config, SETTINGS_FIELDS) | audit.snapshot(
        convocatoria, ("vote_open_at", "vote_close_at")
    )
    if after != before:
        audit.record(actor, "votacion.settings_updated", config, before=before, after=after)
    return config


# --- shortlist ---------------------------------------------------------------------------------------


def public_summary(text: str, length: int = SUMMARY_LENGTH) -> str:
    """A short plain text for the public card: whitespace collapsed, cut at a word near `length`."""
    plain = re.sub(r"\s+", " ", re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text or "")).strip()
    if len(plain) <= length:
        return plain
    cut = plain[: length - 1]
    space = cut.rfind(" ")
    if space > length // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


@dataclass
class Candidato:
    """A submission that would go to the vote, as the lead's preview shows it."""

    postulacion_id: int
    folio: str | None
    title: str
    desafio_id: int
    desafio: str
    region: str | None
    internal_score: float | None
    internal_rank: int | None
    desafio_rank: int | None
    summary: str


def shortlist_candidates(actor: User, convocatoria: Convocatoria) -> list[Candidato]:
    """What the shortlist would hold with the call's settings: every admissible submission, or the best
    `top_n` of each challenge by internal score (unscored submissions cannot be among the best). Ordered by
    challenge, then internal rank. The scores come from the same aggregation the evaluation pages show."""
    config = ensure_settings(convocatoria)
    rubrica = queries.rubrica_of(convocatoria.id)
    summaries = {}
    if rubrica is not None:
        summaries = queries.scores(actor, convocatoria, rubrica).aggregation.submissions
    rows = db.session.execute(
        sa.select(
            Postulacion.id,
            Postulacion.folio,
            Postulacion.title,
            Postulacion.solution,
            Postulacion.region,
            Postulacion.desafio_id,
            Desafio.title.label("desafio"),
            Desafio.position,
        )
        .join(Desafio, Postulacion.desafio_id == Desafio.id)
        .where(
            Postulacion.convocatoria_id == convocatoria.id, Postulacion.status == EstadoPostulacion.ADMISIBLE
        )
        .order_by(Desafio.position, Desafio.id, Postulacion.folio_number, Postulacion.id)
    ).all()
    by_desafio: dict[int, list[Candidato]] = {}
    for row in rows:
        summary = summaries.get(row.id)
        by_desafio.setdefault(row.desafio_id, []).append(
            Candidato(
                postulacion_id=row.id,
                folio=row.folio,
                title=row.title,
                desafio_id=row.desafio_id,
                desafio=row.desafio,
                region=row.region,
                internal_score=summary.score if summary else None,
                internal_rank=summary.rank if summary else None,
                desafio_rank=None,
                summary=public_summary(row.solution),
            )
        )
    chosen: list[Candidato] = []
    for candidates in by_desafio.values():
        ranked = sorted(
            candidates, key=lambda c: (c.internal_rank is None, c.internal_rank or 0, c.postulacion_id)
        )
        for position, c in enumerate(ranked, start=1):
            c.desafio_rank = position if c.internal_rank is not None else None
        if config.mode == ModoPreseleccion.MEJORES:
            ranked = [c for c in ranked if c.internal_rank is not None][: config.top_n or 0]
        chosen.extend(ranked)
    return chosen


def shortlist(convocatoria_id: int) -> list[Preseleccion]:
    """The published (or last built) shortlist of a call, with each submission loaded."""
    return list(
        db.session.scalars(
            sa.select(Preseleccion)
            .where(Preseleccion.convocatoria_id == convocatoria_id)
            .options(joinedload(Preseleccion.postulacion).joinedload(Postulacion.desafio))
            .order_by(Preseleccion.internal_rank.is_(None), Preseleccion.internal_rank, Preseleccion.id)
        ).unique()
    )


def publish_shortlist(actor: User, convocatoria: Convocatoria) -> list[Preseleccion]:
    """Build the shortlist from the settings and publish it (allowed again until the first vote).

    Refused outside `evaluacion`/`votacion`, without both vote dates, with nothing to vote on, or once any
    vote was counted (republishing would move ideas under the votes already cast).
    """
    config = ensure_settings(convocatoria)
    problems = []
    if convocatoria.fase not in (Fase.EVALUACION, Fase.VOTACION):
        problems.append(_("The shortlist is published during the evaluation or the vote."))
    if convocatoria.vote_open_at is None or convocatoria.vote_close_at is None:
        problems.append(_("Set the dates of the vote before publishing the shortlist."))
    if has_votes(convocatoria.id):
        problems.append(_("Votes have been cast: the shortlist can no longer change."))
    if problems:
        raise VotacionError(*problems)
    candidates = shortlist_candidates(actor, convocatoria)
    if not candidates:
        raise VotacionError(_("No admissible submission can go to the vote with these settings."))
    # No vote exists, so the old entries (and any pending confirmation requests) can go.
    old_ids = sa.select(Preseleccion.id).where(Preseleccion.convocatoria_id == convocatoria.id)
    db.session.execute(sa.delete(SolicitudVoto).where(SolicitudVoto.preseleccion_id.in_(old_ids)))
    db.session.execute(sa.delete(Preseleccion).where(Preseleccion.convocatoria_id == convocatoria.id))
    rows = [
        Preseleccion(
            convocatoria_id=convocatoria.id,
            postulacion_id=c.postulacion_id,
            internal_score=c.internal_score,
            internal_rank=c.internal_rank,
            summary=c.summary,
            vote_count=0,
        )
        for c in candidates
    ]
    db.session.add_all(rows)
    config.published_at = chile.utcnow()
    config.published_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        "votacion.shortlist_published",
        config,
        after={
            "mode": config.mode,
            "top_n": config.top_n,
            "count": len(rows),
            "postulaciones": [c.postulacion_id for c in candidates],
        },
    )
    shortlist_published.send(convocatoria, convocatoria_id=convocatoria.id)
    return rows


# --- phase guard and e-mail erasure ------------------------------------------------------------------


def _guard_entering_votacion(convocatoria: Convocatoria, target: Any = None, **_kwargs: object) -> str | None:
    if target != Fase.VOTACION:
        return None
    config = settings_of(convocatoria)
    missing = []
    if config is None or not config.is_published:
        missing.append(_("publish the shortlist of the vote"))
    if convocatoria.vote_open_at is None or convocatoria.vote_close_at is None:
        missing.append(_("set the dates the vote opens and closes"))
    if not missing:
        return None
    return _("The call cannot enter the vote yet: %(missing)s.", missing="; ".join(missing))


def purge_emails(actor: User | None, convocatoria: Convocatoria, now: datetime | None = None) -> int:
    """Erase the voters' e-mail addresses of a call whose vote has closed (the domain stays, for the
    integrity watch). Returns how many were erased; refused while the vote is still open."""
    now = now or chile.utcnow()
    after_vote = convocatoria.fase in (Fase.COMITE, Fase.FORMACION, Fase.EJECUCION, Fase.CIERRE)
    closes = convocatoria.vote_close_at
    if not after_vote and (closes is None or now < closes):
        raise VotacionError(_("The voters' e-mails are erased only after the vote closes."))
    result = db.session.execute(
        sa.update(Votante)
        .where(Votante.convocatoria_id == convocatoria.id, Votante.email.is_not(None))
        .values(email=None)
        .execution_options(synchronize_session=False)
    )
    erased = result.rowcount or 0
    config = ensure_settings(convocatoria)
    if config.emails_purged_at is None or erased:
        config.emails_purged_at = now
        db.session.flush()
        audit.record(actor, "votacion.emails_purged", config, after={"count": erased})
    return erased


def calls_to_purge(now: datetime | None = None) -> list[Convocatoria]:
    """Calls whose vote has closed and whose voters' e-mails are still kept."""
    now = now or chile.utcnow()
    has_email = sa.exists().where(Votante.convocatoria_id == Convocatoria.id, Votante.email.is_not(None))
    return list(
        db.session.scalars(
            sa.select(Convocatoria)
            .where(Convocatoria.vote_close_at <= now, has_email)
            .order_by(Convocatoria.id)
        )
    )


def _on_fase_changed(
    convocatoria: Convocatoria, before: Fase | None = None, actor: User | None = None, **_kwargs: object
) -> None:
    if before == Fase.VOTACION and convocatoria.fase != Fase.VOTACION:
        purge_emails(actor, convocatoria)


def connect() -> None:
    fase_change_requested.connect(_guard_entering_votacion, weak=False)
    fase_changed.connect(_on_fase_changed, weak=False)


# --- voting ------------------------------------------------------------------------------------------


def window_problem(convocatoria: Convocatoria, now: datetime) -> str | None:
    return window_message(convocatoria.fase, convocatoria.vote_open_at, convocatoria.vote_close_at, now)


def window_message(fase: Fase, opens: datetime | None, closes: datetime | None, now: datetime) -> str | None:
    """Why a vote cannot be asked or counted at `now` (None inside the window of a call in its vote)."""
    if fase != Fase.VOTACION or opens is None or closes is None:
        return _("This call is not in its public vote.")
    if now < opens:
        return _("The vote opens on %(date)s.", date=chile.format_datetime_es(opens))
    if now >= closes:
        return _("The vote closed on %(date)s.", date=chile.format_datetime_es(closes))
    return None


class RequestOutcome(enum.StrEnum):
    SENT = "sent"  # a confirmation link was e-mailed
    ALREADY_VOTED = "already_voted"  # this person's vote for this idea is counted: told by e-mail
    NO_VOTES_LEFT = "no_votes_left"  # this person used every vote: told by e-mail


EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def request_vote(
    convocatoria: Convocatoria,
    preseleccion: Preseleccion,
    rut: str,
    email: str,
    accepted_notice: bool,
    ip: str | None,
    now: datetime | None = None,
) -> RequestOutcome:
    """Ask to vote for one shortlisted idea: validate, remember the person by the hash of their RUT, and
    e-mail a single-use confirmation link (24 h). Nothing is counted until the link's page is confirmed.

    A person who already voted for this idea or used every vote is told so by e-mail, at the address that
    person gave first (not at the one typed now), and the page answers as for any request: whoever types
    someone else's RUT learns nothing about that person's votes.
    """
    now = now or chile.utcnow()
    email = (email or "").strip()
    problems = []
    window = window_problem(convocatoria, now)
    if window:
        raise VotacionError(window)
    if preseleccion.convocatoria_id != convocatoria.id:
        raise VotacionError(_("This idea is not in this call's vote."))
    config = settings_of(convocatoria)
    if config is None or not config.is_published:
        raise VotacionError(_("This call is not in its public vote."))
    try:
        identity = rut_hash(rut)
    except chile.RutError as error:
        problems.append(str(error))
        identity = ""
    if not EMAIL_RE.match(email) or len(email) > 254:
        problems.append(_("Enter a valid e-mail address, like nombre@ejemplo.cl."))
    if not accepted_notice:
        problems.append(_("To vote you must accept the notice on the use of your data."))
    if problems:
        raise VotacionError(*problems)
    domain = email.rsplit("@", 1)[1].lower()
    votante = _votante(convocatoria.id, identity, email, domain)
    counted = (
        db.session.execute(sa.select(Voto.preseleccion_id).where(Voto.votante_id == votante.id))
        .scalars()
        .all()
    )
    idea_title = preseleccion.postulacion.title
    if preseleccion.id in counted or len(counted) >= config.max_votes_per_person:
        outcome = RequestOutcome.ALREADY_VOTED if preseleccion.id in counted else RequestOutcome.NO_VOTES_LEFT
        send_email(
            votante.email or email,
            _l("Your vote in Fondo IDEA"),
            "vote_refused",
            outcome=str(outcome),
            idea_title=idea_title,
            convocatoria=convocatoria,
            max_votes=config.max_votes_per_person,
        )
        return outcome
    token = secrets.token_urlsafe(32)
    db.session.add(
        SolicitudVoto(
            convocatoria_id=convocatoria.id,
            preseleccion_id=preseleccion.id,
            votante_id=votante.id,
            token_hash=token_hash(token),
            network_hash=network_hash(ip),
            created_at=now,
            expires_at=now + timedelta(seconds=VOTE_TOKEN_MAX_AGE),
        )
    )
    db.session.flush()
    link = external_url("votacion.confirm", token=sign_token(token))
    send_email(
        email,
        _l("Confirm your vote in Fondo IDEA"),
        "vote_confirm",
        link=link,
        idea_title=idea_title,
        convocatoria=convocatoria,
        hours=VOTE_TOKEN_MAX_AGE // 3600,
        vote_close_at=convocatoria.vote_close_at,
    )
    return RequestOutcome.SENT


def _votante(convocatoria_id: int, identity: str, email: str, domain: str) -> Votante:
    """The person of this call with this RUT hash, created on the first request (two at once: one row)."""
    stmt = sa.select(Votante).where(Votante.convocatoria_id == convocatoria_id, Votante.rut_hash == identity)
    votante = db.session.scalar(stmt)
    if votante is None:
        votante = Votante(
            convocatoria_id=convocatoria_id, rut_hash=identity, email=email, email_domain=domain
        )
        try:
            with db.session.begin_nested():
                db.session.add(votante)
        except IntegrityError:
            votante = db.session.scalars(stmt).one()
        else:
            return votante
    # Until a vote of theirs counts, a person may correct the address; then the proven one stays.
    if not db.session.scalar(sa.select(sa.exists().where(Voto.votante_id == votante.id))):
        votante.email, votante.email_domain = email, domain
    return votante


class ConfirmOutcome(enum.StrEnum):
    COUNTED = "counted"
    ALREADY_COUNTED = "already_counted"  # this link's vote counts already (confirmed twice)
    ALREADY_VOTED = "already_voted"  # another link of this person for this idea counted
    NO_VOTES_LEFT = "no_votes_left"
    CLOSED = "closed"  # outside the vote's window
    EXPIRED = "expired"
    INVALID = "invalid"

    @property
    def is_refusal(self) -> bool:
        return self in (
            ConfirmOutcome.CLOSED,
            ConfirmOutcome.EXPIRED,
            ConfirmOutcome.INVALID,
            ConfirmOutcome.NO_VOTES_LEFT,
            ConfirmOutcome.ALREADY_VOTED,
        )


@dataclass(frozen=True)
class IdeaShown:
    """What the confirmation pages show of the idea voted for: plain values read with the link (no ORM
    object, so nothing loads lazily while the page renders, even after the commit)."""

    preseleccion_id: int
    slug: str  # of the call, for the links back to the vote
    title: str
    desafio: str
    region: str | None
    summary: str

    @classmethod
    def of(cls, entry: Preseleccion, convocatoria: Convocatoria) -> IdeaShown:
        postulacion = entry.postulacion
        return cls(
            entry.id,
            convocatoria.slug,
            postulacion.title,
            postulacion.desafio.title,
            postulacion.region,
            entry.summary,
        )


@dataclass(frozen=True)
class ConfirmResult:
    outcome: ConfirmOutcome
    preseleccion_id: int | None = None
    message: str = ""
    idea: IdeaShown | None = None


@dataclass(frozen=True)
class PendingVote:
    """What a confirmation link stands for, read in one query without counting anything: the request, the
    call's window and settings, and what the pages show of the idea."""

    solicitud_id: int
    convocatoria_id: int
    preseleccion_id: int
    votante_id: int
    expires_at: datetime
    confirmed_at: datetime | None
    network_hash: str
    email_domain: str
    fase: Fase
    vote_open_at: datetime | None
    vote_close_at: datetime | None
    max_votes_per_person: int | None  # None: the call has no vote settings
    published_at: datetime | None  # of the shortlist
    idea: IdeaShown
    votes_used: int = 0  # this person's votes (counted or annulled: each holds its slot)
    top_slot: int = 0

    def is_open(self, now: datetime) -> bool:
        """Whether a vote counts at `now`: shortlist published, call in its vote, inside the window."""
        return (
            self.published_at is not None
            and self.fase == Fase.VOTACION
            and self.vote_open_at is not None
            and self.vote_close_at is not None
            and self.vote_open_at <= now < self.vote_close_at
        )

    def window_problem(self, now: datetime) -> str | None:
        if self.published_at is None:
            return _("This call is not in its public vote.")
        return window_message(self.fase, self.vote_open_at, self.vote_close_at, now)


@cache
def _link_statement(with_slots: bool) -> Any:
    """The link's query, built once per process (the digest is a bound parameter): building this select of
    eighteen columns and five joins cost about as much Python as running it."""
    columns: list[Any] = [
        SolicitudVoto.id,
        SolicitudVoto.convocatoria_id,
        SolicitudVoto.preseleccion_id,
        SolicitudVoto.votante_id,
        SolicitudVoto.expires_at,
        SolicitudVoto.confirmed_at,
        SolicitudVoto.network_hash,
        Votante.email_domain,
        Convocatoria.fase,
        Convocatoria.vote_open_at,
        Convocatoria.vote_close_at,
        ConfiguracionVotacion.max_votes_per_person,
        ConfiguracionVotacion.published_at,
        Convocatoria.slug,
        Postulacion.title,
        Desafio.title.label("desafio_title"),
        Postulacion.region,
        Preseleccion.summary,
    ]
    if with_slots:  # the person's slots, from the unique index (votante, slot): no row is read
        slots = sa.select(sa.func.count(Voto.id), sa.func.coalesce(sa.func.max(Voto.slot), 0)).where(
            Voto.votante_id == SolicitudVoto.votante_id
        )
        columns += [
            slots.with_only_columns(sa.func.count(Voto.id)).scalar_subquery(),
            slots.with_only_columns(sa.func.coalesce(sa.func.max(Voto.slot), 0)).scalar_subquery(),
        ]
    return (
        sa.select(*columns)
        .join(Votante, Votante.id == SolicitudVoto.votante_id)
        .join(Preseleccion, Preseleccion.id == SolicitudVoto.preseleccion_id)
        .join(Postulacion, Postulacion.id == Preseleccion.postulacion_id)
        .join(Desafio, Desafio.id == Postulacion.desafio_id)
        .join(Convocatoria, Convocatoria.id == SolicitudVoto.convocatoria_id)
        .outerjoin(ConfiguracionVotacion, ConfiguracionVotacion.convocatoria_id == Convocatoria.id)
        .where(SolicitudVoto.token_hash == sa.bindparam("digest"))
    )


def _link_row(digest: str, *, with_slots: bool) -> Any:
    # Core execution on the session's connection (the ORM layer would only add work: no entity is loaded).
    return db.session.connection().execute(_link_statement(with_slots), {"digest": digest}).one_or_none()


def find_request(
    signed: str, now: datetime | None = None, *, with_slots: bool = False
) -> PendingVote | ConfirmOutcome:
    """The request behind a link, or INVALID/EXPIRED. One indexed query (by the token's digest) that also
    reads the call's window and settings and what the pages show of the idea."""
    if not signed or len(signed) > 300:
        return ConfirmOutcome.INVALID
    try:
        raw = unsign_token(signed)
    except SignatureExpired:
        return ConfirmOutcome.EXPIRED
    if raw is None:
        return ConfirmOutcome.INVALID
    row = _link_row(token_hash(raw), with_slots=with_slots)
    if row is None:
        return ConfirmOutcome.INVALID
    idea = IdeaShown(row[2], row[13], row[14], row[15], row[16], row[17] or "")
    pending = PendingVote(*row[:13], idea, *row[18:])  # type: ignore[arg-type]
    if pending.confirmed_at is None and pending.expires_at <= (now or chile.utcnow()):
        return ConfirmOutcome.EXPIRED
    return pending


def _count_vote(pending: PendingVote, slot: int, now: datetime) -> bool:
    """Insert the vote in `slot` and, when it went in, add it to the idea's counter and mark the request
    confirmed. False when a unique constraint of the vote refused it (this slot, this idea or this link
    taken, maybe a moment ago by a concurrent confirmation): the database decides. The insert skips a
    conflicting row (ON CONFLICT DO NOTHING) instead of failing the transaction, so no savepoint is needed;
    on PostgreSQL the insert and both updates are one statement (data-modifying CTEs, the updates applying
    only when the insert returned a row), one round trip."""
    table = Voto.__table__
    values = _vote_values(pending, slot, now)
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        params = {f"v_{name}": value for name, value in values.items()}
        params.update(p_id=pending.preseleccion_id, s_id=pending.solicitud_id)
        # Core execution on the session's connection: the ORM layer has nothing to do with this statement.
        return db.session.connection().execute(_count_vote_statement_pg(), params).one_or_none() is not None
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
        if db.session.execute(stmt).scalar() is None:
            return False
    else:  # pragma: no cover - another database: a savepoint turns the violation into an answer
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(table).values(**values))
        except IntegrityError:
            return False
    db.session.execute(
        sa.update(Preseleccion)
        .where(Preseleccion.id == pending.preseleccion_id)
        .values(vote_count=Preseleccion.vote_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(SolicitudVoto)
        .where(SolicitudVoto.id == pending.solicitud_id)
        .values(confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


@cache
def _count_vote_statement_pg() -> Any:
    """PostgreSQL's vote statement, built once per process (every value a bound parameter): the INSERT ...
    ON CONFLICT DO NOTHING of the vote, and the UPDATEs of the idea's counter and of the request, which
    apply only when the insert returned a row (data-modifying CTEs: one statement, one round trip)."""
    from sqlalchemy.dialects.postgresql import insert

    table = Voto.__table__
    counter_table = Preseleccion.__table__
    request_table = SolicitudVoto.__table__
    values = {name: sa.bindparam(f"v_{name}", type_=table.c[name].type) for name in VOTE_COLUMNS}
    vote = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id).cte("vote")
    inserted = sa.exists(sa.select(vote.c.id))
    counter = (
        sa.update(counter_table)
        .where(counter_table.c.id == sa.bindparam("p_id", type_=counter_table.c.id.type), inserted)
        .values(vote_count=counter_table.c.vote_count + 1)
        .returning(counter_table.c.id)
        .cte("counter")
    )
    request = (
        sa.update(request_table)
        .where(request_table.c.id == sa.bindparam("s_id", type_=request_table.c.id.type), inserted)
        .values(confirmed_at=sa.bindparam("v_confirmed_at", type_=request_table.c.confirmed_at.type))
        .returning(request_table.c.id)
        .cte("request")
    )
    return sa.select(
        vote.c.id, sa.select(counter.c.id).scalar_subquery(), sa.select(request.c.id).scalar_subquery()
    )


VOTE_COLUMNS = (
    "convocatoria_id",
    "preseleccion_id",
    "votante_id",
    "solicitud_id",
    "slot",
    "network_hash",
    "email_domain",
    "confirmed_at",
)


def _vote_values(pending: PendingVote, slot: int, now: datetime) -> dict[str, Any]:
    return dict(
        convocatoria_id=pending.convocatoria_id,
        preseleccion_id=pending.preseleccion_id,
        votante_id=pending.votante_id,
        solicitud_id=pending.solicitud_id,
        slot=slot,
        network_hash=pending.network_hash,
        email_domain=pending.email_domain or "",
        confirmed_at=now,
    )


def _autocommit_on_postgresql() -> None:
    """On PostgreSQL, when the session has not begun yet, run the confirmation's statements in autocommit:
    the only write is ONE statement (the vote, its counter and its request: data-modifying CTEs), atomic on
    its own, and the reads before it decide nothing (the unique constraints do). This saves the BEGIN and
    COMMIT round trips of every confirmation in a burst; the session's commit events still run."""
    session = db.session()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def confirm_vote(signed: str, now: datetime | None = None) -> ConfirmResult:
    """Count the vote of a confirmation link: one short transaction, the window checked on the server's
    clock now, the next free slot (1..V) taken by inserting the vote; the database's unique constraints
    decide between concurrent confirmations (a conflicting insert is skipped and the next slot tried, and
    once no slot is left the answer says why). Confirming twice counts once and says so.

    The statements: one SELECT (the link with its call, settings, idea and the person's slots), then the
    INSERT of the vote, the UPDATE of the idea's counter and the UPDATE of the request (one statement on
    PostgreSQL, there in autocommit when the session had not begun). The caller commits."""
    now = now or chile.utcnow()
    _autocommit_on_postgresql()
    found = find_request(signed, now, with_slots=True)
    if isinstance(found, ConfirmOutcome):
        return ConfirmResult(found)
    pending = found
    answer = ConfirmResult(ConfirmOutcome.ALREADY_COUNTED, pending.preseleccion_id, idea=pending.idea)
    if pending.confirmed_at is not None:
        return answer
    if pending.max_votes_per_person is None or not pending.is_open(now):
        return ConfirmResult(ConfirmOutcome.CLOSED, pending.preseleccion_id, idea=pending.idea)
    # Slots are taken lowest first: when the count equals the highest, the used ones are exactly 1..count
    # (the usual case, no further query); otherwise they are read. Either way only a hint: the insert decides.
    if pending.votes_used == pending.top_slot:
        used = set(range(1, pending.votes_used + 1))
    else:
        used = set(db.session.scalars(sa.select(Voto.slot).where(Voto.votante_id == pending.votante_id)))
    for slot in range(1, pending.max_votes_per_person + 1):
        if slot in used or not _count_vote(pending, slot, now):
            continue
        vote_counted.send(
            None, convocatoria_id=pending.convocatoria_id, preseleccion_id=pending.preseleccion_id
        )
        return ConfirmResult(ConfirmOutcome.COUNTED, pending.preseleccion_id, idea=pending.idea)
    mine = db.session.execute(
        sa.select(Voto.solicitud_id, Voto.preseleccion_id).where(Voto.votante_id == pending.votante_id)
    ).all()
    if any(row.solicitud_id == pending.solicitud_id for row in mine):
        return answer
    outcome = (
        ConfirmOutcome.ALREADY_VOTED
        if any(row.preseleccion_id == pending.preseleccion_id for row in mine)
        else ConfirmOutcome.NO_VOTES_LEFT
    )
    return ConfirmResult(outcome, pending.preseleccion_id, idea=pending.idea)


def recount_votes(convocatoria_id: int) -> None:
    """Set every counter of a call from its valid votes (a repair; the operations keep them right)."""
    valid = (
        sa.select(sa.func.count(Voto.id))
        .where(Voto.preseleccion_id == Preseleccion.id, Voto.annulled_at.is_(None))
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(Preseleccion)
        .where(Preseleccion.convocatoria_id == convocatoria_id)
        .values(vote_count=valid)
        .execution_options(synchronize_session=False)
    )


# --- audit labels ------------------------------------------------------------------------------------

AUDIT_ACTIONS: dict[str, Any] = {
    "votacion.settings_updated": _l("Changed the settings of the public vote"),
    "votacion.shortlist_published": _l("Published the shortlist of the public vote"),
    "votacion.emails_purged": _l("Erased the voters' e-mail addresses"),
}
AUDIT_FIELDS: dict[str, Any] = {
    "mode": _l("Shortlist"),
    "top_n": _l("Submissions per challenge"),
    "max_votes_per_person": _l("Votes per person"),
    "show_counts": _l("Counts visible during the vote"),
    "count": _l("Count"),
}


def register_labels(app: Any) -> None:
    audit.register_labels(
        app,
        actions=AUDIT_ACTIONS,
        fields=AUDIT_FIELDS,
        objects={"ConfiguracionVotacion": (_l("Public vote"), None)},
    )
