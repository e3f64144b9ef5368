"""The committee's session pages: sessions of a call, the session (attendance, solver, overrides, decisions,
closing), the solver's JSON document and the acta (HTML, PDF, XLSX).

Committee members of the call and admins act; the call's technical leads may read. A closed session refuses
every change (a replayed POST too) with a message, and writes nothing.
"""

from __future__ import annotations

import io
import json
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from convocatorias.models import Convocatoria, EstadoPostulacion, Postulacion
from evaluacion import comite, comite_acta, comite_permissions, comite_ranking
from evaluacion.comite_models import (
    CorridaSolver,
    Objetivo,
    Override,
    OverrideComite,
    Resultado,
    SesionComite,
)
from evaluacion.comite_sesion_forms import (
    OBJECTIVE_LABELS,
    OUTCOME_LABELS,
    OVERRIDE_LABELS,
    ApplyForm,
    AttendanceForm,
    CloseForm,
    DecisionForm,
    OpenSessionForm,
    OverrideForm,
    SolverForm,
)
from evaluacion.queries import ListPage
from idea import audit, chile
from idea.extensions import db
from idea.models import Role
from idea.params import page_param, parse_int
from idea.permissions import access, roles

bp = Blueprint("comite_sesiones", __name__, url_prefix="/comite/convocatorias/<int:convocatoria_id>/sesiones")

READERS = roles(Role.COMITE, Role.ENCARGADO_TECNICO)
WORKERS = roles(Role.COMITE)
PER_PAGE = 50


def _call(convocatoria_id: int, *, write: bool = False) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None:
        abort(404)
    if not (comite.can_work if write else comite.can_read)(current_user, convocatoria):
        abort(403)
    return convocatoria


def _session(convocatoria_id: int, sesion_id: int, *, write: bool = False) -> SesionComite:
    convocatoria = _call(convocatoria_id, write=write)
    sesion = db.session.get(SesionComite, sesion_id)
    if sesion is None or sesion.convocatoria_id != convocatoria.id:
        abort(404)
    return sesion


def _back(sesion: SesionComite, anchor: str = "") -> Any:
    url = url_for(".session", convocatoria_id=sesion.convocatoria_id, sesion_id=sesion.id)
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _refused(error: comite.ComiteError, sesion: SesionComite | None = None, convocatoria: Any = None) -> Any:
    db.session.rollback()
    convocatoria = convocatoria or (sesion.convocatoria if sesion else None)
    return render_template(
        "evaluacion/comite_sesion/refused.html",
        convocatoria=convocatoria,
        sesion=sesion,
        messages=error.messages,
    ), 409


def _invalid(form: Any, sesion: SesionComite | None = None, convocatoria: Any = None) -> Any:
    messages = [
        f"{getattr(form, name).label.text}: {err}"
        for name, errs in form.errors.items()
        for err in errs
        if hasattr(form, name)
    ] or [_("The form could not be read; reload the page and try again.")]
    return _refused(comite.ComiteError(*messages), sesion, convocatoria)


def _labels() -> dict[str, Any]:
    return {
        "objective_labels": {k.value: str(v) for k, v in OBJECTIVE_LABELS.items()},
        "outcome_labels": {k.value: str(v) for k, v in OUTCOME_LABELS.items()},
        "override_labels": {k.value: str(v) for k, v in OVERRIDE_LABELS.items()},
    }


# --- sessions of a call ----------------------------------------------------------------------------------


@bp.route("")
@access(READERS)
def index(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    sesiones = comite.sessions_of(convocatoria.id)
    return render_template(
        "evaluacion/comite_sesion/sessions.html",
        convocatoria=convocatoria,
        sesiones=sesiones,
        form=OpenSessionForm(),
        can_work=comite.can_work(current_user, convocatoria),
        has_open=any(not s.is_closed for s in sesiones),
    )


@bp.route("/abrir", methods=["POST"])
@access(WORKERS)
def open_session(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id, write=True)
    form = OpenSessionForm()
    if not form.validate_on_submit():
        return _invalid(form, convocatoria=convocatoria)
    try:
        sesion = comite.open_session(current_user, convocatoria, form.place.data or "", form.notes.data or "")
    except comite.ComiteError as error:
        return _refused(error, convocatoria=convocatoria)
    db.session.commit()
    flash(_("Session %(number)d opened.", number=sesion.number), "success")
    return _back(sesion)


# --- one session -----------------------------------------------------------------------------------------


def _comparison(runs: dict[str, CorridaSolver], folios: dict[int, str]) -> list[dict[str, Any]]:
    """Both objectives side by side: figures, and what each selects that the other does not."""
    sets = {k: set(r.document.get("selected", [])) for k, r in runs.items()}
    out = []
    for objective in (Objetivo.RANK.value, Objetivo.TOTAL.value):
        run = runs.get(objective)
        if run is None:
            continue
        other = Objetivo.TOTAL.value if objective == Objetivo.RANK.value else Objetivo.RANK.value
        doc = run.document
        result = doc.get("result", {})
        only = sorted(sets[objective] - sets.get(other, sets[objective]))
        out.append(
            {
                "run": run,
                "objective": objective,
                "doc": doc,
                "result": result,
                "selected": len(doc.get("selected", [])),
                "only_here": [folios.get(i, str(i)) for i in only],
                "has_other": other in runs,
                "explanations": [
                    (folios.get(e["id"], str(e["id"])), e["message"]) for e in result.get("explanations", [])
                ],
            }
        )
    return out


@bp.route("/<int:sesion_id>")
@access(READERS)
def session(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id)
    convocatoria = sesion.convocatoria
    ranking = comite_ranking.final_ranking(convocatoria)
    folios = {r.postulacion_id: r.folio for r in ranking}
    decisions = comite.decisions_of(sesion.id)
    members = comite.members_of(convocatoria.id)
    attendance = AttendanceForm(data={"present": [a.user_id for a in sesion.asistentes]})
    attendance.present.choices = [(u.id, u.name) for u in members]
    mine = comite_permissions.recused_ids(current_user, convocatoria.id)
    solver_form = SolverForm(data={"objective": comite.ensure_reglas(convocatoria).objective.value})
    listed = ListPage.of(ranking, page_param(), PER_PAGE)
    return render_template(
        "evaluacion/comite_sesion/session.html",
        convocatoria=convocatoria,
        sesion=sesion,
        reglas=comite.ensure_reglas(convocatoria),
        quorum=comite.quorum_of(sesion),
        members=members,
        attendance=attendance,
        solver_form=solver_form,
        comparison=_comparison(comite.latest_runs(sesion.id), folios),
        overrides=comite.overrides_of(sesion.id),
        override_form=OverrideForm(),
        apply_form=ApplyForm(),
        listed=listed,
        decisions=decisions,
        undecided=sum(1 for r in ranking if r.postulacion_id not in decisions),
        recused=mine,
        can_work=comite.can_work(current_user, convocatoria),
        close_form=CloseForm(),
        decision_form=DecisionForm,
        **_labels(),
    )


@bp.route("/<int:sesion_id>/asistentes", methods=["POST"])
@access(WORKERS)
def attendance(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id, write=True)
    form = AttendanceForm()
    form.present.choices = [(u.id, u.name) for u in comite.members_of(sesion.convocatoria_id)]
    if not form.validate_on_submit():
        return _invalid(form, sesion)
    try:
        comite.set_attendance(current_user, sesion, form.present.data or [])
    except comite.ComiteError as error:
        return _refused(error, sesion)
    db.session.commit()
    flash(_("Attendance recorded."), "success")
    return _back(sesion, "asistencia")


@bp.route("/<int:sesion_id>/solver", methods=["POST"])
@access(WORKERS)
def solve(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id, write=True)
    form = SolverForm()
    if not form.validate_on_submit():
        return _invalid(form, sesion)
    try:
        comite.run_solver(current_user, sesion, form.objective.data)
    except comite.ComiteError as error:
        return _refused(error, sesion)
    db.session.commit()
    flash(_("The solver ran for both objectives."), "success")
    return _back(sesion, "propuestas")


@bp.route("/<int:sesion_id>/overrides", methods=["POST"])
@access(WORKERS)
def add_override(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id, write=True)
    form = OverrideForm()
    if not form.validate_on_submit():
        return _invalid(form, sesion)
    folio = (form.folio.data or "").strip().upper()
    postulacion = db.session.scalar(
        sa.select(Postulacion).where(
            Postulacion.convocatoria_id == sesion.convocatoria_id,
            Postulacion.folio == folio,
            Postulacion.status == EstadoPostulacion.ADMISIBLE,
        )
    )
    try:
        comite.add_override(current_user, sesion, postulacion, form.kind.data, form.reason.data or "")
    except comite.ComiteError as error:
        return _refused(error, sesion)
    db.session.commit()
    flash(_("Override saved. Run the solver again to see its effect."), "success")
    return _back(sesion, "overrides")


@bp.route("/<int:sesion_id>/overrides/<int:override_id>/quitar", methods=["POST"])
@access(WORKERS)
def remove_override(convocatoria_id: int, sesion_id: int, override_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id, write=True)
    override = db.session.get(OverrideComite, override_id)
    if override is None or override.sesion_id != sesion.id:
        abort(404)
    try:
        comite.remove_override(current_user, sesion, override)
    except comite.ComiteError as error:
        return _refused(error, sesion)
    db.session.commit()
    flash(_("Override removed."), "success")
    return _back(sesion, "overrides")


@bp.route("/<int:sesion_id>/propuesta", methods=["POST"])
@access(WORKERS)
def apply(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id, write=True)
    form = ApplyForm()
    if not form.validate_on_submit():
        return _invalid(form, sesion)
    run_id = parse_int(form.corrida.data, minimum=1)
    run = db.session.get(CorridaSolver, run_id) if run_id else None
    if run is None or run.sesion_id != sesion.id:
        abort(404)
    try:
        applied = comite.apply_proposal(current_user, sesion, run)
    except comite.ComiteError as error:
        return _refused(error, sesion)
    db.session.commit()
    flash(_("%(num)d decisions filled from the proposal.", num=applied.decided), "success")
    if applied.skipped_recused:
        flash(
            _(
                "You are recused from %(folios)s: another member must decide on them.",
                folios=", ".join(applied.skipped_recused),
            ),
            "warning",
        )
    return _back(sesion, "decisiones")


@bp.route("/<int:sesion_id>/decisiones/<int:postulacion_id>", methods=["POST"])
@access(WORKERS)
def decide(convocatoria_id: int, sesion_id: int, postulacion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id, write=True)
    postulacion = db.session.get(Postulacion, postulacion_id)
    if postulacion is None or postulacion.convocatoria_id != sesion.convocatoria_id:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _invalid(form, sesion)
    try:
        comite.decide(current_user, sesion, postulacion, form.outcome.data, form.reason.data or "")
    except comite.ComiteError as error:
        return _refused(error, sesion)
    db.session.commit()
    flash(_("Decision on %(folio)s saved.", folio=postulacion.folio), "success")
    return _back(sesion, f"p{postulacion.id}")


@bp.route("/<int:sesion_id>/cerrar", methods=["POST"])
@access(WORKERS)
def close(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id, write=True)
    form = CloseForm()
    if sesion.is_closed:  # a replayed POST: say so rather than that the box is unticked
        return _refused(
            comite.ComiteError(
                _("Session %(number)d is closed: its decisions can no longer change.", number=sesion.number)
            ),
            sesion,
        )
    if not form.validate_on_submit():
        return _invalid(form, sesion)
    try:
        comite.close_session(current_user, sesion)
    except comite.ComiteError as error:
        return _refused(error, sesion)
    db.session.commit()
    flash(_("Session %(number)d closed. The acta is ready.", number=sesion.number), "success")
    return _back(sesion)


# --- documents -------------------------------------------------------------------------------------------


@bp.route("/<int:sesion_id>/corridas/<int:corrida_id>.json")
@access(READERS)
def run_document(convocatoria_id: int, sesion_id: int, corrida_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id)
    run = db.session.get(CorridaSolver, corrida_id)
    if run is None or run.sesion_id != sesion.id:
        abort(404)
    data = json.dumps(run.document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    audit.record(current_user, "comite.solver_document_downloaded", run)
    db.session.commit()
    response = send_file(
        io.BytesIO(data),
        mimetype="application/json",
        as_attachment=True,
        download_name=f"seleccion-sesion{sesion.number}-{run.objective.value}-{run.id}.json",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _acta_context(sesion: SesionComite) -> dict[str, Any]:
    acta = comite_acta.gather(sesion)
    folios = {r.postulacion_id: r.folio for r in acta.ranking}
    return {
        "acta": acta,
        "convocatoria": sesion.convocatoria,
        "sesion": sesion,
        "folios": folios,
        **_labels(),
    }


@bp.route("/<int:sesion_id>/acta")
@access(READERS)
def acta(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id)
    return render_template("evaluacion/comite_sesion/acta.html", **_acta_context(sesion))


@bp.route("/<int:sesion_id>/acta.pdf")
@access(READERS)
def acta_pdf(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id)
    html = render_template("evaluacion/comite_sesion/acta_print.html", **_acta_context(sesion))
    data = comite_acta.pdf_bytes(html)
    audit.record(current_user, "comite.acta_downloaded", sesion, after={"format": "pdf"})
    db.session.commit()
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"acta-comite-{sesion.convocatoria.slug}-sesion{sesion.number}.pdf",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:sesion_id>/acta.xlsx")
@access(READERS)
def acta_xlsx(convocatoria_id: int, sesion_id: int) -> Any:
    sesion = _session(convocatoria_id, sesion_id)
    acta = comite_acta.gather(sesion)
    labels = _labels()
    data = comite_acta.xlsx_bytes(acta, _xlsx_labels(labels))
    audit.record(current_user, "comite.acta_downloaded", sesion, after={"format": "xlsx"})
    db.session.commit()
    response = send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"acta-comite-{sesion.convocatoria.slug}-sesion{sesion.number}.xlsx",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _xlsx_labels(labels: dict[str, Any]) -> dict[str, Any]:
    return {
        "sheet_session": _("Session"),
        "sheet_members": _("Members"),
        "sheet_solver": _("Solver"),
        "sheet_decisions": _("Decisions"),
        "call": _("Call"),
        "session": _("Session"),
        "status": _("Status"),
        "closed": _("Closed"),
        "draft": _("Draft (session open)"),
        "opened_at": _("Opened at"),
        "closed_at": _("Closed at"),
        "place": _("Place"),
        "budget": _("Budget (CLP)"),
        "vote_weight": _("Vote weight (%)"),
        "min_score": _("Minimum final score"),
        "objective": _("Objective"),
        "max_per_challenge": _("Maximum per challenge"),
        "max_count": _("Maximum number of projects"),
        "quorum": _("Quorum"),
        "member": _("Member present"),
        "email": _("Email"),
        "recused_member": _("Recused member"),
        "recused_from": _("Recused from"),
        "run": _("Run"),
        "created_at": _("Run at"),
        "input_sha256": _("Input SHA-256"),
        "feasible": _("Feasible"),
        "selected": _("Selected"),
        "objective_value": _("Objective value"),
        "must_include": _("Must include"),
        "must_exclude": _("Must exclude"),
        "folio": _("Folio"),
        "override": _("Override"),
        "reason": _("Reason"),
        "rank": _("Rank"),
        "title": _("Title"),
        "region": _("Region"),
        "challenge": _("Challenge"),
        "amount": _("Amount (CLP)"),
        "internal_score": _("Internal score"),
        "vote_share": _("Vote share"),
        "final_score": _("Final score"),
        "eligible": _("Eligible"),
        "decision": _("Decision"),
        "decided_at": _("Decided at"),
        "decided_by": _("Decided by"),
        "yes": _("Yes"),
        "no": _("No"),
        "objectives": labels["objective_labels"],
        "outcomes": labels["outcome_labels"],
        "overrides": labels["override_labels"],
    }


def region_label(code: str | None) -> str:
    return chile.region_name(code or "", code or "—")


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"comite_region_label": region_label, "Resultado": Resultado}


# --- audit labels ----------------------------------------------------------------------------------------

ACTIONS: dict[str, Any] = {
    "comite.session_opened": _l("Opened a committee session"),
    "comite.attendance_recorded": _l("Recorded the committee members present"),
    "comite.solver_run": _l("Ran the selection solver"),
    "comite.solver_document_downloaded": _l("Downloaded the solver document"),
    "comite.override_set": _l("Set a committee override"),
    "comite.override_removed": _l("Removed a committee override"),
    "comite.decision_recorded": _l("Recorded a committee decision"),
    "comite.proposal_applied": _l("Applied the solver's proposal"),
    "comite.session_closed": _l("Closed a committee session"),
    "comite.acta_downloaded": _l("Downloaded the committee acta"),
}


def _sesiones(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(
        sa.select(SesionComite.id, SesionComite.number, SesionComite.convocatoria_id).where(
            SesionComite.id.in_(wanted)
        )
    )
    return {
        str(id_): (
            _("Session %(number)d", number=number),
            url_for("comite_sesiones.session", convocatoria_id=call_id, sesion_id=id_),
        )
        for id_, number, call_id in rows
    }


def register(app: Flask) -> None:
    """Plug the blueprint and the audit log's names of the session's actions and objects."""
    app.register_blueprint(bp)
    audit.register_labels(
        app,
        actions=ACTIONS,
        fields={
            "present": _l("Members present"),
            "outcome": _l("Decision"),
            "reason": _l("Reason"),
            "kind": _l("Override"),
            "objective": _l("Objective"),
            "input_sha256": _l("Input SHA-256"),
        },
        values={
            "outcome": lambda v: (
                str(OUTCOME_LABELS.get(v, v)) if v in {r.value for r in Resultado} else str(v)
            ),
            "kind": lambda v: str(OVERRIDE_LABELS.get(v, v)) if v in {o.value for o in Override} else str(v),
            "objective": lambda v: (
                str(OBJECTIVE_LABELS.get(v, v)) if v in {o.value for o in Objetivo} else str(v)
            ),
        },
        objects={
            "SesionComite": (_l("Committee session"), _sesiones),
            "CorridaSolver": (_l("Solver run"), None),
            "OverrideComite": (_l("Committee override"), None),
            "Decision": (_l("Committee decision"), None),
        },
    )
