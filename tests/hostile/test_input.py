"""Hostile input found by testers: each case is a clear 4xx in Spanish (or simply handled), never a 500.

The mechanisms: NUL bytes refused for the whole request (idea.params.refuse_nul_bytes), ids bounded by the
`<int:>` converter, list parameters parsed by idea.params, LIKE wildcards escaped by idea.search, control
characters cleaned by every form (idea.forms.SafeForm), call dates bounded to sensible years.
"""

from __future__ import annotations

import html
import io
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask_wtf import FlaskForm

import convocatorias.lead_views
import idea.forms
from convocatorias.models import Convocatoria, EstadoPostulacion, Madurez, Organizacion, Postulacion
from idea import PACKAGES, params
from idea.extensions import db
from idea.forms import FilterForm, SafeForm
from idea.models import EventoAuditoria, Role, User
from idea.search import escape_like
from tests.convocatorias.test_admin_calls import call_form
from tests.hostile.support import table_counts

TWENTY_DIGITS = "9" * 20
PAST_BIGINT = str(2**64)
NUL_MESSAGE = "contiene un carácter nulo"
CONTROL_MESSAGE = "tenía caracteres de control invisibles"


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@pytest.fixture
def applicant(login_as: Any, make_organizacion: Any) -> Any:
    client = login_as(Role.POSTULANTE)
    client.organizacion = make_organizacion(client.user)
    return client


@pytest.fixture
def sent(make_desafio: Any, make_postulacion: Any) -> Postulacion:
    return make_postulacion(make_desafio(), status=EstadoPostulacion.ENVIADA)


# --- NUL bytes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "data"), [
    ("/cuenta/ingresar", {"email": "a\x00@example.cl", "password": "x"}),
    ("/cuenta/registro", {"name": "Ana\x00", "email": "ana@example.cl", "password": "Un-Molino-Azul-2026",
                          "password2": "Un-Molino-Azul-2026"}),
    ("/cuenta/olvide-mi-clave", {"email": "\x00"}),
])
def test_a_nul_byte_in_an_anonymous_form_is_a_400_in_spanish(client: Any, path: str,
                                                               data: dict[str, str]) -> None:
    before = table_counts()
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert NUL_MESSAGE in text(response)
    assert table_counts() == before


@pytest.mark.parametrize("path", ["/convocatorias/%00", "/convocatorias/a%00b/desafios/1", "/?q=%00",
                                  "/no-existe%00"])
def test_a_nul_byte_in_the_address_is_a_400(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert NUL_MESSAGE in text(response)


def test_a_nul_byte_in_a_parameter_name_or_a_repeated_value_is_a_400(client: Any) -> None:
    assert client.get("/?a%00=1").status_code == 400
    assert client.get("/?q=bien&q=mal%00").status_code == 400
    data = {"email": ["ana@example.cl", "\x00"], "password": "x"}
    assert client.post("/cuenta/ingresar", data=data).status_code == 400


def test_a_nul_byte_in_an_attachment_name_is_a_400(applicant: Any, make_desafio: Any,
                                                   make_postulacion: Any) -> None:
    draft = make_postulacion(make_desafio(), applicant.organizacion)
    response = applicant.post(f"/mis-postulaciones/{draft.id}/adjuntos", content_type="multipart/form-data",
                              data={"archivo": (io.BytesIO(b"%PDF-1.4\n"), "carta\x00.pdf")})
    assert response.status_code == 400


def test_logged_in_forms_refuse_nul_bytes_and_write_nothing(
    applicant: Any, login_as: Any, make_desafio: Any, make_postulacion: Any
) -> None:
    desafio = make_desafio()
    draft = make_postulacion(desafio, applicant.organizacion)
    admin = login_as(Role.ADMIN)
    lead = login_as(Role.ENCARGADO_TECNICO)
    posts = [
        (applicant, "/mi-organizacion", {"name": "Junta\x00", "rut": "65.123.456-7", "tipo": "",
                                         "region": "13", "comuna": "Santiago"}),
        (applicant, "/cuenta/perfil", {"name": "Ana\x00 María"}),
        (applicant, f"/mis-postulaciones/nueva?convocatoria={desafio.convocatoria_id}",
         {"title": "Idea\x00", "save_draft": "y"}),
        (applicant, f"/mis-postulaciones/{draft.id}/editar", {"title": "Idea\x00", "save_draft": "y"}),
        (admin, "/admin/usuarios/invitar", {"name": "Eva\x00", "email": "eva@example.cl",
                                            "role": Role.EVALUADOR.value}),
        (admin, "/admin/convocatorias/nueva", call_form(title="Fondo\x00")),
        (admin, f"/admin/convocatorias/{desafio.convocatoria_id}/desafios/nuevo", {"title": "\x00"}),
    ]
    before = table_counts()
    for client, path, data in posts:
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert NUL_MESSAGE in text(response), path
    gets = [(lead, f"/gestion/convocatorias/{desafio.convocatoria_id}/postulaciones?q=%00"),
            (admin, "/admin/usuarios?q=a%00"), (admin, "/admin/auditoria?actor=%00")]
    for client, path in gets:
        assert client.get(path).status_code == 400, path
    assert table_counts() == before


# --- control characters on the field -----------------------------------------------------------------

def test_control_characters_are_removed_and_the_field_says_so(applicant: Any) -> None:
    response = applicant.post("/mi-organizacion", data={
        "name": "Junta\x0b de\x01 vecinos", "rut": "65.123.456-7", "tipo": "junta_vecinos", "region": "13",
        "comuna": "Santiago"})
    assert response.status_code == 422
    page = text(response)
    assert CONTROL_MESSAGE in page
    assert 'value="Junta de vecinos"' in page  # shown again cleaned: sending again saves it
    assert count(Organizacion) == 1  # only the fixture's


def test_every_form_of_the_platform_cleans_control_characters(app: Flask) -> None:
    """A later form deriving from FlaskForm directly would skip the cleaning: every form class of our
    packages (loaded by the app) must derive from SafeForm."""

    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    ours = [f for f in subclasses(FlaskForm) if f.__module__.split(".")[0] in ("idea", *PACKAGES)]
    assert len(ours) > 10
    assert sorted({f"{f.__module__}.{f.__name__}" for f in ours if not issubclass(f, SafeForm)}) == []


# --- ids out of range ---------------------------------------------------------------------------------

def test_huge_ids_in_the_path_are_404(client: Any, applicant: Any, login_as: Any, sent: Postulacion) -> None:
    admin = login_as(Role.ADMIN)
    slug = db.session.get(Convocatoria, sent.convocatoria_id).slug
    assert client.get(f"/convocatorias/{slug}/desafios/{TWENTY_DIGITS}").status_code == 404
    assert applicant.get(f"/mis-postulaciones/{TWENTY_DIGITS}").status_code == 404
    assert applicant.get(f"/mis-postulaciones/{2**31}").status_code == 404
    assert admin.get(f"/admin/usuarios/{TWENTY_DIGITS}").status_code == 404
    assert admin.post(f"/admin/roles/{TWENTY_DIGITS}/revocar").status_code == 404
    assert admin.get(f"/admin/convocatorias/{'9' * 5000}").status_code == 404


def test_the_bounded_converter_still_matches_and_builds_real_ids(app: Flask, applicant: Any,
                                                                 sent: Postulacion) -> None:
    with app.test_request_context():
        assert url_for("convocatorias_applicant.detail", postulacion_id=params.DB_INT_MAX) == \
            f"/mis-postulaciones/{params.DB_INT_MAX}"
    adapter = app.url_map.bind("localhost")
    endpoint, args = adapter.match(f"/mis-postulaciones/{params.DB_INT_MAX}")
    assert (endpoint, args) == ("convocatorias_applicant.detail", {"postulacion_id": params.DB_INT_MAX})
    assert isinstance(app.url_map.converters["int"](app.url_map), params.BoundedIntConverter)


def test_a_huge_call_id_in_the_new_submission_link_shows_the_list_of_calls(applicant: Any) -> None:
    response = applicant.get(f"/mis-postulaciones/nueva?convocatoria={TWENTY_DIGITS}")
    assert response.status_code == 200


def test_parameters_named_like_url_for_arguments_do_not_break_the_way_back(login_as: Any,
                                                                          make_convocatoria: Any) -> None:
    call = make_convocatoria()
    newcomer = login_as(Role.POSTULANTE)  # no organisation yet: sent to create one, then back
    for extra in ("endpoint=x", "_scheme=javascript", "_external=1", "values=1"):
        response = newcomer.get(f"/mis-postulaciones/nueva?convocatoria={call.id}&{extra}")
        assert response.status_code == 302, extra
        assert "/mi-organizacion?next=" in response.headers["Location"]


# --- list parameters --------------------------------------------------------------------------------

@pytest.mark.parametrize("page", [PAST_BIGINT, TWENTY_DIGITS, "-5", "abc", " ", "9" * 5000])
def test_any_page_number_shows_a_page(login_as: Any, sent: Postulacion, page: str) -> None:
    admin = login_as(Role.ADMIN)
    for path in (f"/gestion/convocatorias/{sent.convocatoria_id}/postulaciones", "/admin/usuarios",
                 "/admin/auditoria"):
        assert admin.get(path, query_string={"page": page}).status_code == 200, path


def test_the_audit_log_until_the_end_of_time(login_as: Any, make_user: Any) -> None:
    admin = login_as(Role.ADMIN)
    from idea import audit

    audit.record(admin.user, "prueba.fin", object_type="X", object_id=1)
    db.session.commit()
    for query in ({"date_to": "9999-12-31"}, {"date_from": "9999-12-31"}, {"date_from": "0001-01-01"},
                  {"date_to": "0001-01-01"}):
        response = admin.get("/admin/auditoria", query_string=query)
        assert response.status_code == 200, query
    assert "prueba.fin" in text(admin.get("/admin/auditoria?date_to=9999-12-31"))
    assert "prueba.fin" not in text(admin.get("/admin/auditoria?date_from=9999-12-31"))


def test_whitespace_only_filters_mean_no_filter(login_as: Any, make_desafio: Any,
                                                make_postulacion: Any) -> None:
    desafio = make_desafio()
    make_postulacion(desafio, status=EstadoPostulacion.ENVIADA, maturity=Madurez.IDEA_CLARA)
    lead = login_as(Role.ENCARGADO_TECNICO)
    base = f"/gestion/convocatorias/{desafio.convocatoria_id}/postulaciones"
    for name in ("madurez", "estado", "tipo", "region", "desafio", "q"):
        response = lead.get(base + ".csv", query_string={name: " "})
        assert response.status_code == 200, name
        assert len(response.data.decode("utf-8-sig").strip().splitlines()) == 2, name  # header + the row
        assert lead.get(base, query_string={name: "\t"}).status_code == 200, name


def test_params_parse_bounded_values(app: Flask) -> None:
    with app.test_request_context("/?page=" + PAST_BIGINT + "&per_page=999999&id=" + TWENTY_DIGITS
                                  + "&ok=12&q=%20%20hola%20&e=%20b%20&d=2026-02-30&d2=2026-02-28&w=%20"):
        assert params.page_param() == params.MAX_PAGE
        assert params.per_page_param(50, 200) == 200
        assert params.id_param("id") is None
        assert params.id_param("ok") == 12
        assert params.text_param("q") == "hola"
        assert params.text_param("w") == ""
        assert params.choice_param("e", ["a", "b"]) == "b"
        assert params.choice_param("w", ["", "a"]) is None
        assert params.date_param("d") is None
        assert params.date_param("d2") == date(2026, 2, 28)
    with app.test_request_context("/?page=-3&per_page=0"):
        assert params.page_param() == 1
        assert params.per_page_param(50, 200) == 50
    assert params.day_end_utc(date(9999, 12, 31)).year == 9999
    assert params.day_start_utc(date(2026, 1, 1)).isoformat() == "2026-01-01T03:00:00+00:00"


def test_filter_forms_treat_whitespace_as_absent() -> None:
    assert issubclass(convocatorias.lead_views.SubmissionFilterForm, FilterForm)
    assert issubclass(idea.forms.AuditFilterForm, FilterForm)


# --- LIKE wildcards ---------------------------------------------------------------------------------

def test_escape_like() -> None:
    assert escape_like("100%_a\\b") == "100\\%\\_a\\\\b"


@pytest.mark.parametrize(("query", "expected"), [("%", ["Rosa 100% Real"]), ("_", ["Luis_Perez"]),
                                                 ("\\", []), ("ROSA", ["Rosa 100% Real"])])
def test_admin_user_search_takes_wildcards_literally(login_as: Any, make_user: Any, query: str,
                                                     expected: list[str]) -> None:
    admin = login_as(Role.ADMIN, name="Administradora")
    make_user(name="Rosa 100% Real", email="rosa@example.cl")
    make_user(name="Luis_Perez", email="luis@example.cl")
    make_user(name="Marta Soto", email="marta@example.cl")
    page = text(admin.get("/admin/usuarios", query_string={"q": query}))
    names = ("Rosa 100% Real", "Luis_Perez", "Marta Soto", "Administradora")
    shown = [name for name in names if name in page]
    assert shown == expected


def test_lead_search_takes_wildcards_literally(login_as: Any, make_desafio: Any,
                                               make_postulacion: Any) -> None:
    desafio = make_desafio()
    make_postulacion(desafio, status=EstadoPostulacion.ENVIADA, title="Huertos al 100%")
    make_postulacion(desafio, status=EstadoPostulacion.ENVIADA, title="Otra idea")
    lead = login_as(Role.ENCARGADO_TECNICO)
    csv = lead.get(f"/gestion/convocatorias/{desafio.convocatoria_id}/postulaciones.csv?q=%25").data
    rows = csv.decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 2 and "Huertos al 100%" in rows[1]


# --- dates in the call form -----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["9999-12-31", "9999-12-31T23:59", "0001-01-01T00:00", "1999-12-31",
                                   "10000-01-01", "2026-02-30"])
def test_odd_dates_in_the_call_form_get_a_clear_message(login_as: Any, value: str) -> None:
    admin = login_as(Role.ADMIN)
    before = count(Convocatoria), count(EventoAuditoria), count(User)
    response = admin.post("/admin/convocatorias/nueva", data=call_form(submissions_close_at=value))
    assert response.status_code == 422
    page = text(response)
    assert 'id="submissions_close_at-error"' in page
    assert ("Ingresa una fecha entre los años 2000 y 2100." in page
            or "Escribe una fecha y hora, por ejemplo" in page), value
    assert (count(Convocatoria), count(EventoAuditoria), count(User)) == before
