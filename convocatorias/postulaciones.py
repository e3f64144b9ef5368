"""The applicant's operations: the organisation profile, and drafting, sending, editing and withdrawing ideas.

Every operation takes the acting user, reads the clock (`chile.utcnow()`) when it runs, checks the rules of
the call, changes the rows, records an audit event and queues its e-mails; none commits. A refusal raises
PostulacionError with a message for the user and the form field it belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from convocatorias import uploads
from convocatorias.models import (
    PERFIL_FIELDS,
    Adjunto,
    CambioEstado,
    ContadorFolio,
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Fase,
    Madurez,
    Organizacion,
    Postulacion,
    PostulacionVersion,
    TipoOrganizacion,
)
from convocatorias.permissions import EDITABLE_STATES, is_owner
from idea import audit, chile, comunas
from idea.extensions import db
from idea.mail import external_url, send_email_to
from idea.models import User

# States that count towards the organisation's cap of submissions per call.
SENT_STATES = frozenset({
    EstadoPostulacion.ENVIADA, EstadoPostulacion.ADMISIBLE, EstadoPostulacion.INADMISIBLE,
})

ORGANIZACION_FIELDS: tuple[str, ...] = (
    "name", "rut", "tipo", "region", "comuna", "contact_name", "contact_email", "contact_phone",
)

# Fields of the simple profile that hold free text (stored as "" when empty) and those stored as NULL.
_TEXT_FIELDS = frozenset({"title", "problem", "solution", "beneficiaries", "coproduction", "team"})


class PostulacionError(ValueError):
    """A refusal meant for the user; `problems` lists (field name or None for the whole form, message)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems: list[tuple[str | None, str]] = [(field, message)]

    @classmethod
    def many(cls, problems: list[tuple[str | None, str]]) -> PostulacionError:
        field, message = problems[0]
        error = cls(message, field)
        error.problems = list(problems)
        return error


# ---------------------------------------------------------------------------
# Organisation
# ---------------------------------------------------------------------------


def organizacion_of(user: User) -> Organizacion | None:
    """The organisation `user` applies for (one per account)."""
    return db.session.scalars(
        sa.select(Organizacion).where(Organizacion.owner_id == user.id).order_by(Organizacion.id)
    ).first()


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def save_organizacion(actor: User, data: Mapping[str, Any]) -> Organizacion:
    """Create the actor's organisation, or update it when they already have one.

    The RUT is stored in its canonical form and may belong to a single organisation.
    """
    values = {name: _clean(data.get(name)) for name in ORGANIZACION_FIELDS}
    problems: list[tuple[str | None, str]] = []
    for name in ("name", "rut", "tipo", "region", "comuna"):
        if not values[name]:
            problems.append((name, _("This field is required.")))
    if values["rut"]:
        try:
            values["rut"] = chile.normalize_rut(values["rut"])
        except chile.RutError:
            problems.append(("rut", _("This RUT is not valid. Write it as 12.345.678-5 and check the "
                                      "digit after the hyphen.")))
    if values["region"] and values["region"] not in chile.REGIONS_BY_CODE:
        problems.append(("region", _("Choose a region from the list.")))
    _check_comuna(values, problems)
    if values["tipo"]:
        try:
            values["tipo"] = TipoOrganizacion(values["tipo"])
        except ValueError:
            problems.append(("tipo", _("Choose a type from the list.")))
    if problems:
        raise PostulacionError.many(problems)

    organizacion = organizacion_of(actor)
    taken = db.session.scalar(sa.select(Organizacion.id).where(
        Organizacion.rut == values["rut"],
        Organizacion.id != (organizacion.id if organizacion else -1),
    ))
    if taken is not None:
        raise _rut_taken()

    before = audit.snapshot(organizacion, ORGANIZACION_FIELDS) if organizacion else None
    if organizacion is None:
        organizacion = Organizacion(owner_id=actor.id)
        db.session.add(organizacion)
    for name, value in values.items():
        setattr(organizacion, name, value)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # another account registered the same RUT at the same moment
        raise _rut_taken() from exc
    after = audit.snapshot(organizacion, ORGANIZACION_FIELDS)
    if before is None:
        audit.record(actor, "organizacion.created", organizacion, after=after)
    elif before != after:
        changed = [k for k in ORGANIZACION_FIELDS if before[k] != after[k]]
        audit.record(actor, "organizacion.updated", organizacion,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return organizacion


class AlreadySent(PostulacionError):
    """The draft was sent by an earlier request (a double click): nothing to do, nothing went wrong."""

    def __init__(self, p: Postulacion) -> None:
        super().__init__(_("Your idea had already been sent; its folio is %(folio)s.", folio=p.folio))
        self.postulacion = p
def _check_comuna(values: dict[str, Any], problems: list[tuple[str | None, str]]) -> None:
    """The comuna must be one of the official list and lie in the chosen region; it is stored under its
    official name."""
    if not values["comuna"]:
        return
    comuna = comunas.find(values["comuna"])
    if comuna is None:
        problems.append(("comuna", _("Choose a commune from the list.")))
        return
    region = values["region"]
    if region in chile.REGIONS_BY_CODE and comuna.region != region:
        problems.append(("comuna", _("%(comuna)s is not in the %(region)s region. Choose a commune of that "
                                     "region, or change the region.", comuna=comuna.name,
                                     region=chile.region_name(region))))
        return
    values["comuna"] = comuna.name


def _rut_taken() -> PostulacionError:
    return PostulacionError(
        _("This RUT is already registered by another account. If the organisation is yours, write to the "
          "Fondo IDEA team so they can help you."), "rut")


# ---------------------------------------------------------------------------
# Read side
# ---------------------------------------------------------------------------


def open_convocatorias(now: datetime | None = None) -> list[Convocatoria]:
    """Published calls that take submissions at `now`, soonest deadline first."""
    now = now or chile.utcnow()
    calls = db.session.scalars(
        sa.select(Convocatoria)
        .where(Convocatoria.published_at.is_not(None), Convocatoria.fase == Fase.POSTULACION)
        .order_by(Convocatoria.submissions_close_at, Convocatoria.id)
    )
    return [c for c in calls if c.accepts_submissions_at(now)]


def postulaciones_of(user: User) -> list[Postulacion]:
    """Every submission of the user's organisation(s), most recently changed first."""
    return list(db.session.scalars(
        sa.select(Postulacion)
        .join(Postulacion.organizacion)
        .where(Organizacion.owner_id == user.id)
        .order_by(Postulacion.updated_at.desc(), Postulacion.id.desc())
        .options(selectinload(Postulacion.convocatoria))
    ))


def count_sent(organizacion_id: int, convocatoria_id: int) -> int:
    """How many submissions the organisation has sent to the call (withdrawn ones and drafts do not count)."""
    return db.session.scalar(
        sa.select(sa.func.count(Postulacion.id)).where(
            Postulacion.organizacion_id == organizacion_id,
            Postulacion.convocatoria_id == convocatoria_id,
            Postulacion.status.in_(SENT_STATES),
        )
    ) or 0


# ---------------------------------------------------------------------------
# Rules of the simple profile
# ---------------------------------------------------------------------------


def _normalize_profile(data: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in PERFIL_FIELDS:
        value = _clean(data.get(name))
        if name in _TEXT_FIELDS:
            value = value or ""
        values[name] = value
    return values


def _check_deadline(convocatoria: Convocatoria, now: datetime) -> None:
    if not (convocatoria.is_published and convocatoria.accepts_submissions_at(now)):
        raise PostulacionError(_("The deadline of this call has passed (or the call is not open): the "
                                 "submission can no longer be sent or changed."))


def _check_profile(convocatoria: Convocatoria, values: dict[str, Any], *, complete: bool) -> Desafio | None:
    """Check the profile's values against the call; `complete` also requires every field. Returns the
    challenge. Values left empty are accepted in a draft; values given must be valid in any case."""
    problems: list[tuple[str | None, str]] = []
    required = PERFIL_FIELDS if complete else ("desafio_id", "title")
    for name in required:
        if values[name] in (None, ""):
            problems.append((name, _("This field is required.")))

    desafio = None
    if values["desafio_id"] is not None:
        try:
            desafio_id = int(values["desafio_id"])
        except (TypeError, ValueError):
            desafio_id = None
        desafio = db.session.get(Desafio, desafio_id) if desafio_id is not None else None
        if desafio is None or desafio.convocatoria_id != convocatoria.id:
            problems.append(("desafio_id", _("Choose one of the challenges of this call.")))
            desafio = None
        else:
            values["desafio_id"] = desafio.id

    region = values["region"]
    if region is not None:
        if region not in chile.REGIONS_BY_CODE:
            problems.append(("region", _("Choose a region from the list.")))
        elif desafio is not None and not desafio.covers_region(region):
            names = ", ".join(chile.region_name(code, code) for code in desafio.region_codes)
            problems.append(("region", _("The challenge you chose only takes ideas for these regions: "
                                         "%(regions)s.", regions=names)))

    _check_comuna(values, problems)

    if values["maturity"] is not None:
        try:
            values["maturity"] = Madurez(values["maturity"])
        except ValueError:
            problems.append(("maturity", _("Choose a maturity level from the list.")))

    amount = values["requested_amount"]
    if amount is not None and not (convocatoria.min_amount <= amount <= convocatoria.max_amount):
        problems.append(("requested_amount", _(
            "The amount must be between %(min)s and %(max)s.",
            min=chile.format_clp(convocatoria.min_amount), max=chile.format_clp(convocatoria.max_amount))))

    count = values["beneficiaries_count"]
    if count is not None and count < 1:
        problems.append(("beneficiaries_count", _("Write how many people the idea would benefit.")))

    if problems:
        raise PostulacionError.many(problems)
    return desafio


def _check_cap(organizacion: Organizacion, convocatoria: Convocatoria) -> None:
    # Lock the organisation's row (PostgreSQL) so two tabs cannot both take the last place.
    db.session.execute(sa.select(Organizacion.id).where(Organizacion.id == organizacion.id).with_for_update())
    if count_sent(organizacion.id, convocatoria.id) >= convocatoria.max_submissions_per_org:
        raise PostulacionError(_(
            "Your organisation has already sent as many submissions as this call accepts (%(num)d). "
            "Withdraw one before sending another.", num=convocatoria.max_submissions_per_org))


def _record_status(p: Postulacion, actor: User, from_status: EstadoPostulacion | None,
                   to_status: EstadoPostulacion) -> None:
    p.historial.append(CambioEstado(from_status=from_status, to_status=to_status, actor_id=actor.id))


def _apply(p: Postulacion, values: dict[str, Any]) -> None:
    for name in PERFIL_FIELDS:
        setattr(p, name, values[name])


# ---------------------------------------------------------------------------
# Drafting, sending, editing
# ---------------------------------------------------------------------------


def create_postulacion(actor: User, convocatoria: Convocatoria, data: Mapping[str, Any], *,
                       submit: bool = False) -> Postulacion:
    """Start a submission for the actor's organisation: saved as a draft, or sent right away when `submit`."""
    now = chile.utcnow()
    organizacion = organizacion_of(actor)
    if organizacion is None:
        raise PostulacionError(_("Register your organisation before writing an idea."))
    _check_deadline(convocatoria, now)
    values = _normalize_profile(data)
    _check_profile(convocatoria, values, complete=submit)
    if submit:
        _check_cap(organizacion, convocatoria)

    p = Postulacion(convocatoria_id=convocatoria.id, organizacion_id=organizacion.id, created_by_id=actor.id,
                    status=EstadoPostulacion.BORRADOR, version=0)
    _apply(p, values)
    _record_status(p, actor, None, EstadoPostulacion.BORRADOR)
    db.session.add(p)
    db.session.flush()
    audit.record(actor, "postulacion.draft_created", p, after=p.profile_data())
    if submit:
        _send(actor, p, now)
    return p


def update_postulacion(actor: User, p: Postulacion, data: Mapping[str, Any], *,
                       submit: bool = False) -> bool:
    """Save the actor's changes to a draft (and send it when `submit`) or to a sent submission.

    A sent submission stays sent; each change to it keeps a new version. Returns whether anything changed.
    """
    now = chile.utcnow()
    _require_owner(actor, p)
    seen_status = p.status
    _lock(p)
    if submit and seen_status == EstadoPostulacion.BORRADOR and p.status != EstadoPostulacion.BORRADOR:
        # A second click on "Submit" (or a replayed request) arrived while the first one was sending.
        raise AlreadySent(p)
    if p.status not in EDITABLE_STATES:
        raise PostulacionError(_("This submission can no longer be changed."))
    _check_deadline(p.convocatoria, now)
    values = _normalize_profile(data)
    sent = p.status == EstadoPostulacion.ENVIADA
    _check_profile(p.convocatoria, values, complete=submit or sent)
    if submit and not sent:
        _check_cap(p.organizacion, p.convocatoria)

    before = p.profile_data()
    _apply(p, values)
    after = p.profile_data()
    changed = [name for name in PERFIL_FIELDS if before[name] != after[name]]
    if sent:
        if changed:
            p.version += 1
            p.versiones.append(PostulacionVersion(number=p.version, data=after, created_by_id=actor.id))
            audit.record(actor, "postulacion.edited", p, before={k: before[k] for k in changed},
                         after={"version": p.version, **{k: after[k] for k in changed}})
        return bool(changed)
    if changed:
        audit.record(actor, "postulacion.draft_saved", p, before={k: before[k] for k in changed},
                     after={k: after[k] for k in changed})
    if submit:
        db.session.flush()
        _send(actor, p, now)
        return True
    return bool(changed)


def _lock(p: Postulacion) -> None:
    """Lock the submission's row until the transaction ends (PostgreSQL) and reload what it holds, so two
    requests changing it at once run one after the other and the second sees what the first did."""
    db.session.scalars(
        sa.select(Postulacion).where(Postulacion.id == p.id).with_for_update()
        .execution_options(populate_existing=True)).one()
def sending_problems(p: Postulacion) -> list[tuple[str | None, str]]:
    """What stops the draft `p` from being sent as it stands (missing or invalid answers), without changing
    it: the review page lists these, and `send_postulacion` refuses with the same ones."""
    try:
        _check_profile(p.convocatoria, _normalize_profile(p.profile_data()), complete=True)
    except PostulacionError as error:
        return error.problems
    return []


def send_postulacion(actor: User, p: Postulacion) -> None:
    """Send the actor's draft as it was saved (the "Enviar postulación" button of the review page).

    The same operation as saving with `submit`: owner, state, deadline, every field, the call's rules and
    the organisation's cap are checked again here, whatever the review page showed.
    """
    _require_owner(actor, p)
    if p.status != EstadoPostulacion.BORRADOR:
        raise PostulacionError(_("This submission was already sent."))
    update_postulacion(actor, p, p.profile_data(), submit=True)


def _send(actor: User, p: Postulacion, now: datetime) -> None:
    """Give a checked draft its folio and send it: version 1, status history, audit, receipt e-mail."""
    _assign_folio(p, now)
    p.version = 1
    p.versiones.append(PostulacionVersion(number=1, data=p.profile_data(), created_by_id=actor.id))
    _record_status(p, actor, EstadoPostulacion.BORRADOR, EstadoPostulacion.ENVIADA)
    db.session.flush()
    audit.record(actor, "postulacion.submitted", p, before={"status": EstadoPostulacion.BORRADOR.value},
                 after={"status": p.status.value, "folio": p.folio, **p.profile_data()})
    send_email_to(actor, _l("We received your idea: folio %(folio)s", folio=p.folio), "submission_receipt",
                  postulacion=p, convocatoria=p.convocatoria, desafio=p.desafio,
                  region_name=chile.region_name(p.region, p.region or ""),
                  link=external_url("convocatorias_applicant.detail", postulacion_id=p.id))


def take_folio_number(convocatoria: Convocatoria) -> int:
    """Take the next number under the call's folio prefix from its counter row, locked until the
    transaction ends.

    Concurrent submissions wait on the lock (PostgreSQL; SQLite serialises writers anyway) instead of racing
    for max()+1, and a rolled-back submission gives its number back. Calls of the same year share the
    prefix and so the counter: their folios never collide.
    """
    prefix = convocatoria.folio_prefix
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The first folio under a prefix creates its counter, starting after any number already given under it.
    highest = sa.func.coalesce(sa.func.max(Postulacion.folio_number), 0)
    seed = (sa.select(sa.literal(prefix), highest)
            .join(Convocatoria, Convocatoria.id == Postulacion.convocatoria_id)
            .where(Convocatoria.year == convocatoria.year))
    db.session.execute(
        insert(ContadorFolio).from_select(["prefix", "last_number"], seed).on_conflict_do_nothing())
    counter = db.session.scalars(
        sa.select(ContadorFolio).where(ContadorFolio.prefix == prefix)
        .with_for_update().execution_options(populate_existing=True)
    ).one()
    counter.last_number += 1
    return counter.last_number


def _assign_folio(p: Postulacion, now: datetime) -> None:
    """Give the submission the next folio of its call and mark it sent."""
    number = take_folio_number(p.convocatoria)
    p.folio_number = number
    p.folio = f"{p.convocatoria.folio_prefix}{number:04d}"
    p.status = EstadoPostulacion.ENVIADA
    p.submitted_at = now


def withdraw_postulacion(actor: User, p: Postulacion) -> None:
    """Withdraw a sent submission before the deadline; it keeps its folio and leaves the competition."""
    now = chile.utcnow()
    _require_owner(actor, p)
    if p.status != EstadoPostulacion.ENVIADA:
        raise PostulacionError(_("Only a sent submission can be withdrawn."))
    _check_deadline(p.convocatoria, now)
    _record_status(p, actor, p.status, EstadoPostulacion.RETIRADA)
    p.status = EstadoPostulacion.RETIRADA
    p.withdrawn_at = now
    audit.record(actor, "postulacion.withdrawn", p, before={"status": EstadoPostulacion.ENVIADA.value},
                 after={"status": p.status.value, "folio": p.folio})


def delete_draft(actor: User, p: Postulacion) -> None:
    """Delete a draft that was never sent, with its attachments."""
    _require_owner(actor, p)
    if p.status != EstadoPostulacion.BORRADOR:
        raise PostulacionError(_("Only a draft can be deleted. A sent submission can be withdrawn."))
    audit.record(actor, "postulacion.draft_deleted", p, before=p.profile_data())
    for adjunto in p.adjuntos:
        uploads.remove_after_commit(adjunto.stored_name)
    db.session.delete(p)
    db.session.flush()


def _require_owner(actor: User, p: Postulacion) -> None:
    if not is_owner(actor, p):
        raise PermissionError("only the organisation's owner may change its submissions")


# ---------------------------------------------------------------------------
# Attachments
# ---------------------------------------------------------------------------


def add_adjunto(actor: User, p: Postulacion, stream: BinaryIO, filename: str | None) -> Adjunto:
    """Attach a PDF, PNG or JPEG file (at most 10 MB, at most five per submission) until the deadline."""
    now = chile.utcnow()
    _require_owner(actor, p)
    if p.status not in EDITABLE_STATES:
        raise PostulacionError(_("This submission can no longer be changed."), "archivo")
    try:
        _check_deadline(p.convocatoria, now)
    except PostulacionError as error:
        raise PostulacionError(error.message, "archivo") from None
    if len(p.adjuntos) >= uploads.MAX_FILES_PER_POSTULACION:
        raise PostulacionError(_("A submission can have at most %(num)d attachments. Delete one to add "
                                 "another.", num=uploads.MAX_FILES_PER_POSTULACION), "archivo")
    try:
        stored = uploads.store_upload(stream, filename)
    except uploads.UploadError as error:
        raise PostulacionError(error.message, "archivo") from None
    adjunto = Adjunto(original_name=stored.original_name, stored_name=stored.stored_name,
                      content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                      uploaded_by_id=actor.id, uploaded_at=now)
    p.adjuntos.append(adjunto)
    db.session.flush()
    audit.record(actor, "adjunto.uploaded", adjunto, after={
        "postulacion_id": p.id, "original_name": adjunto.original_name, "content_type": adjunto.content_type,
        "size": adjunto.size, "sha256": adjunto.sha256})
    return adjunto


def delete_adjunto(actor: User, adjunto: Adjunto) -> None:
    """Remove an attachment until the deadline; its file goes once the deletion is committed."""
    now = chile.utcnow()
    p = adjunto.postulacion
    _require_owner(actor, p)
    if p.status not in EDITABLE_STATES:
        raise PostulacionError(_("This submission can no longer be changed."))
    _check_deadline(p.convocatoria, now)
    audit.record(actor, "adjunto.deleted", adjunto, before={
        "postulacion_id": p.id, "original_name": adjunto.original_name, "sha256": adjunto.sha256})
    uploads.remove_after_commit(adjunto.stored_name)
    p.adjuntos.remove(adjunto)
    db.session.flush()
