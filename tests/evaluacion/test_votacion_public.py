"""The public voting pages and the page cache behind them (and behind the home, call and challenge pages):
what an anonymous visitor sees, that a cached page never carries another visitor's token or a logged-in
menu, that every change that shows is shown at the next request, and that conditional requests get 304."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from convocatorias.models import Convocatoria, Desafio, EstadoPostulacion, Fase, Organizacion, Postulacion
from evaluacion.votacion_models import ConfiguracionVotacion, Preseleccion
from idea import pagecache
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role
from tests.convocatorias.test_public import count_queries


@pytest.fixture
def client(app: Any) -> Any:
    """An anonymous visitor who chose English (the pages then show the msgids)."""
    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["lang"] = "en"
    return visitor


@pytest.fixture
def voting(
    make_convocatoria: Callable[..., Convocatoria],
    make_desafio: Callable[..., Desafio],
    make_organizacion: Callable[..., Organizacion],
    make_postulacion: Callable[..., Postulacion],
) -> Callable[..., tuple[Convocatoria, list[Preseleccion]]]:
    """A call in the vote with `n` shortlisted ideas over two challenges and two regions."""

    def factory(
        n: int = 6, *, show_counts: bool = True, fase: Fase = Fase.VOTACION, **fields: Any
    ) -> tuple[Convocatoria, list[Preseleccion]]:
        now = utcnow()
        call = make_convocatoria(
            fase=fase,
            submissions_open_at=now - timedelta(days=60),
            submissions_close_at=now - timedelta(days=30),
            vote_open_at=now - timedelta(days=1),
            vote_close_at=now + timedelta(days=5),
            **fields,
        )
        desafios = [make_desafio(call, title="Cuidados"), make_desafio(call, title="Empleo joven")]
        orgs = [
            make_organizacion(
                region="08",
                name="Junta Vecinal Secreta",
                contact_phone="+56 9 1234 5678",
                contact_email="secreta@junta.cl",
            ),
            make_organizacion(region="13"),
        ]
        config = ConfiguracionVotacion(convocatoria_id=call.id, show_counts=show_counts, published_at=now)
        db.session.add(config)
        entries = []
        for i in range(n):
            p = make_postulacion(
                desafios[i % 2],
                orgs[(i // 2) % 2],
                status=EstadoPostulacion.ENVIADA,
                title=f"Idea número {i}",
            )
            entry = Preseleccion(
                convocatoria_id=call.id,
                postulacion_id=p.id,
                vote_count=i,
                summary=f"Resumen público de la idea {i}.",
                internal_score=90 - i,
            )
            db.session.add(entry)
            entries.append(entry)
        db.session.commit()
        return call, entries

    return factory


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2 id="idea-\d+"><a href="[^"]+">([^<]+)</a>', html)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the language form has its token"
    return match.group(1)


def test_voting_page_lists_cards_without_personal_data(client: Any, voting: Callable[..., Any]) -> None:
    call, entries = voting(4)

    response = client.get(f"/convocatorias/{call.slug}/votacion")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert sorted(_titles(html)) == [f"Idea número {i}" for i in range(4)]
    assert "Resumen público de la idea 2." in html and "Cuidados" in html and "Empleo joven" in html
    assert "Biobío" in html  # the region's name, not its code
    assert "<strong>3</strong>" in html  # counts shown (setting)
    for secret in ("Junta Vecinal Secreta", "1234 5678", "secreta@junta.cl", "Fundación"):
        assert secret not in html, secret
    assert re.search(r"\d{1,2}\.\d{3}\.\d{3}-[\dkK]", html) is None  # no RUT anywhere


def test_counts_hidden_when_the_call_says_so(client: Any, voting: Callable[..., Any]) -> None:
    call, entries = voting(3, show_counts=False)

    html = client.get(f"/convocatorias/{call.slug}/votacion").get_data(as_text=True)
    idea = client.get(f"/convocatorias/{call.slug}/votacion/{entries[2].id}").get_data(as_text=True)

    assert "vote-count" not in html and "vote-count" not in idea


def test_filters_and_search(client: Any, voting: Callable[..., Any]) -> None:
    call, entries = voting(8)
    desafio_id = db.session.get(Postulacion, entries[1].postulacion_id).desafio_id
    base = f"/convocatorias/{call.slug}/votacion"

    by_region = _titles(client.get(f"{base}?region=13").get_data(as_text=True))
    by_desafio = _titles(client.get(f"{base}?desafio={desafio_id}").get_data(as_text=True))
    searched = _titles(client.get(f"{base}?q=número 5").get_data(as_text=True))
    by_summary = _titles(client.get(f"{base}?q=de la idea 7").get_data(as_text=True))
    nothing = client.get(f"{base}?q=zzz&region=99&desafio=abc")

    assert sorted(by_region) == ["Idea número 2", "Idea número 3", "Idea número 6", "Idea número 7"]
    assert sorted(by_desafio) == ["Idea número 1", "Idea número 3", "Idea número 5", "Idea número 7"]
    assert searched == ["Idea número 5"] and by_summary == ["Idea número 7"]
    assert nothing.status_code == 200 and _titles(nothing.get_data(as_text=True)) == []


def test_order_is_stable_within_a_visit_and_differs_between_visitors(
    app: Any, voting: Callable[..., Any]
) -> None:
    call, _entries = voting(12)
    url = f"/convocatorias/{call.slug}/votacion"
    orders = set()
    for seed in range(8):
        visitor = app.test_client()
        with visitor.session_transaction() as session:
            session["voto_orden"] = seed
        first = _titles(visitor.get(url).get_data(as_text=True))
        assert _titles(visitor.get(url).get_data(as_text=True)) == first  # the same visit, the same order
        assert sorted(first) == sorted(f"Idea número {i}" for i in range(12))
        orders.add(tuple(first))
    assert len(orders) >= 6  # visitors are spread over different orders

    newcomer = app.test_client()
    first = _titles(newcomer.get(url).get_data(as_text=True))  # a seed is chosen and kept in the session
    assert all(_titles(newcomer.get(url).get_data(as_text=True)) == first for _ in range(3))


def test_idea_page_has_share_links_open_graph_and_vote_button(
    client: Any, voting: Callable[..., Any]
) -> None:
    call, entries = voting(3)

    html = client.get(f"/convocatorias/{call.slug}/votacion/{entries[1].id}").get_data(as_text=True)

    assert '<meta property="og:title" content="Idea número 1">' in html
    assert '<meta property="og:description" content="Resumen público de la idea 1.">' in html
    assert re.search(r'<meta property="og:image" content="http://localhost/og-image.png">', html)
    assert 'name="twitter:card"' in html
    share = f"http://localhost/convocatorias/{call.slug}/votacion/{entries[1].id}"
    assert f'value="{share}"' in html  # the link to copy, without JavaScript
    for network in (
        "https://wa.me/?text=",
        "https://x.com/intent/post?",
        "facebook.com/sharer/sharer.php?u=",
        "mailto:?subject=",
    ):
        assert network in html
    assert f'href="/convocatorias/{call.slug}/votacion/{entries[1].id}/votar"' in html
    assert "Junta Vecinal Secreta" not in html


def test_pages_404_outside_the_vote(
    client: Any, voting: Callable[..., Any], make_convocatoria: Callable[..., Convocatoria]
) -> None:
    early, early_entries = voting(2, fase=Fase.EVALUACION)
    call, entries = voting(2)
    unpublished = make_convocatoria(fase=Fase.VOTACION)

    assert client.get(f"/convocatorias/{early.slug}/votacion").status_code == 404
    assert client.get(f"/convocatorias/{early.slug}/votacion/{early_entries[0].id}").status_code == 404
    assert client.get(f"/convocatorias/{unpublished.slug}/votacion").status_code == 404
    assert client.get(f"/convocatorias/{call.slug}/votacion/{early_entries[0].id}").status_code == 404
    assert client.get("/convocatorias/no-existe/votacion").status_code == 404


def test_after_the_window_the_page_says_so_and_offers_no_vote(
    client: Any, voting: Callable[..., Any]
) -> None:
    call, entries = voting(2, fase=Fase.COMITE)

    index = client.get(f"/convocatorias/{call.slug}/votacion").get_data(as_text=True)
    idea = client.get(f"/convocatorias/{call.slug}/votacion/{entries[0].id}").get_data(as_text=True)

    assert "Voting has closed." in index and "Voting has closed." in idea
    assert "/votar" not in idea


def test_call_page_links_to_the_vote(client: Any, voting: Callable[..., Any]) -> None:
    call, _entries = voting(1)

    html = client.get(f"/convocatorias/{call.slug}").get_data(as_text=True)

    assert f'href="/convocatorias/{call.slug}/votacion"' in html


def test_query_count_does_not_grow_with_the_cards(client: Any, voting: Callable[..., Any]) -> None:
    small, small_entries = voting(3)
    big, big_entries = voting(24)

    def queries(url: str) -> int:
        pagecache.clear()
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    assert queries(f"/convocatorias/{small.slug}/votacion") == queries(f"/convocatorias/{big.slug}/votacion")
    assert queries(f"/convocatorias/{small.slug}/votacion/{small_entries[0].id}") == queries(
        f"/convocatorias/{big.slug}/votacion/{big_entries[5].id}"
    )


# --- the page cache ---------------------------------------------------------------------------------------


def test_second_request_is_served_from_the_cache_without_queries(
    client: Any, voting: Callable[..., Any]
) -> None:
    call, _entries = voting(3)
    url = f"/convocatorias/{call.slug}/votacion"
    first = client.get(url)

    with count_queries() as statements:
        second = client.get(url)

    assert first.headers["X-Page-Cache"] == "miss" and second.headers["X-Page-Cache"] == "hit"
    assert statements == []
    assert second.get_data(as_text=True) == first.get_data(as_text=True)  # same visitor, same token


@pytest.mark.parametrize(
    "path",
    ["/", "/convocatorias/{slug}", "/convocatorias/{slug}/votacion", "/convocatorias/{slug}/votacion/{idea}"],
)
def test_conditional_requests_get_304_before_rendering(
    client: Any, voting: Callable[..., Any], path: str
) -> None:
    call, entries = voting(2)
    url = path.format(slug=call.slug, idea=entries[0].id)
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    with count_queries() as statements:
        by_etag = client.get(url, headers={"If-None-Match": etag})
        by_date = client.get(url, headers={"If-Modified-Since": modified})
    other_etag = client.get(url, headers={"If-None-Match": '"something-else"'})

    assert by_etag.status_code == 304 and by_etag.data == b"" and by_etag.headers["ETag"] == etag
    assert by_date.status_code == 304
    assert statements == [] if "votacion" not in url else len(statements) <= 1  # no rendering
    assert other_etag.status_code == 200
    assert "Set-Cookie" not in by_etag.headers


def test_an_edit_a_phase_move_and_a_vote_show_at_the_next_request(
    client: Any, voting: Callable[..., Any]
) -> None:
    call, entries = voting(2)
    index = f"/convocatorias/{call.slug}/votacion"
    idea = f"{index}/{entries[1].id}"
    etag = client.get(idea).headers["ETag"]
    client.get(index), client.get("/"), client.get(f"/convocatorias/{call.slug}")

    # A vote counted by the vote operation: the counter moves in SQL, the operation bumps the vote scope.
    db.session.execute(
        sa.update(Preseleccion)
        .where(Preseleccion.id == entries[1].id)
        .values(vote_count=Preseleccion.vote_count + 40)
    )
    db.session.commit()
    pagecache.bump(pagecache.votes_scope(call.id))
    after_vote = client.get(idea, headers={"If-None-Match": etag})
    assert after_vote.status_code == 200 and "<strong>41</strong>" in after_vote.get_data(as_text=True)

    # A counter moved through the ORM bumps the vote scope by itself.
    entry = db.session.get(Preseleccion, entries[1].id)
    entry.vote_count = 50
    db.session.commit()
    assert "<strong>50</strong>" in client.get(idea).get_data(as_text=True)

    # An edit of the public summary, and of the call's title.
    entry.summary = "Un resumen corregido."
    call = db.session.get(Convocatoria, call.id)
    call.title = "Convocatoria renombrada"
    db.session.commit()
    assert "Un resumen corregido." in client.get(idea).get_data(as_text=True)
    assert "Convocatoria renombrada" in client.get(index).get_data(as_text=True)
    assert "Convocatoria renombrada" in client.get("/").get_data(as_text=True)
    assert "Convocatoria renombrada" in client.get(f"/convocatorias/{call.slug}").get_data(as_text=True)

    # A phase move (the admin's operation changes the row): the vote closes on the pages.
    call.fase = Fase.COMITE
    db.session.commit()
    assert "Voting has closed." in client.get(index).get_data(as_text=True)
    assert "/votar" not in client.get(idea).get_data(as_text=True)


def test_a_rolled_back_change_bumps_nothing(client: Any, voting: Callable[..., Any]) -> None:
    call, entries = voting(1)
    url = f"/convocatorias/{call.slug}/votacion"
    client.get(url)

    db.session.get(Preseleccion, entries[0].id).summary = "Nunca guardado"
    db.session.flush()
    db.session.rollback()

    assert client.get(url).headers["X-Page-Cache"] == "hit"


def test_no_cached_page_carries_another_visitors_token_or_a_logged_in_menu(
    app: Any, voting: Callable[..., Any], login_as: Callable[..., Any]
) -> None:
    call, entries = voting(2)
    for url in (
        "/",
        f"/convocatorias/{call.slug}",
        f"/convocatorias/{call.slug}/votacion",
        f"/convocatorias/{call.slug}/votacion/{entries[0].id}",
    ):
        staff = login_as(Role.ENCARGADO_TECNICO)
        before = staff.get(url)
        one, other = app.test_client(), app.test_client()
        for visitor in (one, other):  # the same order of the cards: the same cached page
            with visitor.session_transaction() as session:
                session["voto_orden"] = 3
        first, second = one.get(url), other.get(url)
        after = staff.get(url)

        for page in (first, second):
            html = page.get_data(as_text=True)
            assert "/cuenta/salir" not in html and "/cuenta/perfil" not in html and "/inicio" not in html
            assert pagecache.CSRF_PLACEHOLDER not in html
        assert second.headers["X-Page-Cache"] == "hit"
        assert _csrf(first.get_data(as_text=True)) != _csrf(second.get_data(as_text=True))
        for page in (before, after):
            assert "X-Page-Cache" not in page.headers
            assert 'action="/cuenta/salir"' in page.get_data(as_text=True)
            assert page.headers["Cache-Control"] == "no-store"
            assert pagecache.CSRF_PLACEHOLDER not in page.get_data(as_text=True)


def test_each_visitors_token_is_accepted_by_the_language_form(app: Any, voting: Callable[..., Any]) -> None:
    call, _entries = voting(1)
    url = f"/convocatorias/{call.slug}/votacion"
    app.test_client().get(url)  # someone else filled the cache
    visitor = app.test_client()
    token = _csrf(visitor.get(url).get_data(as_text=True))

    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = visitor.post("/idioma", data={"csrf_token": token, "lang": "en", "next": url})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert response.status_code == 302
    with visitor.session_transaction() as session:
        assert session["lang"] == "en"
    assert "Public vote" in visitor.get(url).get_data(as_text=True)  # the English page, cached apart


def test_a_flash_message_is_never_cached(app: Any, voting: Callable[..., Any]) -> None:
    call, _entries = voting(1)
    url = f"/convocatorias/{call.slug}"
    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", "Mensaje solo para ti")]

    mine = visitor.get(url).get_data(as_text=True)
    theirs = app.test_client().get(url).get_data(as_text=True)

    assert "Mensaje solo para ti" in mine and "Mensaje solo para ti" not in theirs


def test_a_forged_host_never_reaches_another_visitor(app: Any, voting: Callable[..., Any]) -> None:
    call, _entries = voting(1)
    url = f"/convocatorias/{call.slug}"
    app.test_client().get(url, headers={"Host": "atacante.example"})

    html = app.test_client().get(url).get_data(as_text=True)

    assert "atacante.example" not in html
