"""Every page, as every demo role, on a 390 px wide phone: no sideways scrolling, no serious or critical
axe-core violation, no Nu Html Checker error.

The pages come from the app's URL map, so a page added later is covered without touching this file. A route
with parameters is filled from the demo data (`flask seed-demo`): first by endpoint in PARAMS, then by
parameter name in ARGUMENTS. A route that cannot be filled (or is not a page) is listed in SKIPPED with the
reason; any other route makes the test fail, naming it.

To cover a new route with parameters: if its parameter names are in ARGUMENTS (convocatoria_id,
postulacion_id, slug, ...) nothing is needed; otherwise add a line to ARGUMENTS (a new name) or PARAMS (this
endpoint needs particular values, e.g. a call in a given phase), each a function of the `Demo` rows.

Each role requests every path. Redirects are left to their target; each error status (403, 404) is checked
once. Every page goes to the Nu Html Checker (one run at the end); the browser checks (width, axe) run once
per distinct rendering: a page whose frame (menu, footer) and content (<main>) were both already checked
is not loaded again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias import seed
from convocatorias.models import Convocatoria, EstadoPostulacion, Exportacion, Fase, Postulacion
from evaluacion.comite_seed import COMITE_CALL_SLUG
from evaluacion.models import Asignacion
from evaluacion.seed import EVAL_CALL_SLUG
from evaluacion.votacion_seed import CLUSTER_DOMAIN, VOTE_CALL_SLUG
from idea.accounts import make_confirm_token, make_password_token
from idea.cli import DEMO_USERS
from idea.extensions import db
from idea.models import RoleAssignment, User, utcnow
from tests.browser import (
    axe_violations,
    describe_violations,
    overflow_problem,
    require_axe,
    require_vnu,
    vnu_errors,
)
from tests.pilotos import demo as formacion_demo
from tests.pilotos import demo_aprendizaje, demo_ejecucion, demo_formulario, mentoria_demo

WIDTH = 390
MAX_SHOWN = 8  # Nu Html Checker errors shown per page


@dataclass
class Demo:
    """The demo rows the URLs are filled from."""

    open_call: Convocatoria
    draft_call: Convocatoria
    own_sent: Postulacion  # the demo applicant's sent submission
    own_draft: Postulacion  # and their draft
    biobio_sent: Postulacion  # a sent one of the Biobío region, which the Biobío lead sees (for lead pages)
    postulante: User
    admin: User
    assignment: RoleAssignment  # a role held by the demo applicant
    exportacion: Exportacion  # a background export asked for by the demo lead, still running
    adm_call: Convocatoria  # the call in admissibility
    adm_own: Postulacion  # the demo applicant's submission there (refused, may ask for reconsideration)
    eval_call: Convocatoria  # the call in evaluation
    asignacion: Asignacion  # an item assigned to the demo reviewer


Fill = Callable[[Demo], list[dict[str, Any]]]


def _vote_call() -> Convocatoria:
    """The demo call in the popular vote (with its shortlist and votes)."""
    return db.session.scalars(sa.select(Convocatoria).where(Convocatoria.slug == VOTE_CALL_SLUG)).one()


def _voting(d: Demo) -> dict[str, Any]:
    """A call in the popular vote and one of its shortlisted ideas: the demo's (seeded by the integrity-watch
    branch), else a small one made here from the demo applicant's sent submission."""
    from evaluacion.votacion_models import ConfiguracionVotacion, Preseleccion

    row = db.session.execute(
        sa.select(Convocatoria.slug, Preseleccion.id)
        .join(ConfiguracionVotacion, ConfiguracionVotacion.convocatoria_id == Convocatoria.id)
        .join(Preseleccion, Preseleccion.convocatoria_id == Convocatoria.id)
        .where(Convocatoria.fase == Fase.VOTACION, ConfiguracionVotacion.published_at.is_not(None))
        .order_by(Preseleccion.id)
    ).first()
    if row is None:
        now = utcnow()
        call = Convocatoria(slug="votacion-pruebas", title="Convocatoria en votación", year=2026,
                            summary="Ideas en votación popular", total_budget=650_000_000,
                            min_amount=20_000_000, max_amount=30_000_000, fase=Fase.VOTACION,
                            published_at=now, vote_open_at=now - timedelta(days=1),
                            vote_close_at=now + timedelta(days=5))
        db.session.add(call)
        db.session.flush()
        db.session.add(ConfiguracionVotacion(convocatoria_id=call.id, published_at=now))
        entry = Preseleccion(convocatoria_id=call.id, postulacion_id=d.own_sent.id,
                             summary="Un resumen público de la idea, sin datos personales.")
        db.session.add(entry)
        db.session.commit()
        return {"slug": call.slug, "preseleccion_id": entry.id}
    return {"slug": row[0], "preseleccion_id": row[1]}

# Endpoint -> the parameter sets to visit it with (each one URL).
PARAMS: dict[str, Fill] = {
    "convocatorias_public.desafio": lambda d: [
        {"slug": d.open_call.slug, "desafio_id": d.open_call.desafios[0].id}
    ],
    "convocatorias_admin.edit_desafio": lambda d: [
        {"convocatoria_id": d.draft_call.id, "desafio_id": d.draft_call.desafios[0].id}
    ],
    "convocatorias_admin.detail": lambda d: [{"convocatoria_id": d.open_call.id},
                                             {"convocatoria_id": d.draft_call.id}],
    "convocatorias_admin.edit": lambda d: [{"convocatoria_id": d.draft_call.id}],
    "convocatorias_admin.new_desafio": lambda d: [{"convocatoria_id": d.draft_call.id}],
    "convocatorias_admin.preview": lambda d: [{"convocatoria_id": d.draft_call.id}],
    "convocatorias_applicant.detail": lambda d: [{"postulacion_id": d.own_sent.id},
                                                 {"postulacion_id": d.own_draft.id}],
    "convocatorias_applicant.edit": lambda d: [{"postulacion_id": d.own_draft.id}],
    "convocatorias_applicant.delete": lambda d: [{"postulacion_id": d.own_draft.id}],
    "convocatorias_applicant.review": lambda d: [{"postulacion_id": d.own_draft.id}],
    "convocatorias_applicant.sent": lambda d: [{"postulacion_id": d.own_sent.id}],
    "convocatorias_lead.submission": lambda d: [{"postulacion_id": d.own_sent.id},
                                                {"postulacion_id": d.biobio_sent.id}],
    "convocatorias_lead.export_status": lambda d: [{"exportacion_id": d.exportacion.id}],
    "evaluacion_lead.dashboard": lambda d: [{"convocatoria_id": d.open_call.id},
                                            {"convocatoria_id": d.eval_call.id}],
    "evaluacion_lead.rubric": lambda d: [{"convocatoria_id": d.eval_call.id}],
    "evaluacion_lead.calibration": lambda d: [{"convocatoria_id": d.eval_call.id}],
    "evaluacion_reviewer.training": lambda d: [{"convocatoria_id": d.eval_call.id}],
    "evaluacion_reviewer.conflicts": lambda d: [{"convocatoria_id": d.eval_call.id}],
    "convocatorias_admisibilidad.lista": lambda d: [{"convocatoria_id": d.adm_call.id}],
    "convocatorias_admisibilidad.postulacion": lambda d: [{"postulacion_id": d.adm_own.id}],
    "convocatorias_admisibilidad.solicitar": lambda d: [{"postulacion_id": d.adm_own.id}],
    "evaluacion_lead.ranking": lambda d: [{"convocatoria_id": d.open_call.id},
                                          {"convocatoria_id": d.eval_call.id},
                                          {"convocatoria_id": d.eval_call.id, "orden": "discrepancia"}],
    "auth.confirm_email": lambda d: [{"token": make_confirm_token(d.postulante)}],
    "auth.reset_password": lambda d: [{"token": make_password_token(d.postulante)}],
    "comite_ranking.ranking": lambda d: [{"convocatoria_id": _comite_call().id},
                                         {"convocatoria_id": _comite_call().id, "region": "11",
                                          "orden": "votos"}],
    "comite_ranking.detail": lambda d: [{"convocatoria_id": _comite_call().id, "postulacion_id": pid}
                                        for pid in _comite_postulaciones()],
    "comite_ranking.conflicts": lambda d: [{"convocatoria_id": _comite_call().id}],
    "comite_ranking.rules": lambda d: [{"convocatoria_id": _comite_call().id}],
    "votacion_publica.index": lambda d: [{"slug": _voting(d)["slug"]},
                                         {"slug": _voting(d)["slug"], "region": "13", "q": "idea"}],
    "votacion_publica.idea": lambda d: [_voting(d)],
    "votacion.vote": lambda d: [_voting(d)],
    "votacion.confirm": lambda d: [{"token": "enlace-que-no-existe"}],  # the "link not found" page
    "pilotos_equipo.home": formacion_demo.teams,
    "pilotos_equipo.modulo": formacion_demo.team_modulo,
    "pilotos_equipo.accept": formacion_demo.invitation,
    "pilotos_lead.teams": formacion_demo.call,
    "pilotos_lead.talleres": formacion_demo.call,
    "pilotos_lead.new_taller": formacion_demo.call,
    "pilotos_lead.edit_taller": formacion_demo.talleres,
    "pilotos_lead.attendance": formacion_demo.talleres,
    "pilotos_lead.modulos": formacion_demo.call,
    "pilotos_lead.new_modulo": formacion_demo.call,
    "pilotos_lead.edit_modulo": formacion_demo.modulo,
    "votacion_integridad.integridad": lambda d: [
        {"convocatoria_id": d.open_call.id}, {"convocatoria_id": _vote_call().id},
        {"convocatoria_id": _vote_call().id, "dominio": CLUSTER_DOMAIN}],
    "votacion_resultados.index": lambda d: [{"slug": d.open_call.slug}, {"slug": _vote_call().slug}],
    "comite_sesiones.index": lambda d: [{"convocatoria_id": _comite_call().id}],
    "comite_sesiones.session": lambda d: [_comite_sesion(d), {**_comite_sesion(d), "page": 2}],
    "comite_sesiones.acta": lambda d: [_comite_sesion(d)],
    # The committee's results: the publish page of the demo session (open: it says to close it first).
    "comite_resultados.publish": lambda d: [{"sesion_id": _comite_sesion(d)["sesion_id"]}],
    "comite_resultados.public": lambda d: [{"slug": d.open_call.slug}, {"slug": _comite_call().slug}],
    "pilotos_mentoria.edit_mentor": mentoria_demo.mentors,
    "pilotos_mentoria.overview": formacion_demo.call,
    "pilotos_mentoria.match": mentoria_demo.match,
    "pilotos_mentoria.mentoria": mentoria_demo.mentorias,
    "pilotos_mentoria.team": formacion_demo.teams,
    "pilotos_formulario.team_form": formacion_demo.teams,
    "pilotos_formulario.lead_list": formacion_demo.call,
    "pilotos_formulario.review": demo_formulario.formularios,
    "pilotos_demoday.lead_list": formacion_demo.call,
    "pilotos_demoday.lead_detail": demo_formulario.demodays,
    "pilotos_demoday.jury_teams": demo_formulario.demodays,
    "pilotos_demoday.jury_score": demo_formulario.demoday_teams,
    # Execution (issue 12, helper A)
    "pilotos_ejecucion.team_pilot": demo_ejecucion.pilots,
    "pilotos_ejecucion.report": demo_ejecucion.reports,
    "pilotos_ejecucion.lead_list": demo_ejecucion.call,
    "pilotos_ejecucion.settings": demo_ejecucion.call,
    "pilotos_ejecucion.lead_pilot": demo_ejecucion.pilots,
    "pilotos_ejecucion.plan": demo_ejecucion.pilots,
    "pilotos_ejecucion.review": demo_ejecucion.reports,
    # Learning repository (issue 12, helper B)
    "pilotos_aprendizaje.team_sheet": demo_aprendizaje.pilots,
    "pilotos_aprendizaje.review": demo_aprendizaje.sheets,
    "aprendizaje_public.index": demo_aprendizaje.repository,
    "aprendizaje_public.ficha": demo_aprendizaje.published,
    "aprendizaje_public.confirm": demo_aprendizaje.confirm_tokens,
    "aprendizaje_public.unsubscribe": demo_aprendizaje.unsubscribe_tokens,
}


def _comite_call() -> Convocatoria:
    return db.session.scalars(sa.select(Convocatoria).where(Convocatoria.slug == COMITE_CALL_SLUG)).one()


def _comite_postulaciones() -> list[int]:
    """A submission the demo committee member is recused from (403 for them), and the best other one."""
    from evaluacion.models import Conflicto

    recused = db.session.scalars(
        sa.select(Conflicto.postulacion_id).where(Conflicto.convocatoria_id == _comite_call().id)
    ).first()
    other = db.session.scalars(
        sa.select(Postulacion.id).where(Postulacion.convocatoria_id == _comite_call().id,
                                        Postulacion.id != recused).order_by(Postulacion.id)
    ).first()
    return [recused, other]


def _comite_sesion(d: Demo) -> dict[str, int]:
    """An open committee session of the demo committee call (made here, so the demo stays ready for a user to
    open the first one): the demo member present and the solver run for both objectives."""
    from evaluacion import comite
    from evaluacion.comite_models import SesionComite

    call = _comite_call()
    sesion = db.session.scalars(
        sa.select(SesionComite).where(SesionComite.convocatoria_id == call.id)
    ).first()
    if sesion is None:
        sesion = comite.open_session(d.admin, call, place="Sala del consejo")
        comite.set_attendance(d.admin, sesion, [u.id for u in comite.members_of(call.id)])
        comite.run_solver(d.admin, sesion, "rank")
        db.session.commit()
    return {"convocatoria_id": call.id, "sesion_id": sesion.id}

# Parameter name -> its value, for endpoints not in PARAMS.
ARGUMENTS: dict[str, Callable[[Demo], Any]] = {
    "convocatoria_id": lambda d: d.open_call.id,
    "slug": lambda d: d.open_call.slug,
    "desafio_id": lambda d: d.open_call.desafios[0].id,
    "postulacion_id": lambda d: d.own_sent.id,
    "user_id": lambda d: d.postulante.id,
    "assignment_id": lambda d: d.assignment.id,
    "asignacion_id": lambda d: d.asignacion.id,
}

# Routes not visited, and why.
SKIPPED: dict[str, str] = {
    "static": "stylesheets and images, not pages",
    "core.health": "JSON for the load balancer, not a page",
    "convocatorias_lead.export_csv": "a CSV download, not a page",
    "convocatorias_lead.export_xlsx": "a spreadsheet download, not a page",
    "convocatorias_applicant.download": "an attachment download, not a page (the demo data has none)",
    "convocatorias_lead.download": "an attachment download, not a page (the demo data has none)",
    "convocatorias_lead.export_download": "a file download, not a page",
    "evaluacion_lead.export_csv": "a CSV download, not a page",
    "evaluacion_lead.export_xlsx": "a spreadsheet download, not a page",
    "branding.favicon": "an icon, not a page",
    "branding.social_card": "the og:image picture, not a page",
    "pilotos_equipo.calendar": "an iCalendar download, not a page",
    "votacion_resultados.export_csv": "a CSV download, not a page",
    "votacion_resultados.export_json": "a JSON download, not a page",
    "comite_sesiones.run_document": "the solver's JSON document, a download (test_comite_sesion.py)",
    "comite_sesiones.acta_pdf": "the acta as PDF, a download (test_comite_sesion.py)",
    "comite_sesiones.acta_xlsx": "the acta's XLSX annex, a download (test_comite_sesion.py)",
    "pilotos_ejecucion.download": "an evidence file download, not a page (test_ejecucion.py)",
    "pilotos_ejecucion.portfolio_xlsx": "a spreadsheet download, not a page (test_ejecucion_portfolio.py)",
    "aprendizaje_public.pdf": "a learning sheet as PDF, a download (tests/pilotos/test_aprendizaje.py)",
    "aprendizaje_public.export_csv": "open data as CSV, a download (tests/pilotos/test_aprendizaje.py)",
    "aprendizaje_public.export_json": "open data as JSON, a download (tests/pilotos/test_aprendizaje.py)",
    "aprendizaje_public.feed": "the Atom feed, XML not a page (tests/pilotos/test_aprendizaje.py)",
}

# The demo accounts, plus nobody logged in.
ROLES: list[tuple[str, str | None]] = [("anónimo", None)] + [
    (f"{role.value}" + (f" región {region}" if region else ""), email)
    for email, _name, role, region in DEMO_USERS
]


def load_demo(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Demo:
    """Run `flask seed-demo` on the test database (whose tables come from create_all, not migrations)."""
    monkeypatch.setattr("idea.cli.upgrade", lambda: None)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    calls = db.session.scalars(sa.select(Convocatoria)).all()
    open_call = next(c for c in calls if c.slug == seed.DEMO_CALL_SLUG)
    draft_call = next(c for c in calls if c.fase == Fase.BORRADOR)
    adm_call = next(c for c in calls if c.slug == seed.ADMISSIBILITY_CALL_SLUG)
    eval_call = next(c for c in calls if c.slug == EVAL_CALL_SLUG)
    postulante = db.session.scalars(sa.select(User).where(User.email == seed.DEMO_POSTULANTE_EMAIL)).one()
    own = db.session.scalars(sa.select(Postulacion).where(
        Postulacion.created_by_id == postulante.id, Postulacion.convocatoria_id == open_call.id)).all()
    adm_own = db.session.scalars(sa.select(Postulacion).where(
        Postulacion.created_by_id == postulante.id, Postulacion.convocatoria_id == adm_call.id)).first()
    reviewer = db.session.scalars(sa.select(User).where(User.email == "evaluadora@demo.fondoidea.cl")).one()
    asignacion = db.session.scalars(sa.select(Asignacion).where(Asignacion.user_id == reviewer.id)
                                    .order_by(Asignacion.id)).first()
    by_status = {p.status: p for p in own}
    biobio = db.session.scalars(
        sa.select(Postulacion)
        .where(Postulacion.region == "08", Postulacion.status == EstadoPostulacion.ENVIADA)
        .order_by(Postulacion.id)
    ).first()
    admin_email = next(email for email, _n, role, _r in DEMO_USERS if role.value == "admin")
    admin = db.session.scalars(sa.select(User).where(User.email == admin_email)).one()
    lead = db.session.scalars(sa.select(User).where(User.email == "encargado@demo.fondoidea.cl")).one()
    exportacion = Exportacion(requested_by_id=lead.id, convocatoria_id=open_call.id, format="xlsx",
                              filters={}, rows_total=5000, rows_done=1200,
                              expires_at=utcnow() + timedelta(hours=1))
    db.session.add(exportacion)
    db.session.commit()
    return Demo(
        open_call=open_call, draft_call=draft_call,
        own_sent=by_status[EstadoPostulacion.ENVIADA], own_draft=by_status[EstadoPostulacion.BORRADOR],
        biobio_sent=biobio, postulante=postulante, admin=admin, assignment=postulante.roles[0],
        exportacion=exportacion, adm_call=adm_call, adm_own=adm_own, eval_call=eval_call,
        asignacion=asignacion,
    )


def page_paths(app: Flask, demo: Demo) -> list[str]:
    """The path of every GET page of the URL map, parameters filled; fails on a route it cannot fill."""
    unknown, paths = [], []
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED:
            continue
        if rule.endpoint in PARAMS:
            param_sets = PARAMS[rule.endpoint](demo)
        elif all(name in ARGUMENTS for name in rule.arguments):
            param_sets = [{name: ARGUMENTS[name](demo) for name in rule.arguments}]
        else:
            unknown.append(f"{rule.endpoint} ({rule.rule})")
            continue
        paths += [adapter.build(rule.endpoint, values) for values in param_sets]
    assert not unknown, (
        "routes this test cannot fill: add them to PARAMS or ARGUMENTS (or SKIPPED, with the reason) in "
        f"{__file__}: {', '.join(unknown)}"
    )
    stale = set(PARAMS) | set(SKIPPED)
    stale -= {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not stale, f"PARAMS or SKIPPED name endpoints that no longer exist: {sorted(stale)}"
    return paths


_HIDDEN_INPUT = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*>")
_VALUE = re.compile(r"\svalue=\"[^\"]*\"")
_MAIN = re.compile(r"<main\b.*?</main>", re.S)
_BODY = re.compile(r"<body\b.*</body>", re.S)


def page_parts(html: str) -> set[str]:
    """The page as two parts: its frame (the body without <main>: menu and footer, as they are for this
    role) and its content (<main>), without the values of hidden fields (CSRF tokens differ every time)."""
    html = _HIDDEN_INPUT.sub(lambda m: _VALUE.sub("", m.group(0)), html)
    body = _BODY.search(html)
    body_html = body.group(0) if body else html
    main = _MAIN.search(body_html)
    content = main.group(0) if main else ""
    return {"frame:" + body_html.replace(content, ""), "content:" + content}


def session_cookie(app: Flask, user: User, base_url: str) -> dict[str, Any]:
    """The signed session cookie of `user` logged in (the login form has its own tests and rate limit)."""
    value = app.session_interface.get_signing_serializer(app).dumps(  # type: ignore[attr-defined]
        {"_user_id": user.get_id(), "_fresh": True}
    )
    return {"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": base_url}


def test_every_page_fits_a_phone_is_accessible_and_valid(
    app: Flask, live_server: str, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_axe()
    require_vnu()
    started = time.monotonic()
    demo = load_demo(app, monkeypatch)
    paths = page_paths(app, demo)
    users = {u.email: u for u in db.session.scalars(sa.select(User))}

    problems: list[str] = []
    html_files: dict[Path, str] = {}  # saved page -> "path as role", for vnu
    checked_errors: set[int] = set()  # each error page (403, 404...) is checked once
    checked_parts: set[str] = set()  # frames and contents already checked in the browser
    fetched = in_browser = 0
    for role, email in ROLES:
        context = browser.new_context(
            locale="es-CL", timezone_id="America/Santiago", viewport={"width": WIDTH, "height": 844}
        )
        if email:
            context.add_cookies([session_cookie(app, users[email], live_server)])
        page = context.new_page()
        page.set_default_timeout(10_000)
        for path in paths:
            where = f"{path} as {role}"
            # A plain request (with this role's cookies) first: much cheaper than a navigation.
            response = context.request.get(live_server + path, max_redirects=0)
            status, body = response.status, response.body()
            content_type = response.headers.get("content-type", "")
            response.dispose()
            if status >= 500:
                problems.append(f"{where}: HTTP {status}")
                continue
            if 300 <= status < 400 or status in checked_errors:
                continue  # a redirect (to the login page, to the list...) ends at a page visited on its own
            if status >= 400:
                checked_errors.add(status)
            if "text/html" not in content_type:
                problems.append(f"{where}: not an HTML page; list the route in SKIPPED with the reason")
                continue
            fetched += 1
            saved = tmp_path / f"page-{len(html_files):03d}.html"
            saved.write_bytes(body)
            html_files[saved] = where
            # The browser checks (layout and axe) take most of the time. A page made of a frame this role
            # already had checked and a content another role already had checked is made of checked parts.
            parts = page_parts(body.decode("utf-8", "replace"))
            if parts <= checked_parts:
                continue
            checked_parts |= parts
            in_browser += 1
            page.goto(live_server + path)
            if overflow := overflow_problem(page):
                problems.append(f"{where}: {overflow}")
            if violations := axe_violations(page):
                problems.append(f"{where}: axe-core:\n{describe_violations(violations)}")
        context.close()

    for saved, errors in vnu_errors(list(html_files)).items():
        where = html_files.get(saved, str(saved))
        shown = errors[:MAX_SHOWN]
        if len(errors) > MAX_SHOWN:
            shown.append(f"… and {len(errors) - MAX_SHOWN} more")
        problems.append(f"{where}: Nu Html Checker, {len(errors)} errors:\n    " + "\n    ".join(shown))

    elapsed = time.monotonic() - started
    print(f"{len(paths)} paths x {len(ROLES)} roles: {fetched} pages checked by vnu, {in_browser} distinct"
          f" ones in the browser; {elapsed:.0f} s")
    assert fetched > len(paths), "hardly any page was reachable: is the demo data loaded?"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
