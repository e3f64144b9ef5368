"""The applicant area: organisation profile, "Mis postulaciones", the simple-profile form and attachments.

Views only load, check access, call an operation of `convocatorias.postulaciones` and render or redirect;
another person's submission answers 404, and a refused form is shown again with status 422.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user

from convocatorias import permissions, postulaciones, uploads
from convocatorias.forms import AdjuntoForm, OrganizacionForm, PostulacionForm
from convocatorias.models import Adjunto, Convocatoria, EstadoPostulacion, Postulacion
from convocatorias.postulaciones import PostulacionError
from idea import add_nav_provider, add_start_provider, chile
from idea.auth import safe_next
from idea.extensions import db
from idea.forms import EmptyForm
from idea.models import User
from idea.params import id_param
from idea.permissions import LOGGED_IN, access

bp = Blueprint("convocatorias_applicant", __name__)

INVALID = 422
TEMPLATES = "convocatorias/applicant/"


def _nav(user: Any) -> list[dict[str, str]]:
    # Staff-only accounts (invited, without the applicant role) have no submissions of their own.
    if not getattr(user, "is_authenticated", False) or not user.is_applicant:
        return []
    return [{"url": url_for("convocatorias_applicant.index"), "label": _("My submissions")}]


def _start(user: Any) -> list[dict[str, Any]]:
    if not getattr(user, "is_authenticated", False) or not user.is_applicant:
        return []
    return [{"url": url_for("convocatorias_applicant.index"), "label": _("My submissions"),
             "description": _("Your organisation, your drafts and the ideas you sent, with their status.")}]


@bp.record_once
def _register_nav(state: BlueprintSetupState) -> None:
    add_nav_provider(state.app, _nav)
    add_start_provider(state.app, _start)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    # The labels of statuses, maturity and organisation types come from convocatorias.labels (app-wide).
    return {"file_size": _file_size}


def _file_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} KB"


# --- helpers --------------------------------------------------------------------------------------------

def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _viewable(postulacion_id: int) -> Postulacion:
    p = db.session.get(Postulacion, postulacion_id)
    if p is None or not permissions.can_view_postulacion(_actor(), p):
        abort(404)
    return p


def _own(postulacion_id: int) -> Postulacion:
    """A submission the current user owns; staff who may only look get 403, everybody else 404."""
    p = _viewable(postulacion_id)
    if not permissions.is_owner(_actor(), p):
        abort(403)
    return p


def _show_errors(form: Any, error: PostulacionError) -> None:
    for name, message in error.problems:
        field = getattr(form, name, None) if name else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


def _render_detail(p: Postulacion, status: int = 200, upload_form: AdjuntoForm | None = None) -> Any:
    actor, now = _actor(), chile.utcnow()
    closed = p.status in permissions.EDITABLE_STATES and not permissions.within_deadline(p, now)
    return render_template(
        TEMPLATES + "detail.html", p=p, closed=closed,
        can_edit=permissions.can_edit_postulacion(actor, p, now),
        can_withdraw=permissions.can_withdraw_postulacion(actor, p, now),
        can_delete=permissions.can_delete_postulacion(actor, p),
        upload_form=upload_form or AdjuntoForm(formdata=None),
        max_files=uploads.MAX_FILES_PER_POSTULACION,
    ), status


def _render_form(form: PostulacionForm, convocatoria: Convocatoria, p: Postulacion | None,
                 status: int) -> Any:
    now = chile.utcnow()
    return render_template(
        TEMPLATES + "form.html", form=form, convocatoria=convocatoria, p=p,
        can_upload=p is not None and permissions.can_manage_adjuntos(_actor(), p, now),
        upload_form=AdjuntoForm(formdata=None), max_files=uploads.MAX_FILES_PER_POSTULACION,
        plazo_abierto=convocatoria.is_published and convocatoria.accepts_submissions_at(now),
    ), status


# --- organisation ---------------------------------------------------------------------------------------

@bp.route("/mi-organizacion", methods=["GET", "POST"])
@access(LOGGED_IN)
def organizacion() -> Any:
    actor = _actor()
    current = postulaciones.organizacion_of(actor)
    form = OrganizacionForm(obj=current)
    if current is not None and not form.is_submitted():
        form.rut.data = chile.format_rut(current.rut)
    if form.validate_on_submit():
        try:
            postulaciones.save_organizacion(actor, form.data)
        except PostulacionError as error:
            _show_errors(form, error)
        else:
            flash(_("Your organisation was saved."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for(".organizacion"))
    return render_template(TEMPLATES + "organizacion.html", form=form, organizacion=current,
                           next=safe_next(request.args.get("next"))), INVALID if form.is_submitted() else 200


# --- submissions ----------------------------------------------------------------------------------------

@bp.route("/mis-postulaciones")
@access(LOGGED_IN)
def index() -> Any:
    actor = _actor()
    return render_template(TEMPLATES + "index.html", postulaciones=postulaciones.postulaciones_of(actor),
                           organizacion=postulaciones.organizacion_of(actor),
                           convocatorias=postulaciones.open_convocatorias())


@bp.route("/mis-postulaciones/nueva", methods=["GET", "POST"])
@access(LOGGED_IN)
def new() -> Any:
    actor = _actor()
    convocatoria_id = id_param("convocatoria")
    if convocatoria_id is None:
        return _render_choose_call()
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not convocatoria.is_published:
        abort(404)
    organizacion = postulaciones.organizacion_of(actor)
    if organizacion is None:
        flash(_("Before writing your idea, tell us about your organisation or group."), "info")
        # Back to this very address afterwards (not url_for(**request.args): a parameter named like one of
        # url_for's own, such as `endpoint` or `_scheme`, would break it).
        return redirect(url_for(".organizacion", next=request.full_path))
    if request.method == "GET" and not convocatoria.accepts_submissions_at(chile.utcnow()):
        flash(_("The call “%(title)s” is not taking submissions.", title=convocatoria.title), "error")
        return _render_choose_call()

    form = PostulacionForm(convocatoria)
    if not form.is_submitted():
        form.region.data, form.comuna.data = organizacion.region, organizacion.comuna
        form.desafio_id.data = request.args.get("desafio", "")
    if form.validate_on_submit():
        try:
            p = postulaciones.create_postulacion(actor, convocatoria, form.profile_data(),
                                                 submit=bool(form.submit.data))
            _attach_chosen_files(p, form)
        except PostulacionError as error:
            _show_errors(form, error)
        else:
            return _after_save(p, form, sent_now=bool(form.submit.data))
    return _render_form(form, convocatoria, None, INVALID if form.is_submitted() else 200)


def _attach_chosen_files(p: Postulacion, form: PostulacionForm) -> bool:
    """Attach the files chosen in the form itself; a refused file refuses the whole save (the request rolls
    back), so the person is told and chooses again rather than finding half their work stored."""
    files = form.archivo.data or []
    for file in files:
        postulaciones.add_adjunto(_actor(), p, file.stream, file.filename)
    return bool(files)


def _after_save(p: Postulacion, form: PostulacionForm, *, sent_now: bool = False,
                changed: bool = True) -> Any:
    if form.review.data and p.status == EstadoPostulacion.BORRADOR:
        return redirect(url_for(".review", postulacion_id=p.id))
    _flash_saved(p, sent_now=sent_now, changed=changed)
    return redirect(url_for(".detail", postulacion_id=p.id))


def _render_choose_call() -> Any:
    return render_template(TEMPLATES + "choose_call.html", convocatorias=postulaciones.open_convocatorias())


def _flash_saved(p: Postulacion, *, sent_now: bool = False, changed: bool = True) -> None:
    if sent_now:
        flash(_("Your idea was sent. Its folio is %(folio)s; we also sent you a receipt by e-mail.",
                folio=p.folio), "success")
    elif p.status == EstadoPostulacion.ENVIADA:
        if changed:
            flash(_("Your changes were saved (version %(num)d).", num=p.version), "success")
        else:
            flash(_("There were no changes to save."), "info")
    else:
        flash(_("Your draft was saved. Remember to send it before the deadline."), "success")


@bp.route("/mis-postulaciones/<int:postulacion_id>")
@access(LOGGED_IN)
def detail(postulacion_id: int) -> Any:
    return _render_detail(_viewable(postulacion_id))


@bp.route("/mis-postulaciones/<int:postulacion_id>/editar", methods=["GET", "POST"])
@access(LOGGED_IN)
def edit(postulacion_id: int) -> Any:
    actor = _actor()
    p = _own(postulacion_id)
    if request.method == "GET" and not permissions.can_edit_postulacion(actor, p, chile.utcnow()):
        flash(_("This submission can no longer be changed: the deadline has passed or it is no longer "
                "open for changes."), "info")
        return redirect(url_for(".detail", postulacion_id=p.id))
    form = PostulacionForm(p.convocatoria, obj=p)
    if form.validate_on_submit():
        was_draft = p.status == EstadoPostulacion.BORRADOR
        submit = bool(form.submit.data)
        try:
            attached = _attach_chosen_files(p, form)
            changed = postulaciones.update_postulacion(actor, p, form.profile_data(), submit=submit)
        except postulaciones.AlreadySent as done:
            flash(done.message, "info")
            return redirect(url_for(".detail", postulacion_id=p.id))
        except PostulacionError as error:
            _show_errors(form, error)
        else:
            return _after_save(p, form, sent_now=was_draft and submit, changed=changed or attached)
    return _render_form(form, p.convocatoria, p, INVALID if form.is_submitted() else 200)


# --- review, send, confirmation --------------------------------------------------------------------------

@bp.route("/mis-postulaciones/<int:postulacion_id>/revisar")
@access(LOGGED_IN)
def review(postulacion_id: int) -> Any:
    """"Revisa tu postulación": each answer with a link to change it, the attachments, the send button."""
    p = _own(postulacion_id)
    if p.status != EstadoPostulacion.BORRADOR:
        return redirect(url_for(".sent" if p.folio else ".detail", postulacion_id=p.id))
    if not permissions.can_edit_postulacion(_actor(), p, chile.utcnow()):
        flash(_("This submission can no longer be changed: the deadline has passed or it is no longer "
                "open for changes."), "info")
        return redirect(url_for(".detail", postulacion_id=p.id))
    return _render_review(p, postulaciones.sending_problems(p), EmptyForm(), 200)


def _render_review(p: Postulacion, problems: list[tuple[str | None, str]], form: EmptyForm,
                   status: int) -> Any:
    edit = url_for(".edit", postulacion_id=p.id)
    return render_template(TEMPLATES + "review.html", p=p, form=form, page_errors=[
        {"message": message, "href": f"{edit}#{_field_anchor(name)}" if name else ""}
        for name, message in problems]), status


def _field_anchor(name: str) -> str:
    # The id of the control on the edit page; a group of radios is reached through its first option.
    return f"{name}-0" if name == "maturity" else name


@bp.route("/mis-postulaciones/<int:postulacion_id>/enviar", methods=["POST"])
@access(LOGGED_IN)
def send(postulacion_id: int) -> Any:
    p = _own(postulacion_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if p.status == EstadoPostulacion.ENVIADA:  # a second click, or the page sent again from history
        return redirect(url_for(".sent", postulacion_id=p.id))
    try:
        postulaciones.send_postulacion(_actor(), p)
    except PostulacionError as error:
        return _render_review(p, error.problems, form, INVALID)
    return redirect(url_for(".sent", postulacion_id=p.id))


@bp.route("/mis-postulaciones/<int:postulacion_id>/enviada")
@access(LOGGED_IN)
def sent(postulacion_id: int) -> Any:
    """The confirmation panel with the folio, what happens next and when, printable as the receipt."""
    p = _own(postulacion_id)
    if p.folio is None:
        return redirect(url_for(".detail", postulacion_id=p.id))
    return render_template(TEMPLATES + "sent.html", p=p, next_steps=_next_steps(p.convocatoria))


def _next_steps(c: Convocatoria) -> list[dict[str, Any]]:
    """The call's coming phases that have a date, in order: what happens and by when."""
    steps = [
        (c.submissions_close_at, _("Submissions close. Until then you can change or withdraw your idea.")),
        (c.admissibility_end_at, _("We check that your idea meets the requirements of the call "
                                   "(admissibility) and tell you the result by e-mail.")),
        (c.evaluation_end_at, _("A team of reviewers evaluates the admissible ideas.")),
        (c.vote_open_at, _("The public vote opens.")),
        (c.committee_at, _("The committee chooses the ideas that become pilots.")),
    ]
    # The deadline is to the minute; the later steps are days.
    return [{"at": at, "text": text, "with_time": at is c.submissions_close_at}
            for at, text in steps if at is not None]


@bp.route("/mis-postulaciones/<int:postulacion_id>/retirar", methods=["GET", "POST"])
@access(LOGGED_IN)
def withdraw(postulacion_id: int) -> Any:
    p = _own(postulacion_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            postulaciones.withdraw_postulacion(_actor(), p)
        except PostulacionError as error:
            flash(error.message, "error")
            return _render_confirm(p, form, "withdraw", INVALID)
        flash(_("Your submission %(folio)s was withdrawn.", folio=p.folio), "success")
        return redirect(url_for(".detail", postulacion_id=p.id))
    if not permissions.can_withdraw_postulacion(_actor(), p, chile.utcnow()):
        flash(_("This submission cannot be withdrawn: only a sent submission can, and only before the "
                "deadline."), "info")
        return redirect(url_for(".detail", postulacion_id=p.id))
    return _render_confirm(p, form, "withdraw", INVALID if form.is_submitted() else 200)


@bp.route("/mis-postulaciones/<int:postulacion_id>/eliminar", methods=["GET", "POST"])
@access(LOGGED_IN)
def delete(postulacion_id: int) -> Any:
    p = _own(postulacion_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            postulaciones.delete_draft(_actor(), p)
        except PostulacionError as error:
            flash(error.message, "error")
            return _render_confirm(p, form, "delete", INVALID)
        flash(_("The draft was deleted."), "success")
        return redirect(url_for(".index"))
    if not permissions.can_delete_postulacion(_actor(), p):
        flash(_("Only a draft can be deleted."), "info")
        return redirect(url_for(".detail", postulacion_id=p.id))
    return _render_confirm(p, form, "delete", INVALID if form.is_submitted() else 200)


def _render_confirm(p: Postulacion, form: EmptyForm, action: str, status: int) -> Any:
    return render_template(TEMPLATES + "confirm.html", p=p, form=form, action=action), status


# --- attachments ----------------------------------------------------------------------------------------

@bp.route("/mis-postulaciones/<int:postulacion_id>/adjuntos", methods=["POST"])
@access(LOGGED_IN)
def upload(postulacion_id: int) -> Any:
    p = _own(postulacion_id)
    form = AdjuntoForm()
    if form.validate_on_submit():
        file = form.archivo.data
        try:
            adjunto = postulaciones.add_adjunto(_actor(), p, file.stream, file.filename)
        except PostulacionError as error:
            _show_errors(form, error)
        else:
            flash(_("The file “%(name)s” was attached.", name=adjunto.original_name), "success")
            target = ".edit" if request.form.get("back") == "edit" else ".detail"
            return redirect(url_for(target, postulacion_id=p.id) + "#adjuntos")
    return _render_detail(p, INVALID, upload_form=form)


@bp.route("/mis-postulaciones/adjuntos/<int:adjunto_id>")
@access(LOGGED_IN)
def download(adjunto_id: int) -> Any:
    adjunto = db.session.get(Adjunto, adjunto_id)
    if adjunto is None or not permissions.can_download_adjunto(_actor(), adjunto):
        abort(404)
    path = uploads.path_for(adjunto.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(path, as_attachment=True, download_name=adjunto.original_name,
                         mimetype=adjunto.content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/mis-postulaciones/adjuntos/<int:adjunto_id>/eliminar", methods=["POST"])
@access(LOGGED_IN)
def delete_attachment(adjunto_id: int) -> Any:
    adjunto = db.session.get(Adjunto, adjunto_id)
    if adjunto is None:
        abort(404)
    p = _own(adjunto.postulacion_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        postulaciones.delete_adjunto(_actor(), adjunto)
    except PostulacionError as error:
        flash(error.message, "error")
        return _render_detail(p, INVALID)
    flash(_("The file was deleted."), "success")
    return redirect(url_for(".detail", postulacion_id=p.id) + "#adjuntos")
