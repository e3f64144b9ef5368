"""Staff screens: the audit log in words, one menu per role, each person's start page, log-in landing."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from convocatorias.models import EstadoPostulacion, Postulacion
from idea import audit
from idea.extensions import db
from idea.models import Role
from tests.conftest import PASSWORD


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def menu(client: Any) -> list[str]:
    page = text(client.get("/"))
    nav = page.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", nav, re.S)]


# --- the audit log ----------------------------------------------------------------------------------

def test_the_audit_log_speaks_spanish_links_objects_and_tables_the_changes(
        login_as: Any, make_postulacion: Any, make_desafio: Any) -> None:
    admin = login_as(Role.ADMIN, name="Ana Administradora")
    p: Postulacion = make_postulacion(make_desafio(), status=EstadoPostulacion.ENVIADA,
                                      title="Huertas en Lota")
    audit.record(admin.user, "user.login", admin.user)
    audit.record(admin.user, "postulacion.edited", p,
                 before={"title": "Huertas en Coronel", "comuna": "Coronel", "maturity": "idea_vaga"},
                 after={"title": "Huertas en Lota", "comuna": "Coronel", "maturity": "idea_clara"})
    db.session.commit()
    page = text(admin.get("/admin/auditoria"))
    assert "Inició sesión" in page and "Modificó una postulación enviada" in page
    assert f'<a href="/admin/usuarios/{admin.user.id}">Ana Administradora ({admin.user.email})</a>' in page
    assert f'<a href="/gestion/postulaciones/{p.id}">{p.folio} · Huertas en Lota</a>' in page
    assert "User #" not in page
    # before/after: a row per changed field (the unchanged commune is left out), labels and unicode as is.
    rows = re.findall(r'<th scope="row">([^<]*)</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>', page)
    assert ("Título", "Huertas en Coronel", "Huertas en Lota") in rows
    assert ("Madurez", "Idea inicial", "Idea clara") in rows
    assert not any(row[0] == "Comuna" for row in rows)
    assert "\\u00" not in page and '{"' not in page
    # The table of changes scrolls inside a named, focusable region on a phone.
    assert re.search(r'<div class="table-wrap" role="region" tabindex="0" aria-label="[^"]+">', page)


def test_unknown_actions_and_objects_are_shown_as_stored(login_as: Any) -> None:
    admin = login_as(Role.ADMIN)
    audit.record(admin.user, "algo.nuevo", object_type="Cosa", object_id=5, after={"nombre": "Ñandú"})
    db.session.commit()
    page = text(admin.get("/admin/auditoria"))
    assert "algo.nuevo" in page and "#5" in page and "Ñandú" in page


def test_an_event_of_a_deleted_object_still_shows(login_as: Any) -> None:
    admin = login_as(Role.ADMIN)
    audit.record(admin.user, "desafio.deleted", object_type="Desafio", object_id=999,
                 before={"title": "Desafío borrado", "regions": ["08", "13"], "is_national": False})
    db.session.commit()
    page = text(admin.get("/admin/auditoria"))
    assert "Eliminó un desafío" in page and "#999" in page
    assert "Desafío borrado" in page and "08, 13" in page and ">No<" in page


def test_the_audit_log_query_count_does_not_grow_with_events(login_as: Any, make_user: Any, app: Any) -> None:
    import sqlalchemy as sa

    admin = login_as(Role.ADMIN)
    statements: list[str] = []

    def counter(*args: Any) -> None:
        statements.append(args[2])

    def add(n: int) -> None:
        for _ in range(n):
            user = make_user()
            audit.record(user, "user.login", user)
        db.session.commit()

    add(2)
    admin.get("/admin/auditoria")
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        admin.get("/admin/auditoria")
        few = len(statements)
        add(20)
        statements.clear()
        admin.get("/admin/auditoria")
        assert len(statements) == few
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counter)


# --- menus --------------------------------------------------------------------------------------------

def test_staff_only_accounts_have_no_my_submissions_and_one_administration_entry(
        login_as: Any, make_user: Any) -> None:
    admin_menu = menu(login_as(make_user(Role.ADMIN)))
    assert "Mis postulaciones" not in admin_menu
    assert admin_menu.count("Administración") == 1
    lead_menu = menu(login_as(make_user(Role.ENCARGADO_TECNICO, region="08")))
    assert "Mis postulaciones" not in lead_menu and lead_menu.count("Administración") == 1
    assert "Mi trabajo" in lead_menu
    applicant_menu = menu(login_as(Role.POSTULANTE))
    assert "Mis postulaciones" in applicant_menu
    assert "Administración" not in applicant_menu and "Mi trabajo" not in applicant_menu


def test_the_administration_page_lists_every_section(login_as: Any) -> None:
    page = text(login_as(Role.ADMIN).get("/admin/"))
    for href in ("/admin/usuarios", "/admin/usuarios/invitar", "/admin/auditoria", "/admin/convocatorias/"):
        assert f'href="{href}"' in page


def test_role_labels_are_spanish(login_as: Any, make_user: Any) -> None:
    jurado = make_user(Role.JURADO)
    page = text(login_as(Role.ADMIN).get(f"/admin/usuarios/{jurado.id}"))
    assert "Jurado (demo day)" in page and "Jurado del demo day" not in page


def test_a_call_whose_title_has_its_year_is_not_followed_by_the_year_again(
        login_as: Any, make_convocatoria: Any) -> None:
    with_year = make_convocatoria(title="Fondo IDEA 2027 (en preparación)", year=2027)
    make_convocatoria(title="Fondo IDEA Regiones", year=2027)
    admin = login_as(Role.ADMIN)
    page = text(admin.get("/admin/usuarios/invitar"))
    assert "Fondo IDEA 2027 (en preparación)<" in page and "(en preparación) (2027)" not in page
    assert "Fondo IDEA Regiones (2027)" in page
    for url in ("/admin/convocatorias/", f"/admin/convocatorias/{with_year.id}"):
        page = re.sub(r"<[^>]+>", "", text(admin.get(url)))
        assert "(en preparación) (2027)" not in page and "(en preparación)" in page
    assert "Fondo IDEA Regiones (2027)" in re.sub(r"<[^>]+>", "", text(admin.get("/admin/convocatorias/")))


# --- start page and log-in landing ---------------------------------------------------------------------

@pytest.mark.parametrize(("role", "lands_on"), [
    (Role.POSTULANTE, "/mis-postulaciones"),
    (Role.ENCARGADO_TECNICO, "/inicio"),
    (Role.ADMIN, "/inicio"),
    (Role.EVALUADOR, "/evaluacion/"),
])
def test_log_in_lands_where_the_person_has_work(client: Any, make_user: Any, role: Role,
                                                 lands_on: str) -> None:
    user = make_user(role)
    response = client.post("/cuenta/ingresar", data={"email": user.email, "password": PASSWORD},
                           follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == lands_on


def test_log_in_still_honours_a_safe_next(client: Any, make_user: Any) -> None:
    user = make_user(Role.ENCARGADO_TECNICO)
    response = client.post("/cuenta/ingresar?next=/gestion/",
                           data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/gestion/"


def test_start_pages_list_each_role_s_work(login_as: Any, make_user: Any) -> None:
    lead = text(login_as(make_user(Role.ENCARGADO_TECNICO)).get("/inicio"))
    assert 'href="/gestion/"' in lead and 'href="/admin/convocatorias/"' in lead
    admin = text(login_as(make_user(Role.ADMIN)).get("/inicio"))
    assert 'href="/admin/"' in admin and 'href="/gestion/"' in admin
    assert "Mis postulaciones" not in admin


@pytest.mark.parametrize(("role", "words"), [
    (Role.JURADO, "Antes del demo day"),
])
def test_roles_without_pages_yet_get_a_friendly_page(login_as: Any, role: Role, words: str) -> None:
    response = login_as(role).get("/inicio")
    assert response.status_code == 200
    page = text(response)
    assert words in page and "Próximamente" in page


def test_a_reviewer_starts_at_their_evaluations_and_a_lead_sees_the_evaluation_too(
        login_as: Any, make_user: Any) -> None:
    # One card only: the start page leads straight to it.
    reviewer = login_as(make_user(Role.EVALUADOR)).get("/inicio")
    assert reviewer.status_code == 302 and reviewer.headers["Location"] == "/evaluacion/"
    lead = text(login_as(make_user(Role.ENCARGADO_TECNICO)).get("/inicio"))
    assert 'href="/gestion/evaluacion/"' in lead and "Próximamente" not in lead


def test_an_applicant_who_is_also_staff_sees_both(login_as: Any, make_user: Any) -> None:
    page = text(login_as(make_user(Role.POSTULANTE, Role.MENTOR)).get("/inicio"))
    # The mentor's own page (pilotos' mentoring) replaced its "coming soon" card.
    assert 'href="/mis-postulaciones"' in page and 'href="/mentoria/"' in page


def test_the_start_page_needs_a_log_in(client: Any) -> None:
    response = client.get("/inicio")
    assert response.status_code == 302 and "/cuenta/ingresar" in response.headers["Location"]
