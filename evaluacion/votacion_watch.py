"""The integrity watch of the popular vote: what the lead reads (votes per hour, bursts, clusters by e-mail
domain and by network, repeated requests per person) and what the lead may do about it (annul a vote or a
cluster of votes, with a reason, audited; recount the counters).

Every query aggregates in SQL and runs a fixed number of statements whatever the number of votes. A lead
bound to regions sees (and annuls) only the votes for ideas of those regions (`regions`, as
`lead_queries.regions_in_scope` gives it; None is the whole call).

Persons are shown as "votante #id" (the row id of `Votante`): never a RUT, and the keyed hash of the RUT is
not shown either.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from convocatorias.models import Postulacion
from evaluacion.votacion import vote_counted
from evaluacion.votacion_models import Preseleccion, SolicitudVoto, Voto
from idea import audit, chile
from idea.extensions import db
from idea.models import User

REASON_MAX_LENGTH = 2000

# Bursts: an hour is a burst when it has at least BURST_MIN_VOTES votes and at least BURST_FACTOR times
# its baseline, the median of the BASELINE_HOURS hours before it (hours without votes count as 0; a
# baseline under 1 counts as 1). A campaign message on WhatsApp shows as a burst; so would a script.
BURST_MIN_VOTES = 15
BURST_FACTOR = 4.0
BASELINE_HOURS = 24
# Repeated attempts: a person who asked for more confirmation links than this in the call.
REPEATED_REQUESTS = 3
TOP_CLUSTERS = 10
VOTES_PER_PAGE = 50


class VotacionWatchError(ValueError):
    """A refused annulment; `messages` are meant for the user."""

    def __init__(self, *messages: str) -> None:
        self.messages = [str(m) for m in messages if m]
        super().__init__(" ".join(self.messages))


# --- reading ------------------------------------------------------------------------------------------


def _in_scope(stmt: sa.Select[Any], regions: Sequence[str] | None) -> sa.Select[Any]:
    """Limit a statement over `Voto` (or `SolicitudVoto`) to ideas of the lead's regions."""
    if regions is None:
        return stmt
    ids = (
        sa.select(Preseleccion.id)
        .join(Postulacion, Postulacion.id == Preseleccion.postulacion_id)
        .where(Postulacion.region.in_(list(regions)))
    )
    return stmt.where(Voto.preseleccion_id.in_(ids))


def _hour_bucket() -> sa.ColumnElement[Any]:
    """The UTC hour of `Voto.confirmed_at`, computed by the database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.date_trunc("hour", sa.func.timezone("UTC", Voto.confirmed_at))
    return sa.func.strftime("%Y-%m-%d %H:00:00", Voto.confirmed_at)


def _as_utc_hour(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Hora:
    """One hour of the vote, in Chilean time: the votes confirmed in it (annulled ones included)."""

    start: datetime  # aware, America/Santiago
    votes: int
    annulled: int
    baseline: float
    burst: bool

    @property
    def label(self) -> str:
        return self.start.strftime("%d-%m %H:00")


def votes_per_hour(convocatoria_id: int, regions: Sequence[str] | None = None) -> list[Hora]:
    """Every hour from the first confirmed vote to the last, with its votes and whether it is a burst.

    The database groups by UTC hour; each UTC hour is exactly one hour of Chilean time (the offsets of
    America/Santiago are whole hours), so the buckets are Chilean hours, daylight-saving changes included.
    """
    bucket = _hour_bucket().label("hour")
    annulled = sa.func.count(Voto.annulled_at)
    stmt = sa.select(bucket, sa.func.count(Voto.id), annulled).where(Voto.convocatoria_id == convocatoria_id)
    stmt = _in_scope(stmt, regions).group_by(bucket).order_by(bucket)
    counts = {_as_utc_hour(hour): (int(n), int(a)) for hour, n, a in db.session.execute(stmt)}
    if not counts:
        return []
    first, last = min(counts), max(counts)
    hours: list[Hora] = []
    history: list[int] = []
    at = first
    while at <= last:
        votes, gone = counts.get(at, (0, 0))
        window = history[-BASELINE_HOURS:]
        baseline = max(statistics.median(window), 1.0) if window else 1.0
        burst = bool(window) and votes >= BURST_MIN_VOTES and votes >= BURST_FACTOR * baseline
        hours.append(Hora(chile.to_santiago(at), votes, gone, float(baseline), burst))
        history.append(votes)
        at += timedelta(hours=1)
    return hours


def bursts(hours: list[Hora]) -> list[Hora]:
    return [h for h in hours if h.burst]


@dataclass(frozen=True)
class Grupo:
    """A cluster: votes sharing an e-mail domain or a network."""

    key: str
    votes: int
    valid: int
    voters: int
    share: float  # of every confirmed vote in view

    @property
    def short(self) -> str:
        """A network hash is long; eight characters tell the clusters apart on the page."""
        return self.key[:8] if len(self.key) == 64 else self.key


def total_votes(convocatoria_id: int, regions: Sequence[str] | None = None) -> tuple[int, int]:
    """(confirmed votes, annulled among them) in view."""
    stmt = sa.select(sa.func.count(Voto.id), sa.func.count(Voto.annulled_at)).where(
        Voto.convocatoria_id == convocatoria_id
    )
    total, gone = db.session.execute(_in_scope(stmt, regions)).one()
    return int(total), int(gone)


def clusters(
    convocatoria_id: int,
    column: str,
    regions: Sequence[str] | None = None,
    *,
    total: int | None = None,
    limit: int = TOP_CLUSTERS,
) -> list[Grupo]:
    """The `limit` largest clusters by `column` ("email_domain" or "network_hash"), largest first."""
    key = getattr(Voto, column)
    stmt = (
        sa.select(
            key,
            sa.func.count(Voto.id).label("n"),
            sa.func.count(Voto.id) - sa.func.count(Voto.annulled_at),
            sa.func.count(sa.distinct(Voto.votante_id)),
        )
        .where(Voto.convocatoria_id == convocatoria_id, key != "")
        .group_by(key)
        .order_by(sa.desc("n"), key)
        .limit(limit)
    )
    if total is None:
        total = total_votes(convocatoria_id, regions)[0]
    return [
        Grupo(value, int(n), int(valid), int(voters), n / total if total else 0.0)
        for value, n, valid, voters in db.session.execute(_in_scope(stmt, regions))
    ]


@dataclass(frozen=True)
class Intentos:
    """A person who asked for many confirmation links: shown by row id only."""

    votante_id: int
    requests: int
    confirmed: int
    ideas: int


def repeated_attempts(
    convocatoria_id: int,
    regions: Sequence[str] | None = None,
    *,
    threshold: int = REPEATED_REQUESTS,
    limit: int = TOP_CLUSTERS,
) -> list[Intentos]:
    """People with more than `threshold` vote requests in the call, most requests first."""
    n = sa.func.count(SolicitudVoto.id).label("n")
    stmt = (
        sa.select(
            SolicitudVoto.votante_id,
            n,
            sa.func.count(SolicitudVoto.confirmed_at),
            sa.func.count(sa.distinct(SolicitudVoto.preseleccion_id)),
        )
        .where(SolicitudVoto.convocatoria_id == convocatoria_id)
        .group_by(SolicitudVoto.votante_id)
        .having(n > threshold)
        .order_by(sa.desc("n"), SolicitudVoto.votante_id)
        .limit(limit)
    )
    if regions is not None:
        ids = (
            sa.select(Preseleccion.id)
            .join(Postulacion, Postulacion.id == Preseleccion.postulacion_id)
            .where(Postulacion.region.in_(list(regions)))
        )
        stmt = stmt.where(SolicitudVoto.preseleccion_id.in_(ids))
    return [Intentos(int(v), int(r), int(c), int(i)) for v, r, c, i in db.session.execute(stmt)]


@dataclass
class FiltroVotos:
    domain: str = ""
    network: str = ""
    preseleccion_id: int | None = None
    state: str = ""  # "", "validos", "anulados"


def _vote_conditions(convocatoria_id: int, filtro: FiltroVotos) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [Voto.convocatoria_id == convocatoria_id]
    if filtro.domain:
        conditions.append(Voto.email_domain == filtro.domain.lower())
    if filtro.network:
        conditions.append(Voto.network_hash.startswith(filtro.network.lower(), autoescape=True))
    if filtro.preseleccion_id is not None:
        conditions.append(Voto.preseleccion_id == filtro.preseleccion_id)
    if filtro.state == "validos":
        conditions.append(Voto.annulled_at.is_(None))
    elif filtro.state == "anulados":
        conditions.append(Voto.annulled_at.is_not(None))
    return conditions


@dataclass(frozen=True)
class FilaVoto:
    id: int
    confirmed_at: datetime
    votante_id: int
    slot: int
    email_domain: str
    network_hash: str
    preseleccion_id: int
    folio: str | None
    title: str
    annulled_at: datetime | None
    annulled_reason: str | None


@dataclass(frozen=True)
class PaginaVotos:
    rows: list[FilaVoto]
    total: int
    valid: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def list_votes(
    convocatoria_id: int,
    filtro: FiltroVotos,
    regions: Sequence[str] | None = None,
    page: int = 1,
    per_page: int = VOTES_PER_PAGE,
) -> PaginaVotos:
    """One page of votes, newest first, with the idea's folio and title (two queries)."""
    conditions = _vote_conditions(convocatoria_id, filtro)
    count = sa.select(sa.func.count(Voto.id), sa.func.count(Voto.id) - sa.func.count(Voto.annulled_at))
    total, valid = db.session.execute(_in_scope(count.where(*conditions), regions)).one()
    page = max(1, min(page, max(1, -(-int(total) // per_page))))
    stmt = (
        sa.select(
            Voto.id,
            Voto.confirmed_at,
            Voto.votante_id,
            Voto.slot,
            Voto.email_domain,
            Voto.network_hash,
            Voto.preseleccion_id,
            Postulacion.folio,
            Postulacion.title,
            Voto.annulled_at,
            Voto.annulled_reason,
        )
        .join(Preseleccion, Preseleccion.id == Voto.preseleccion_id)
        .join(Postulacion, Postulacion.id == Preseleccion.postulacion_id)
        .where(*conditions)
        .order_by(Voto.confirmed_at.desc(), Voto.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    if regions is not None:
        stmt = stmt.where(Postulacion.region.in_(list(regions)))
    rows = [FilaVoto(*row) for row in db.session.execute(stmt)]
    return PaginaVotos(rows, int(total), int(valid), page, per_page)


def shortlist_choices(convocatoria_id: int, regions: Sequence[str] | None = None) -> list[tuple[int, str]]:
    """(preseleccion id, "folio · title") of the call's shortlist in view, by folio."""
    stmt = (
        sa.select(Preseleccion.id, Postulacion.folio, Postulacion.title)
        .join(Postulacion, Postulacion.id == Preseleccion.postulacion_id)
        .where(Preseleccion.convocatoria_id == convocatoria_id)
        .order_by(Postulacion.folio)
    )
    if regions is not None:
        stmt = stmt.where(Postulacion.region.in_(list(regions)))
    return [(pid, f"{folio} · {title}") for pid, folio, title in db.session.execute(stmt)]


# --- operations -----------------------------------------------------------------------------------------


def _clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise VotacionWatchError(_("Say why the vote is annulled."))
    if len(text) > REASON_MAX_LENGTH:
        raise VotacionWatchError(
            _("The reason is too long (at most %(num)d characters).", num=REASON_MAX_LENGTH)
        )
    return text


def _recount(preseleccion_ids: Sequence[int]) -> None:
    """Set each counter to its number of valid votes. The rows are locked first (in id order, so two
    annulments never deadlock), so the count that follows sees every vote committed before it; a vote being
    confirmed meanwhile adds its +1 after this transaction. The lock is FOR NO KEY UPDATE: it does not
    conflict with the key-share lock a confirmation's INSERT of a vote takes on the idea (foreign key)."""
    ids = sorted(set(preseleccion_ids))
    if not ids:
        return
    db.session.execute(
        sa.select(Preseleccion.id)
        .where(Preseleccion.id.in_(ids))
        .order_by(Preseleccion.id)
        .with_for_update(key_share=True)
    ).all()
    valid = (
        sa.select(sa.func.count(Voto.id))
        .where(Voto.preseleccion_id == Preseleccion.id, Voto.annulled_at.is_(None))
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(Preseleccion)
        .where(Preseleccion.id.in_(ids))
        .values(vote_count=valid)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()


def _counted(convocatoria_id: int, preseleccion_ids: Sequence[int]) -> None:
    """Tell the public pages that show counts that these counters moved (they drop their cached copy)."""
    for preseleccion_id in sorted(set(preseleccion_ids)):
        vote_counted.send(None, convocatoria_id=convocatoria_id, preseleccion_id=preseleccion_id)


def annul_vote(actor: User, voto: Voto, reason: str | None) -> Voto:
    """Annul one vote: it stays, with reason, who and when, and leaves every total (the idea's counter is
    recomputed from its valid votes in the same transaction). Audited; never commits."""
    text = _clean_reason(reason)
    now = chile.utcnow()
    done = db.session.execute(
        sa.update(Voto)
        .where(Voto.id == voto.id, Voto.annulled_at.is_(None))
        .values(annulled_at=now, annulled_reason=text, annulled_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise VotacionWatchError(_("This vote was already annulled."))
    audit.record(
        actor,
        "voto.annulled",
        object_type="Voto",
        object_id=voto.id,
        before={"annulled_at": None},
        after={"annulled_at": now, "annulled_reason": text},
    )
    _recount([voto.preseleccion_id])
    _counted(voto.convocatoria_id, [voto.preseleccion_id])
    return voto


CLUSTER_COLUMNS = {"dominio": "email_domain", "red": "network_hash"}


def annul_cluster(
    actor: User,
    convocatoria_id: int,
    kind: str,
    key: str,
    reason: str | None,
    regions: Sequence[str] | None = None,
) -> int:
    """Annul every valid vote of one cluster (`kind` "dominio" with an e-mail domain, or "red" with a
    network hash) in view. Returns how many votes were annulled. One audit event per vote; never commits."""
    text = _clean_reason(reason)
    column = CLUSTER_COLUMNS.get(kind)
    key = (key or "").strip().lower()
    if column is None or not key:
        raise VotacionWatchError(_("Choose a cluster to annul."))
    stmt = sa.select(Voto.id, Voto.preseleccion_id).where(
        Voto.convocatoria_id == convocatoria_id,
        getattr(Voto, column) == key,
        Voto.annulled_at.is_(None),
    )
    targets = db.session.execute(_in_scope(stmt, regions).order_by(Voto.id)).all()
    if not targets:
        raise VotacionWatchError(_("This cluster has no valid votes left."))
    now = chile.utcnow()
    ids = [vid for vid, _pid in targets]
    done = db.session.execute(
        sa.update(Voto)
        .where(Voto.id.in_(ids), Voto.annulled_at.is_(None))
        .values(annulled_at=now, annulled_reason=text, annulled_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    for vid in ids:
        audit.record(
            actor,
            "voto.annulled",
            object_type="Voto",
            object_id=vid,
            before={"annulled_at": None},
            after={"annulled_at": now, "annulled_reason": text, "cluster": f"{kind}:{key}"},
        )
    _recount([pid for _vid, pid in targets])
    _counted(convocatoria_id, [pid for _vid, pid in targets])
    return int(done)


def recount_votes(convocatoria_id: int) -> dict[int, int]:
    """Recompute every counter of the call from its valid votes; returns {preseleccion id: valid votes}.
    Never commits."""
    ids = list(
        db.session.scalars(sa.select(Preseleccion.id).where(Preseleccion.convocatoria_id == convocatoria_id))
    )
    _recount(ids)
    rows = db.session.execute(
        sa.select(Preseleccion.id, Preseleccion.vote_count).where(
            Preseleccion.convocatoria_id == convocatoria_id
        )
    )
    return {pid: int(n) for pid, n in rows}


def counters_match(convocatoria_id: int) -> bool:
    """Whether every counter equals its number of valid votes (one query)."""
    valid = (
        sa.select(sa.func.count(Voto.id))
        .where(Voto.preseleccion_id == Preseleccion.id, Voto.annulled_at.is_(None))
        .scalar_subquery()
    )
    wrong = db.session.scalar(
        sa.select(sa.func.count(Preseleccion.id)).where(
            Preseleccion.convocatoria_id == convocatoria_id, Preseleccion.vote_count != valid
        )
    )
    return not wrong
