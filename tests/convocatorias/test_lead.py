"""The technical lead's submissions pages: who gets in, what each filter shows, scope, query count."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias.models import (
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Madurez,
    Organizacion,
    Postulacion,
    TipoOrganizacion,
)
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role

ENVIADA = EstadoPostulacion.ENVIADA


def list_url(convocatoria: Convocatoria, **args: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/gestion/convocatorias/{convocatoria.id}/postulaciones" + (f"?{query}" if query else "")


def rows_of(html: str) -> list[str]:
    """The row headers (folio or "(draft)") of the submissions table, in order."""
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r'<th scope="row">([^<]*)</th>', table)


def add_postulaciones(desafio: Desafio, organizacion: Organizacion, count: int, *, start: int = 1,
                      status: EstadoPostulacion = ENVIADA, **fields: Any) -> list[Postulacion]:
    """Many submissions in one commit (the factory commits one by one, too slow for hundreds)."""
    convocatoria = db.session.get(Convocatoria, desafio.convocatoria_id)
    items = []
    for n in range(start, start + count):
        values: dict[str, Any] = {
            "title": f"Idea masiva {n}", "region": organizacion.region, "comuna": organizacion.comuna,
            "maturity": Madurez.IDEA_CLARA, "requested_amount": 25_000_000, "beneficiaries_count": 100,
        }
        values.update(fields)
        p = Postulacion(convocatoria_id=desafio.convocatoria_id, desafio_id=desafio.id,
                        organizacion_id=organizacion.id, created_by_id=organizacion.owner_id, status=status,
                        **values)
        if status != EstadoPostulacion.BORRADOR:
            p.folio_number = 1000 + n
            p.folio = f"{convocatoria.folio_prefix}{1000 + n:04d}"
            p.submitted_at = utcnow()
        items.append(p)
    db.session.add_all(items)
    db.session.commit()
    return items


@pytest.fixture
def call(make_convocatoria: Callable[..., Convocatoria]) -> Convocatoria:
    return make_convocatoria(title="Fondo IDEA 2026")


# --- who gets in --------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", ".csv", ".xlsx"])
def test_anonymous_visitors_are_sent_to_log_in(client: Any, call: Convocatoria, suffix: str) -> None:
    for url in ("/gestion/", f"/gestion/convocatorias/{call.id}/postulaciones{suffix}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/cuenta/ingresar" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.POSTULANTE, Role.EVALUADOR, Role.COMITE])
@pytest.mark.parametrize("suffix", ["", ".csv", ".xlsx"])
def test_applicants_and_reviewers_are_refused(login_as: Any, call: Convocatoria, role: Role,
                                              suffix: str) -> None:
    client = login_as(role)
    assert client.get("/gestion/").status_code == 403
    assert client.get(f"/gestion/convocatorias/{call.id}/postulaciones{suffix}").status_code == 403


@pytest.mark.parametrize("role", [Role.ENCARGADO_TECNICO, Role.ADMIN])
def test_lead_and_admin_see_the_list(login_as: Any, make_postulacion: Any, make_desafio: Any,
                                     call: Convocatoria, role: Role) -> None:
    p = make_postulacion(make_desafio(call), status=ENVIADA, title="Huertos comunitarios en Ñuble",
                         requested_amount=23_500_000)
    client = login_as(role)
    index = client.get("/gestion/")
    assert index.status_code == 200
    assert "Fondo IDEA 2026" in index.text
    response = client.get(list_url(call))
    assert response.status_code == 200
    assert p.folio in response.text
    assert "Huertos comunitarios en Ñuble" in response.text
    assert "$23.500.000" in response.text
    assert 'style="' not in response.text  # the CSP forbids inline styles


def test_menu_link_only_for_leads(login_as: Any) -> None:
    assert 'href="/gestion/"' in login_as(Role.ENCARGADO_TECNICO).get("/").text
    assert 'href="/gestion/"' in login_as(Role.ADMIN).get("/").text
    assert 'href="/gestion/"' not in login_as(Role.POSTULANTE).get("/").text


def test_unknown_call_is_not_found(login_as: Any) -> None:
    assert login_as(Role.ENCARGADO_TECNICO).get("/gestion/convocatorias/999/postulaciones").status_code == 404


# --- filters --------------------------------------------------------------------------------------------

@pytest.fixture
def variety(call: Convocatoria, make_desafio: Any, make_organizacion: Any,
            make_postulacion: Any) -> dict[str, Postulacion]:
    """Submissions that differ in one attribute each, to check that every filter picks the right ones."""
    d1, d2 = make_desafio(call, title="Desafío uno"), make_desafio(call, title="Desafío dos")
    ngo = make_organizacion(name="Fundación Alerce", region="13", comuna="Santiago")
    uni = make_organizacion(name="Universidad del Sur", tipo=TipoOrganizacion.UNIVERSIDAD, region="08",
                            comuna="Concepción")
    return {
        "base": make_postulacion(d1, ngo, status=ENVIADA, title="Plazas activas",
                                 maturity=Madurez.IDEA_CLARA),
        "other_desafio": make_postulacion(d2, ngo, status=ENVIADA, title="Cocinas solidarias",
                                          maturity=Madurez.IDEA_CLARA),
        "biobio_uni": make_postulacion(d1, uni, status=ENVIADA, title="Laboratorio de oficios",
                                       maturity=Madurez.IDEA_CLARA),
        "vague": make_postulacion(d1, ngo, status=ENVIADA, title="Radio vecinal",
                                  maturity=Madurez.IDEA_VAGA),
        "withdrawn": make_postulacion(d1, ngo, status=EstadoPostulacion.RETIRADA, title="Feria libre",
                                      maturity=Madurez.IDEA_CLARA),
        "draft": make_postulacion(d1, ngo, status=EstadoPostulacion.BORRADOR, title="Borrador secreto",
                                  maturity=Madurez.IDEA_CLARA),
    }


def titles_shown(client: Any, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    return {t for t in ("Plazas activas", "Cocinas solidarias", "Laboratorio de oficios", "Radio vecinal",
                        "Feria libre", "Borrador secreto")
            if re.search(rf"<td>(<a [^>]*>)?{t}(</a>)?</td>", response.text)}


def test_drafts_stay_private_to_their_applicant(login_as: Any, call: Convocatoria,
                                               variety: dict[str, Postulacion]) -> None:
    client = login_as(Role.ENCARGADO_TECNICO)
    sent = {"Plazas activas", "Cocinas solidarias", "Laboratorio de oficios", "Radio vecinal", "Feria libre"}
    assert titles_shown(client, list_url(call)) == sent
    # Asking for drafts is not a valid filter: it is ignored, and no draft shows.
    assert titles_shown(client, list_url(call, estado="borrador")) == sent
    csv = client.get(f"/gestion/convocatorias/{call.id}/postulaciones.csv").get_data(as_text=True)
    assert "Plazas activas" in csv and "Borrador secreto" not in csv


def test_each_filter(login_as: Any, call: Convocatoria, variety: dict[str, Postulacion]) -> None:
    client = login_as(Role.ENCARGADO_TECNICO)
    d2 = variety["other_desafio"].desafio_id
    assert titles_shown(client, list_url(call, desafio=d2)) == {"Cocinas solidarias"}
    assert titles_shown(client, list_url(call, region="08")) == {"Laboratorio de oficios"}
    assert titles_shown(client, list_url(call, estado="retirada")) == {"Feria libre"}
    assert titles_shown(client, list_url(call, madurez="idea_vaga")) == {"Radio vecinal"}
    assert titles_shown(client, list_url(call, tipo="universidad")) == {"Laboratorio de oficios"}
    # Filters combine.
    assert titles_shown(client, list_url(call, region="13", madurez="idea_clara", desafio=d2)) == {
        "Cocinas solidarias"}


def test_search_over_folio_title_and_organisation(login_as: Any, call: Convocatoria,
                                                   variety: dict[str, Postulacion]) -> None:
    client = login_as(Role.ENCARGADO_TECNICO)
    folio = variety["vague"].folio
    assert titles_shown(client, list_url(call, q=folio.lower())) == {"Radio vecinal"}
    assert titles_shown(client, list_url(call, q="COCINAS")) == {"Cocinas solidarias"}
    assert titles_shown(client, list_url(call, q="universidad del")) == {"Laboratorio de oficios"}
    assert titles_shown(client, list_url(call, q="%25")) == set()  # "%" is a literal, not a wildcard
    assert titles_shown(client, list_url(call, q="nada-parecido")) == set()


def test_a_bad_filter_value_is_reported_not_a_crash(login_as: Any, call: Convocatoria,
                                                    variety: dict[str, Postulacion]) -> None:
    client = login_as(Role.ENCARGADO_TECNICO)
    response = client.get(list_url(call, estado="hackeado", region="08", desafio="abc", page="-3"))
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text
    # The valid filter still applies; the bad ones are ignored (drafts stay hidden).
    assert titles_shown(client, list_url(call, estado="hackeado", region="08")) == {"Laboratorio de oficios"}
    assert client.get(list_url(call, desafio="999999")).status_code == 200


def chart(html: str, chart_id: str) -> dict[str, tuple[int, str]]:
    """A chart's rows: label -> (count, bar width)."""
    section = html.split(f'id="{chart_id}-title"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]*)<br>.*?<rect x="0" y="0" width="(\d+)".*?</th>\s*'
                      r'<td class="num">(\d+)</td>', section, re.DOTALL)
    return {label: (int(count), width) for label, width, count in rows}


def test_counts_by_region_and_challenge_are_shown_as_numbers_and_bars(
        login_as: Any, call: Convocatoria, variety: dict[str, Postulacion]) -> None:
    html = login_as(Role.ENCARGADO_TECNICO).get(list_url(call)).text
    assert chart(html, "por-region") == {"Metropolitana de Santiago": (4, "100"), "Biobío": (1, "25")}
    assert chart(html, "por-desafio") == {"Desafío uno": (4, "100"), "Desafío dos": (1, "25")}
    # The counts follow the filters.
    html = login_as(Role.ENCARGADO_TECNICO).get(list_url(call, estado="retirada")).text
    assert chart(html, "por-region") == {"Metropolitana de Santiago": (1, "100")}


def test_pages_of_fifty(login_as: Any, call: Convocatoria, make_desafio: Any, make_organizacion: Any) -> None:
    add_postulaciones(make_desafio(call), make_organizacion(), 60)
    client = login_as(Role.ENCARGADO_TECNICO)
    first = client.get(list_url(call))
    assert len(rows_of(first.text)) == 50
    assert "60 submissions" in first.text or "60 postulaciones" in first.text
    second = client.get(list_url(call, page=2))
    assert len(rows_of(second.text)) == 10
    assert set(rows_of(first.text)).isdisjoint(rows_of(second.text))


# --- scope ------------------------------------------------------------------------------------------

@pytest.fixture
def two_regions(call: Convocatoria, make_desafio: Any, make_organizacion: Any,
                make_postulacion: Any) -> dict[str, Postulacion]:
    desafio = make_desafio(call)
    rm = make_organizacion(name="Fundación Santiaguina", region="13", comuna="Santiago")
    bio = make_organizacion(name="Fundación Penquista", region="08", comuna="Concepción")
    return {"13": make_postulacion(desafio, rm, status=ENVIADA, title="Idea metropolitana"),
            "08": make_postulacion(desafio, bio, status=ENVIADA, title="Idea del Biobío")}


def test_a_biobio_lead_sees_only_biobio(login_as: Any, call: Convocatoria,
                                        two_regions: dict[str, Postulacion]) -> None:
    client = login_as(Role.ENCARGADO_TECNICO, region="08")
    html = client.get(list_url(call)).text
    assert "Idea del Biobío" in html
    assert "Idea metropolitana" not in html
    assert two_regions["13"].folio not in html
    assert chart(html, "por-region") == {"Biobío": (1, "100")}  # neither in the counts
    assert "Fundación Santiaguina" not in client.get(list_url(call, q="santiaguina")).text
    # Asking for the other region explicitly shows nothing.
    assert "Idea metropolitana" not in client.get(list_url(call, region="13")).text
    for suffix in (".csv", ".xlsx"):
        export = client.get(f"/gestion/convocatorias/{call.id}/postulaciones{suffix}")
        assert export.status_code == 200
        if suffix == ".csv":
            text = export.data.decode("utf-8-sig")
            assert "Idea del Biobío" in text and "Idea metropolitana" not in text
        else:
            from io import BytesIO

            from openpyxl import load_workbook

            values = [c for r in load_workbook(BytesIO(export.data)).active.iter_rows(values_only=True)
                      for c in r]
            assert "Idea del Biobío" in values and "Idea metropolitana" not in values


def test_lead_counts_on_the_index_follow_the_scope(login_as: Any, call: Convocatoria,
                                                   two_regions: dict[str, Postulacion]) -> None:
    html = login_as(Role.ENCARGADO_TECNICO, region="08").get("/gestion/").text
    assert re.search(r'<td class="num">1</td>\s*<td class="num">0</td>', html)
    html = login_as(Role.ENCARGADO_TECNICO).get("/gestion/").text
    assert re.search(r'<td class="num">2</td>\s*<td class="num">0</td>', html)


def test_a_lead_bound_to_a_call_sees_only_that_call(login_as: Any, make_convocatoria: Any, make_desafio: Any,
                                                    make_postulacion: Any) -> None:
    mine = make_convocatoria(title="Convocatoria propia")
    other = make_convocatoria(title="Convocatoria ajena")
    make_postulacion(make_desafio(other), status=ENVIADA, title="Idea ajena")
    client = login_as(Role.ENCARGADO_TECNICO, convocatoria_id=mine.id)
    index = client.get("/gestion/").text
    assert "Convocatoria propia" in index and "Convocatoria ajena" not in index
    assert client.get(list_url(mine)).status_code == 200
    assert client.get(list_url(other)).status_code == 404
    assert client.get(f"/gestion/convocatorias/{other.id}/postulaciones.csv").status_code == 404


def test_scope_of_several_assignments(make_user: Any, call: Convocatoria,
                                      two_regions: dict[str, Postulacion]) -> None:
    from convocatorias import lead_queries
    from idea.models import RoleAssignment

    user = make_user(Role.ENCARGADO_TECNICO, region="08")
    user.roles.append(RoleAssignment(role=Role.ENCARGADO_TECNICO, region="13"))
    db.session.commit()
    seen = db.session.scalars(lead_queries.filtered_select(user, call.id, lead_queries.Filtros())).all()
    assert {p.title for p in seen} == {"Idea metropolitana", "Idea del Biobío"}
    assert lead_queries.regions_in_scope(user, call.id) == ["13", "08"]
    assert db.session.scalars(lead_queries.filtered_select(make_user(Role.EVALUADOR), call.id,
                                                           lead_queries.Filtros())).all() == []


# --- performance ------------------------------------------------------------------------------------

@pytest.fixture
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", counter)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", counter)


def test_query_count_does_not_grow_with_rows(login_as: Any, call: Convocatoria, make_desafio: Any,
                                             make_organizacion: Any, count_queries: list[str]) -> None:
    desafios = [make_desafio(call), make_desafio(call, regions=["08"])]
    orgs = [make_organizacion(region=code) for code in ("13", "08", "05")]
    for i in range(10):
        add_postulaciones(desafios[i % 2], orgs[i % 3], 1, start=i + 1)
    client = login_as(Role.ENCARGADO_TECNICO)
    client.get(list_url(call))  # warm up (first request compiles templates)

    def queries_for(url: str) -> int:
        count_queries.clear()
        response = client.get(url)
        assert response.status_code == 200
        return len(count_queries)

    csv_url = f"/gestion/convocatorias/{call.id}/postulaciones.csv"
    list_10, csv_10 = queries_for(list_url(call)), queries_for(csv_url)
    for i in range(10, 200):
        add_postulaciones(desafios[i % 2], orgs[i % 3], 1, start=i + 1)
    assert len(rows_of(client.get(list_url(call)).text)) == 50
    list_200, csv_200 = queries_for(list_url(call)), queries_for(csv_url)
    assert list_10 == list_200, count_queries
    assert csv_10 == csv_200, count_queries
