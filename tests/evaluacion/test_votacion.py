"""The popular vote as a voter and a lead see it: one person one vote (every spelling of a RUT), the e-mailed
link that counts only on POST, the window, expiry, honeypot, rate limits, no plain RUT anywhere, the lead's
settings and shortlist, permissions and the phase guard."""

# ruff: noqa: F811  (fixtures imported to be used as fixtures)

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import render_template

from convocatorias import operations as call_ops
from convocatorias.models import Fase
from evaluacion import votacion as ops
from evaluacion.votacion_models import (
    ConfiguracionVotacion,
    ModoPreseleccion,
    Preseleccion,
    SolicitudVoto,
    Votante,
    Voto,
)
from idea import pagecache
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role
from tests.evaluacion.votacion_fixtures import (  # noqa: F401  (fixture)
    Votacion,
    ask,
    confirm,
    count,
    last_link,
    outcome,
    votacion,
)

RUT_SPELLINGS = ("12.345.678-5", "12345678-5", "123456785")


def vote(client: Any, outbox: Any, v: Votacion, entry: Preseleccion, rut: str, email: str) -> Any:
    """Ask, read the e-mail, confirm: the whole way of a voter."""
    response = ask(client, v, entry, rut, email)
    assert response.status_code == 200, response.data
    token = last_link(outbox, email)
    assert token, "no confirmation link was mailed"
    return confirm(client, token)


# --- identity ----------------------------------------------------------------------------------------


def test_every_spelling_of_a_rut_is_one_person(app: Any) -> None:
    hashes = {ops.rut_hash(r) for r in RUT_SPELLINGS}
    assert len(hashes) == 1
    assert ops.rut_hash("11.111.111-1") not in hashes
    digest = hashes.pop()
    assert len(digest) == 64 and "12345678" not in digest
    with pytest.raises(ValueError, match="dígito verificador"):
        ops.rut_hash("12.345.678-9")


def test_the_network_hash_keeps_only_the_prefix(app: Any) -> None:
    assert ops.network_hash("200.1.2.3") == ops.network_hash("200.1.2.250")
    assert ops.network_hash("200.1.2.3") != ops.network_hash("200.1.3.3")
    assert ops.network_hash("2001:db8:1:2::1") == ops.network_hash("2001:db8:1:ffff::9")
    assert ops.network_hash("::ffff:200.1.2.3") == ops.network_hash("200.1.2.9")
    assert "200.1.2" not in ops.network_hash("200.1.2.3")
    assert ops.network_hash("no es ip") == ops.network_hash(None)


def test_rut_spellings_vote_as_one_person(
    client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=3)
    a, b = v.entries[0], v.entries[1]
    assert outcome(vote(client, outbox, v, a, RUT_SPELLINGS[0], "ana@ejemplo.cl")) == "counted"
    # The same person with another spelling and another address: the page answers the same, no link is
    # sent, and the notice goes to the address that voted (not the new one).
    for rut in RUT_SPELLINGS[1:]:
        response = ask(client, v, a, rut, "otra@ejemplo.cl")
        assert response.status_code == 200 and outcome(response) == "requested"
    response = ask(client, v, b, "123456785", "otra@ejemplo.cl")
    assert outcome(response) == "requested"
    assert last_link(outbox, "otra@ejemplo.cl") is None
    notices = [m for m in outbox.to("ana@ejemplo.cl") if "/votar/confirmar/" not in m.body]
    assert len(notices) == 3
    assert count(a) == 1 and count(b) == 0
    assert db.session.scalar(sa.select(sa.func.count(Votante.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Voto.id))) == 1


# --- limits ------------------------------------------------------------------------------------------


def test_a_person_has_at_most_v_votes(client: Any, outbox: Any, votacion: Callable[..., Votacion]) -> None:
    v = votacion(n=4, max_votes=2)
    a, b, c, d = v.entries
    # Three links asked before any is confirmed: the third confirmation finds no vote left.
    tokens = []
    for entry in (a, b, c):
        assert ask(client, v, entry, "12.345.678-5", "ana@ejemplo.cl").status_code == 200
        tokens.append(last_link(outbox, "ana@ejemplo.cl"))
    assert len(set(tokens)) == 3
    assert [outcome(confirm(client, t)) for t in tokens] == ["counted", "counted", "no_votes_left"]
    # Asking again once both votes are used sends no link.
    before = len(outbox.to("ana@ejemplo.cl"))
    ask(client, v, d, "12345678-5", "ana@ejemplo.cl")
    mails = outbox.to("ana@ejemplo.cl")
    assert len(mails) == before + 1 and "/votar/confirmar/" not in mails[-1].body
    assert [count(e) for e in v.entries] == [1, 1, 0, 0]
    assert sorted(db.session.scalars(sa.select(Voto.slot))) == [1, 2]


def test_one_vote_per_person_per_idea(client: Any, outbox: Any, votacion: Callable[..., Votacion]) -> None:
    v = votacion(n=2, max_votes=2)
    a = v.entries[0]
    ask(client, v, a, "12.345.678-5", "ana@ejemplo.cl")
    first = last_link(outbox, "ana@ejemplo.cl")
    ask(client, v, a, "12345678-5", "ana@ejemplo.cl")
    second = last_link(outbox, "ana@ejemplo.cl")
    assert first != second
    assert outcome(confirm(client, first)) == "counted"
    response = confirm(client, second)
    assert response.status_code == 200 and outcome(response) == "already_voted"
    assert count(a) == 1


def test_confirming_twice_counts_once_and_says_so_kindly(
    client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=1)
    entry = v.entries[0]
    ask(client, v, entry, "12.345.678-5", "ana@ejemplo.cl")
    token = last_link(outbox, "ana@ejemplo.cl")
    assert outcome(confirm(client, token)) == "counted"
    again = confirm(client, token)
    assert again.status_code == 200 and outcome(again) == "already_counted"
    assert b"ya estaba contado" in again.data or "ya está contado".encode() in again.data
    assert count(entry) == 1
    page = client.get(f"/votar/confirmar/{token}")
    assert page.status_code == 200 and outcome(page) == "already_counted"
    assert b"Confirmar mi voto" not in page.data


def test_opening_the_link_does_not_count(client: Any, outbox: Any, votacion: Callable[..., Votacion]) -> None:
    v = votacion(n=1)
    entry = v.entries[0]
    ask(client, v, entry, "12.345.678-5", "ana@ejemplo.cl")
    token = last_link(outbox, "ana@ejemplo.cl")
    for _ in range(3):  # a mail scanner following the link, then the person opening it
        page = client.get(f"/votar/confirmar/{token}")
        assert page.status_code == 200
        assert b"Confirmar mi voto" in page.data
        assert entry.postulacion.title.encode() in page.data
    assert count(entry) == 0
    assert db.session.scalar(sa.select(sa.func.count(Voto.id))) == 0
    assert outcome(confirm(client, token)) == "counted"


def test_confirmation_after_the_vote_closed_is_refused(
    client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=1)
    entry = v.entries[0]
    ask(client, v, entry, "12.345.678-5", "ana@ejemplo.cl")
    token = last_link(outbox, "ana@ejemplo.cl")
    v.convocatoria.vote_close_at = utcnow() - timedelta(seconds=1)  # the link is still young
    db.session.commit()
    assert outcome(client.get(f"/votar/confirmar/{token}")) == "closed"  # no button to press
    response = confirm(client, token)
    assert outcome(response) == "closed"
    assert "La votación está cerrada".encode() in response.data
    assert count(entry) == 0
    # The operation reads the server's clock at confirmation: the last instant inside counts.
    v.convocatoria.vote_close_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    closes = v.convocatoria.vote_close_at
    assert ops.confirm_vote(token, now=closes).outcome == ops.ConfirmOutcome.CLOSED
    assert ops.confirm_vote(token, now=closes - timedelta(seconds=1)).outcome == ops.ConfirmOutcome.COUNTED


def test_asking_outside_the_window_is_refused(
    client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=1)
    v.convocatoria.vote_open_at = utcnow() + timedelta(hours=2)
    db.session.commit()
    response = ask(client, v, v.entries[0], "12.345.678-5", "ana@ejemplo.cl")
    assert response.status_code == 409
    assert "La votación abre el".encode() in response.data
    assert not outbox.to("ana@ejemplo.cl")


def test_an_expired_or_forged_link_is_refused(
    client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=1)
    entry = v.entries[0]
    ask(client, v, entry, "12.345.678-5", "ana@ejemplo.cl")
    token = last_link(outbox, "ana@ejemplo.cl")
    solicitud = db.session.scalars(sa.select(SolicitudVoto)).one()
    solicitud.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = confirm(client, token)
    assert outcome(response) == "expired" and response.status_code == 410
    assert client.get(f"/votar/confirmar/{token}").status_code == 410
    # The signature's own age limit (24 h) refuses too, whatever the row says.
    assert ops.unsign_token(token) is not None
    with pytest.raises(ops.SignatureExpired):
        ops._serializer().loads(token, max_age=-1)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert outcome(confirm(client, forged)) == "invalid"
    assert confirm(client, forged).status_code == 404
    assert count(entry) == 0


def test_the_stored_token_is_only_a_digest(
    client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=1)
    ask(client, v, v.entries[0], "12.345.678-5", "ana@ejemplo.cl")
    signed = last_link(outbox, "ana@ejemplo.cl")
    raw = ops.unsign_token(signed)
    solicitud = db.session.scalars(sa.select(SolicitudVoto)).one()
    assert solicitud.token_hash == ops.token_hash(raw) and raw not in solicitud.token_hash
    assert solicitud.expires_at - solicitud.created_at == timedelta(hours=24)


def test_the_honeypot_catches_bots(client: Any, outbox: Any, votacion: Callable[..., Votacion]) -> None:
    v = votacion(n=1)
    page = client.get(v.vote_url(v.entries[0]))
    assert b'aria-hidden="true"' in page.data and b'tabindex="-1"' in page.data
    response = ask(client, v, v.entries[0], "12.345.678-5", "bot@ejemplo.cl", website="http://spam.example")
    assert response.status_code == 200 and outcome(response) == "requested"  # looks like success to the bot
    assert not outbox.to("bot@ejemplo.cl")
    assert db.session.scalar(sa.select(sa.func.count(Votante.id))) == 0


def test_the_form_refuses_bad_input_in_spanish(
    client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=1)
    url = v.vote_url(v.entries[0])
    bad_rut = client.post(url, data={"rut": "12.345.678-9", "email": "ana@ejemplo.cl", "accepted": "y"})
    assert bad_rut.status_code == 422 and "dígito verificador".encode() in bad_rut.data
    no_notice = client.post(url, data={"rut": "12.345.678-5", "email": "ana@ejemplo.cl"})
    assert no_notice.status_code == 422 and b"aceptar el aviso" in no_notice.data
    bad_mail = client.post(url, data={"rut": "12.345.678-5", "email": "no-es-correo", "accepted": "y"})
    assert bad_mail.status_code == 422
    assert not outbox.messages
    assert db.session.scalar(sa.select(sa.func.count(Votante.id))) == 0


def test_the_vote_page_shows_the_idea_and_the_notice(client: Any, votacion: Callable[..., Votacion]) -> None:
    v = votacion(n=1, show_counts=False)
    entry = v.entries[0]
    page = client.get(v.vote_url(entry))
    assert page.status_code == 200
    text = page.data.decode()
    assert entry.postulacion.title in text and entry.summary in text
    assert "Cómo usamos tus datos" in text and "huella cifrada" in text
    assert "data-vote-count" not in text  # counts hidden by the setting
    v.convocatoria.fase = Fase.EVALUACION  # not in the vote: the form is not offered
    db.session.commit()
    assert b'name="rut"' not in client.get(v.vote_url(entry)).data


# --- rate limits -------------------------------------------------------------------------------------


def test_asking_too_often_for_one_rut_is_refused(
    client: Any, outbox: Any, app: Any, votacion: Callable[..., Votacion], monkeypatch: pytest.MonkeyPatch
) -> None:
    v = votacion(n=3, max_votes=3)
    monkeypatch.setitem(app.config, "VOTE_LIMIT_REQUEST_RUT", "3 per hour")
    for i in range(3):
        assert ask(client, v, v.entries[i % 3], RUT_SPELLINGS[i], f"a{i}@ejemplo.cl").status_code == 200
    refused = ask(client, v, v.entries[0], "12345678-5", "a9@ejemplo.cl")
    assert refused.status_code == 429
    assert b"Demasiados intentos" in refused.data
    # Another person from the same address is not stopped by that limit.
    assert ask(client, v, v.entries[0], "11.111.111-1", "b@ejemplo.cl").status_code == 200


def test_mistyped_ruts_do_not_lock_anyone_out(
    client: Any, app: Any, votacion: Callable[..., Votacion], monkeypatch: pytest.MonkeyPatch
) -> None:
    v = votacion(n=1)
    monkeypatch.setitem(app.config, "VOTE_LIMIT_REQUEST_RUT", "2 per hour")
    codes = [ask(client, v, v.entries[0], f"12.345.678-{d}", "a@ejemplo.cl").status_code for d in "0123"]
    assert codes == [422, 422, 422, 422]
    assert ask(client, v, v.entries[0], "12.345.678-5", "a@ejemplo.cl").status_code == 200


def test_asking_too_often_from_one_address_is_refused(
    client: Any, app: Any, votacion: Callable[..., Votacion], monkeypatch: pytest.MonkeyPatch
) -> None:
    v = votacion(n=1)
    monkeypatch.setitem(app.config, "VOTE_LIMIT_REQUEST_IP", "2 per minute")
    ruts = ["11.111.111-1", "22.222.222-2", "33.333.333-3"]
    codes = [ask(client, v, v.entries[0], r, f"{i}@ejemplo.cl").status_code for i, r in enumerate(ruts)]
    assert codes == [200, 200, 429]


def test_confirming_too_often_from_one_address_is_refused(
    client: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "VOTE_LIMIT_CONFIRM_IP", "3 per minute")
    codes = [confirm(client, f"falso{i}").status_code for i in range(4)]
    assert codes == [404, 404, 404, 429]
    assert b"Demasiados intentos" in confirm(client, "otro").data


# --- no plain RUT anywhere ---------------------------------------------------------------------------


def test_no_table_holds_a_plain_rut(
    client: Any, outbox: Any, votacion: Callable[..., Votacion], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    v = votacion(n=3, max_votes=2)
    vote(client, outbox, v, v.entries[0], "12.345.678-5", "ana@ejemplo.cl")
    vote(client, outbox, v, v.entries[1], "123456785", "ana@ejemplo.cl")
    ask(client, v, v.entries[2], "12345678-5", "ana@ejemplo.cl")  # refused: both votes used
    vote(client, outbox, v, v.entries[2], "9.876.543-3", "beto@ejemplo.cl")
    ask(client, v, v.entries[0], "12.345.678-9", "x@ejemplo.cl")  # a wrong check digit, refused
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Voto.id))) == 3
    needles = {
        *RUT_SPELLINGS,
        "12345678",
        "9.876.543-3",
        "9876543-3",
        "98765433",
        "9876543",
        "12.345.678-9",
        "123456789",
    }
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).mappings():
            for column, value in row.items():
                text = str(value)
                found += [f"{table.name}.{column}: {n}" for n in needles if n in text]
    assert found == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [n for n in needles if n in logged]


# --- lead: settings, shortlist, permissions, guard ---------------------------------------------------


def test_the_shortlist_takes_the_best_per_challenge(votacion: Callable[..., Votacion]) -> None:
    v = votacion(n=4, mode=ModoPreseleccion.MEJORES, top_n=2, scores=[3, 6, 5, 2])
    chosen = {e.postulacion_id for e in v.entries}
    ids = [p.id for p in v.escenario.postulaciones]
    assert chosen == {ids[1], ids[2]}
    assert sorted((e.internal_rank, round(e.internal_score, 2)) for e in v.entries) == [(1, 6.0), (2, 5.0)]
    assert all(e.summary == "La solución." for e in v.entries)


def test_the_card_summary_is_short_plain_text() -> None:
    long = "Una idea   con\nsaltos\tde línea. " + "palabra " * 100
    summary = ops.public_summary(long)
    assert len(summary) <= ops.SUMMARY_LENGTH and summary.endswith("…") and "\n" not in summary
    assert ops.public_summary("Corta.\x00") == "Corta."


def test_the_lead_sets_the_vote_in_chilean_time(
    login_as: Callable[..., Any], votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=2, enter=False)
    lead = login_as(Role.ENCARGADO_TECNICO, convocatoria_id=v.convocatoria.id)
    url = f"/gestion/votacion/{v.convocatoria.id}/"
    assert lead.get(url).status_code == 200
    year = utcnow().year + 1
    data = {
        "mode": "mejores",
        "top_n": "1",
        "max_votes_per_person": "3",
        "show_counts": "",
        "vote_open_at": f"{year}-07-01T09:00",
        "vote_close_at": f"{year}-07-15",
    }
    v.convocatoria.committee_at = None
    db.session.commit()
    response = lead.post(url, data=data)
    assert response.status_code == 302, response.data.decode()
    db.session.expire_all()
    config = db.session.scalars(sa.select(ConfiguracionVotacion)).one()
    assert (config.mode, config.top_n, config.max_votes_per_person, config.show_counts) == (
        ModoPreseleccion.MEJORES,
        1,
        3,
        False,
    )
    call = v.convocatoria
    assert call.vote_open_at.strftime("%H:%M") in ("13:00", "12:00")  # 09:00 in Santiago (UTC-4 or -3)
    assert call.vote_close_at.strftime("%d") in ("15", "16")
    bad = lead.post(url, data={**data, "vote_close_at": f"{year}-06-01"})
    assert bad.status_code == 422 and "debe cerrar después".encode() in bad.data


def test_the_lead_previews_and_publishes_the_shortlist(
    login_as: Callable[..., Any], votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=3, enter=False)
    lead = login_as(Role.ENCARGADO_TECNICO, convocatoria_id=v.convocatoria.id)
    page = lead.get(f"/gestion/votacion/{v.convocatoria.id}/preseleccion")
    assert page.status_code == 200
    for p in v.escenario.postulaciones:
        assert p.title.encode() in page.data
    response = lead.post(f"/gestion/votacion/{v.convocatoria.id}/preseleccion/publicar")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Preseleccion.id))) == 3


@pytest.mark.parametrize(
    "who",
    [None, Role.POSTULANTE, Role.EVALUADOR, "region-lead", "other-call-lead"],
)
def test_only_leads_of_the_whole_call_publish(
    who: Any,
    app: Any,
    login_as: Callable[..., Any],
    votacion: Callable[..., Votacion],
    make_convocatoria: Callable[..., Any],
) -> None:
    v = votacion(n=2, enter=False)
    call_id = v.convocatoria.id
    if who is None:
        client = app.test_client()
    elif who == "region-lead":
        client = login_as(Role.ENCARGADO_TECNICO, convocatoria_id=call_id, region="08")
    elif who == "other-call-lead":
        client = login_as(Role.ENCARGADO_TECNICO, convocatoria_id=make_convocatoria().id)
    else:
        client = login_as(who)
    published_at = db.session.scalars(sa.select(ConfiguracionVotacion)).one().published_at
    for url in (f"/gestion/votacion/{call_id}/preseleccion/publicar",):
        assert client.post(url).status_code in (302, 403, 404)
        if who is None:
            assert client.post(url).headers.get("Location", "").startswith("/cuenta/")
    for url in (f"/gestion/votacion/{call_id}/", f"/gestion/votacion/{call_id}/preseleccion"):
        assert client.get(url).status_code in (302, 403, 404)
    db.session.expire_all()
    assert db.session.scalars(sa.select(ConfiguracionVotacion)).one().published_at == published_at


def test_the_shortlist_is_frozen_once_votes_exist(
    app: Any, client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=2, max_votes=2)
    vote(client, outbox, v, v.entries[0], "12.345.678-5", "ana@ejemplo.cl")
    with app.test_request_context():
        _frozen(v)


def _frozen(v: Votacion) -> None:
    with pytest.raises(ops.VotacionError, match="ya no puede cambiar"):
        ops.publish_shortlist(v.admin, v.convocatoria)
    data = ops.VotacionData(
        max_votes_per_person=3,
        vote_open_at=v.convocatoria.vote_open_at,
        vote_close_at=v.convocatoria.vote_close_at,
    )
    with pytest.raises(ops.VotacionError):
        ops.update_settings(v.admin, v.convocatoria, data)
    data.max_votes_per_person, data.show_counts = 2, False
    ops.update_settings(v.admin, v.convocatoria, data)  # visibility and dates may change


def test_a_call_enters_the_vote_only_with_a_published_shortlist(
    app: Any, escenario: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    with app.test_request_context():
        _guard(escenario, make_user)


def _guard(escenario: Callable[..., Any], make_user: Callable[..., Any]) -> None:
    e = escenario(n=2)
    call = e.convocatoria
    admin = make_user(Role.ADMIN)
    with pytest.raises(call_ops.ConvocatoriaError) as refused:
        call_ops.change_fase(admin, call, Fase.VOTACION)
    text = " ".join(p.message for p in refused.value.problems)
    assert "publica la preselección" in text and "fechas" in text
    now = utcnow()
    call.evaluation_end_at = now - timedelta(days=1)
    ops.update_settings(
        admin, call, ops.VotacionData(vote_open_at=now, vote_close_at=now + timedelta(days=3))
    )
    ops.publish_shortlist(admin, call)
    call_ops.change_fase(admin, call, Fase.VOTACION)
    assert call.fase == Fase.VOTACION


def test_leaving_the_vote_erases_the_voters_emails(
    app: Any, client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=1)
    vote(client, outbox, v, v.entries[0], "12.345.678-5", "ana@ejemplo.cl")
    with app.test_request_context():
        with pytest.raises(ops.VotacionError):
            ops.purge_emails(v.admin, v.convocatoria)  # still open
        call_ops.change_fase(v.admin, v.convocatoria, Fase.COMITE)
    db.session.commit()
    votante = db.session.scalars(sa.select(Votante)).one()
    assert votante.email is None and votante.email_domain == "ejemplo.cl"
    assert db.session.scalars(sa.select(Voto)).one().email_domain == "ejemplo.cl"
    assert db.session.scalars(sa.select(ConfiguracionVotacion)).one().emails_purged_at is not None


def test_the_purge_command_erases_after_the_close(
    app: Any, client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=1)
    vote(client, outbox, v, v.entries[0], "12.345.678-5", "ana@ejemplo.cl")
    result = app.test_cli_runner().invoke(args=["purge-vote-emails"])
    assert "0 direcciones" in result.output
    v.convocatoria.vote_close_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-vote-emails"])
    assert "1 direcciones" in result.output
    db.session.expire_all()
    assert db.session.scalars(sa.select(Votante)).one().email is None


# --- hostile input -----------------------------------------------------------------------------------


def test_hostile_input_gets_a_4xx(client: Any, votacion: Callable[..., Votacion]) -> None:
    v = votacion(n=1)
    slug = v.convocatoria.slug
    assert client.get(f"/convocatorias/{slug}/votacion/99999999999999999999/votar").status_code == 404
    assert client.get(f"/convocatorias/{slug}/votacion/2147483647/votar").status_code == 404
    assert client.get(f"/convocatorias/no-existe/votacion/{v.entries[0].id}/votar").status_code == 404
    assert client.get("/votar/confirmar/" + "x" * 1500).status_code == 404
    assert client.get("/votar/confirmar/%00abc").status_code == 400
    nul = client.post(
        v.vote_url(v.entries[0]), data={"rut": "12.345.678-5\x00", "email": "a@b.cl", "accepted": "y"}
    )
    assert nul.status_code == 400
    huge = client.post(
        v.vote_url(v.entries[0]), data={"rut": "9" * 5000, "email": "x" * 5000, "accepted": "y"}
    )
    assert huge.status_code == 422
    assert client.post("/gestion/votacion/99999999999999999999/preseleccion/publicar").status_code in (
        302,
        404,
    )


# --- performance -------------------------------------------------------------------------------------


def test_the_lead_pages_take_a_fixed_number_of_queries(
    app: Any,
    login_as: Callable[..., Any],
    votacion: Callable[..., Votacion],
    make_postulacion: Callable[..., Any],
    make_organizacion: Callable[..., Any],
) -> None:
    from convocatorias.models import EstadoPostulacion

    v = votacion(n=3, enter=False)
    lead = login_as(Role.ENCARGADO_TECNICO, convocatoria_id=v.convocatoria.id)
    statements: list[str] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    url = f"/gestion/votacion/{v.convocatoria.id}/preseleccion"
    lead.get(url)  # warm up

    def queries() -> int:
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert lead.get(url).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)
        return len(statements)

    few = queries()
    desafio = v.escenario.postulaciones[0].desafio
    for _ in range(15):
        make_postulacion(desafio, make_organizacion(), status=EstadoPostulacion.ADMISIBLE)
    ops.publish_shortlist(v.admin, v.convocatoria)
    db.session.commit()
    assert queries() == few


def test_confirming_is_one_short_transaction_committed_before_the_page_renders(
    app: Any, client: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    """The confirmation's SQL is a small constant: one SELECT of the link (with the call, its settings, the
    idea and the person's slots), the INSERT of the vote, the counter's UPDATE and the request's UPDATE
    (one statement on PostgreSQL);
    the transaction commits before the result page renders, which reads nothing more. Opening the link and
    confirming it again take one SELECT each."""
    from flask import template_rendered

    v = votacion(n=3, max_votes=2)
    a, b, _c = v.entries
    tokens = []
    for entry in (a, b):
        assert ask(client, v, entry, "12.345.678-5", "ana@ejemplo.cl").status_code == 200
        tokens.append(last_link(outbox, "ana@ejemplo.cl"))
    title = a.postulacion.title.encode()
    postgres = db.engine.dialect.name == "postgresql"
    ids = [e.id for e in v.entries]
    db.session.remove()
    statements: list[str] = []
    in_transaction: list[bool] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    def rendered(_app: Any, template: Any, context: Any, **_extra: Any) -> None:
        in_transaction.append(db.session().in_transaction())

    def run(request: Callable[[], Any]) -> tuple[Any, list[str]]:
        statements.clear()
        in_transaction.clear()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            with template_rendered.connected_to(rendered, app):
                response = request()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)
        return response, list(statements)

    page, sql = run(lambda: client.get(f"/votar/confirmar/{tokens[0]}"))
    assert page.status_code == 200 and b"Confirmar mi voto" in page.data and title in page.data
    assert sql == ["SELECT"]
    for token in tokens:  # the first vote, then the second (its slot found from the first query)
        response, sql = run(lambda token=token: confirm(client, token))
        assert outcome(response) == "counted"
        # PostgreSQL: the insert and both updates are one statement (data-modifying CTEs).
        assert sql == (["SELECT", "WITH"] if postgres else ["SELECT", "INSERT", "UPDATE", "UPDATE"])
        assert in_transaction and not any(in_transaction)  # committed before rendering
    again, sql = run(lambda: confirm(client, tokens[0]))
    assert outcome(again) == "already_counted" and sql == ["SELECT"] and title in again.data
    assert [db.session.get(Preseleccion, i).vote_count for i in ids] == [1, 1, 0]


def test_a_burst_of_confirmations_renders_the_answer_once_and_each_voter_gets_their_own_token(
    app: Any, outbox: Any, votacion: Callable[..., Votacion], monkeypatch: pytest.MonkeyPatch
) -> None:
    v = votacion(n=1)
    entry = v.entries[0]
    rendered: list[str] = []
    monkeypatch.setattr(
        "evaluacion.votacion_views.render_template",
        lambda name, **context: rendered.append(name) or render_template(name, **context),
    )
    voters = [app.test_client() for _ in range(3)]
    pages = []
    for i, (voter, rut) in enumerate(
        zip(voters, ("12.345.678-5", "11.111.111-1", "22.222.222-2"), strict=True)
    ):
        email = f"votante{i}@ejemplo.cl"
        ask(voter, v, entry, rut, email)
        page = confirm(voter, last_link(outbox, email))
        assert outcome(page) == "counted"
        pages.append(page.get_data(as_text=True))
    assert count(entry) == 3
    assert rendered.count("evaluacion/votacion/confirmed.html") == 1  # the same answer for all three
    tokens = {re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1) for html in pages}
    assert len(tokens) == 3 and pagecache.CSRF_PLACEHOLDER not in "".join(pages)
    assert entry.postulacion.title in pages[2]

    # An edit of the idea's public text shows in the next answer.
    entry.summary = "Un resumen corregido por el encargado."
    db.session.commit()
    voter = app.test_client()
    ask(voter, v, entry, "33.333.333-3", "otra@ejemplo.cl")
    assert "Un resumen corregido" in confirm(voter, last_link(outbox, "otra@ejemplo.cl")).get_data(
        as_text=True
    )


def test_a_vote_forgets_only_the_versions_read_with_its_scope(app: Any) -> None:
    cache = app.extensions["idea_pagecache"]
    cache.known = {
        (pagecache.ALL, pagecache.PUBLIC): (float("inf"), [1, 1]),
        (pagecache.ALL, pagecache.PUBLIC, pagecache.votes_scope(7)): (float("inf"), [1, 1, 1]),
    }
    with app.app_context():
        pagecache.bump(pagecache.votes_scope(7))
    assert list(cache.known) == [(pagecache.ALL, pagecache.PUBLIC)]
    with app.app_context():
        pagecache.bump(pagecache.ALL)
    assert cache.known == {}
