"""Fixtures of the popular vote: a call in `votacion` with a published shortlist, and helpers that vote
through the pages as a visitor would (ask, read the e-mail, confirm)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from convocatorias.models import Convocatoria, Fase
from evaluacion import votacion as ops
from evaluacion.operations import ScoreInput, save_evaluation
from evaluacion.votacion_models import ModoPreseleccion, Preseleccion
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role, User
from tests.evaluacion.conftest import Escenario, assign, train

LINK_RE = re.compile(r"https?://[^\s\"<>]+/votar/confirmar/([^\s\"<>]+)")


@dataclass
class Votacion:
    convocatoria: Convocatoria
    entries: list[Preseleccion]
    admin: User
    escenario: Escenario

    def vote_url(self, entry: Preseleccion) -> str:
        return f"/convocatorias/{self.convocatoria.slug}/votacion/{entry.id}/votar"


def score(escenario: Escenario, values: list[int]) -> None:
    """Each submission scored by one reviewer with `values[i]` on every criterion."""
    reviewer = escenario.reviewers[0]
    train(reviewer, escenario.rubrica)
    for postulacion, value in zip(escenario.postulaciones, values, strict=False):
        a = assign(reviewer, postulacion)
        save_evaluation(
            reviewer,
            a,
            escenario.rubrica,
            {c.id: ScoreInput(value) for c in escenario.rubrica.criterios},
            "Bien",
            submit=True,
        )
    db.session.commit()


@pytest.fixture
def votacion(escenario: Callable[..., Escenario], make_user: Callable[..., User]) -> Callable[..., Votacion]:
    def factory(
        n: int = 4,
        *,
        max_votes: int = 1,
        show_counts: bool = True,
        mode: ModoPreseleccion = ModoPreseleccion.TODAS,
        top_n: int | None = None,
        scores: list[int] | None = None,
        enter: bool = True,
        regions: tuple[str, ...] = ("08", "13"),
    ) -> Votacion:
        e = escenario(n=n, regions=regions)
        call = e.convocatoria
        if scores:
            score(e, scores)
        now = utcnow()
        call.evaluation_end_at = now - timedelta(days=3)
        db.session.commit()
        admin = make_user(Role.ADMIN, name="Administradora")
        ops.update_settings(
            admin,
            call,
            ops.VotacionData(
                mode=mode,
                top_n=top_n,
                max_votes_per_person=max_votes,
                show_counts=show_counts,
                vote_open_at=now - timedelta(days=1),
                vote_close_at=now + timedelta(days=5),
            ),
        )
        entries = ops.publish_shortlist(admin, call)
        if enter:
            call.fase = Fase.VOTACION
        db.session.commit()
        return Votacion(call, entries, admin, e)

    return factory


def ask(client: Any, v: Votacion, entry: Preseleccion, rut: str, email: str, **extra: Any) -> Any:
    data = {"rut": rut, "email": email, "accepted": "y", "website": "", **extra}
    return client.post(v.vote_url(entry), data=data)


def last_link(outbox: Any, email: str) -> str | None:
    """The signed token of the last confirmation link mailed to `email` (None when none was)."""
    for message in reversed(outbox.to(email)):
        match = LINK_RE.search(message.body)
        if match:
            return match.group(1)
    return None


def confirm(client: Any, token: str) -> Any:
    return client.post(f"/votar/confirmar/{token}")


def outcome(response: Any) -> str | None:
    match = re.search(rb'data-outcome="([a-z_]+)"', response.data)
    return match.group(1).decode() if match else None


def count(entry: Preseleccion) -> int:
    db.session.expire_all()
    return db.session.get(Preseleccion, entry.id).vote_count
