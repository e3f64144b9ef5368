"""The results of the popular vote: valid votes and shares per idea, per challenge and per call, the
popular-vote component of the committee's final score (`vote_shares`), the public integrity summary and the
open-data export. Nothing here names a person: no e-mail, RUT or hash ever leaves this module.

Counts come from the counters (`Preseleccion.vote_count`, valid votes only), which the vote and annul
operations keep equal to the votes (see `votacion_watch.recount_votes`); annulled votes are counted over
`Voto` in one grouped query.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from convocatorias.models import FASES_ORDEN, Convocatoria, Desafio, Fase, Postulacion
from evaluacion.votacion_models import Preseleccion, Voto
from idea import chile
from idea.extensions import db


def vote_shares(convocatoria_id: int) -> dict[int, float]:
    """postulacion id -> its share (0..1) of the valid votes of the call, for every shortlisted idea;
    0.0 for all when nobody voted. The committee's final score reads this."""
    rows = db.session.execute(
        sa.select(Preseleccion.postulacion_id, Preseleccion.vote_count).where(
            Preseleccion.convocatoria_id == convocatoria_id
        )
    ).all()
    total = sum(int(n) for _pid, n in rows)
    return {int(pid): (int(n) / total if total else 0.0) for pid, n in rows}


@dataclass(frozen=True)
class ResultadoIdea:
    preseleccion_id: int
    postulacion_id: int
    folio: str
    title: str
    desafio_id: int
    desafio: str
    region: str
    votes: int
    share: float  # of the call's valid votes
    share_in_desafio: float
    annulled: int


@dataclass(frozen=True)
class ResultadoDesafio:
    desafio_id: int
    title: str
    position: int
    votes: int
    share: float
    annulled: int
    ideas: list[ResultadoIdea] = field(default_factory=list)


@dataclass(frozen=True)
class Resultados:
    convocatoria_id: int
    votes: int  # valid
    annulled: int
    ideas: list[ResultadoIdea]  # most votes first (ties by folio)
    desafios: list[ResultadoDesafio]  # in the call's order


def results(convocatoria_id: int) -> Resultados:
    """Counts and shares per idea, per challenge and for the call (two queries)."""
    annulled_q = (
        sa.select(Voto.preseleccion_id, sa.func.count(Voto.id))
        .where(Voto.convocatoria_id == convocatoria_id, Voto.annulled_at.is_not(None))
        .group_by(Voto.preseleccion_id)
    )
    annulled = {int(pid): int(n) for pid, n in db.session.execute(annulled_q)}
    rows = db.session.execute(
        sa.select(
            Preseleccion.id,
            Preseleccion.postulacion_id,
            Preseleccion.vote_count,
            Postulacion.folio,
            Postulacion.title,
            Postulacion.region,
            Desafio.id,
            Desafio.title,
            Desafio.position,
        )
        .join(Postulacion, Postulacion.id == Preseleccion.postulacion_id)
        .join(Desafio, Desafio.id == Postulacion.desafio_id)
        .where(Preseleccion.convocatoria_id == convocatoria_id)
    ).all()
    total = sum(int(r[2]) for r in rows)
    per_desafio: dict[int, int] = {}
    for r in rows:
        per_desafio[r[6]] = per_desafio.get(r[6], 0) + int(r[2])
    ideas = [
        ResultadoIdea(
            preseleccion_id=pid,
            postulacion_id=post_id,
            folio=folio or "",
            title=title,
            desafio_id=did,
            desafio=dtitle,
            region=region or "",
            votes=int(n),
            share=int(n) / total if total else 0.0,
            share_in_desafio=int(n) / per_desafio[did] if per_desafio[did] else 0.0,
            annulled=annulled.get(pid, 0),
        )
        for pid, post_id, n, folio, title, region, did, dtitle, _pos in rows
    ]
    ideas.sort(key=lambda i: (-i.votes, i.folio))
    positions = {r[6]: (r[8], r[7]) for r in rows}
    desafios = []
    for did, (position, title) in sorted(positions.items(), key=lambda kv: (kv[1][0], kv[0])):
        mine = [i for i in ideas if i.desafio_id == did]
        votes = per_desafio[did]
        desafios.append(
            ResultadoDesafio(
                desafio_id=did,
                title=title,
                position=position,
                votes=votes,
                share=votes / total if total else 0.0,
                annulled=sum(i.annulled for i in mine),
                ideas=mine,
            )
        )
    return Resultados(convocatoria_id, total, sum(annulled.values()), ideas, desafios)


def vote_closed(convocatoria: Convocatoria, now: datetime | None = None) -> bool:
    """Whether the results may be public: the vote window closed, or the call moved past `votacion`."""
    now = now or chile.utcnow()
    if FASES_ORDEN.index(Fase(convocatoria.fase)) > FASES_ORDEN.index(Fase.VOTACION):
        return True
    return (
        Fase(convocatoria.fase) == Fase.VOTACION
        and convocatoria.vote_close_at is not None
        and convocatoria.vote_close_at <= now
    )


# --- the public integrity summary ----------------------------------------------------------------------

# A lead's reason is free text: anything that looks like an e-mail address or a RUT is hidden before the
# reason is shown in public.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_RUT = re.compile(r"\b\d{1,2}\.?\d{3}\.?\d{3}-?[\dkK]\b")
_HEX = re.compile(r"\b[0-9a-fA-F]{16,}\b")


def redact(text: str) -> str:
    text = _EMAIL.sub("[…]", text)
    text = _RUT.sub("[…]", text)
    return _HEX.sub("[…]", text)


@dataclass(frozen=True)
class ResumenIntegridad:
    confirmed: int  # every confirmed vote, annulled included
    valid: int
    annulled: int
    voters: int  # people with at least one valid vote
    reasons: list[tuple[str, int]]  # (reason, annulled votes), most first


def integrity_summary(convocatoria_id: int) -> ResumenIntegridad:
    """The aggregate numbers of the vote, for the public after it closes (three queries)."""
    confirmed, annulled = db.session.execute(
        sa.select(sa.func.count(Voto.id), sa.func.count(Voto.annulled_at)).where(
            Voto.convocatoria_id == convocatoria_id
        )
    ).one()
    voters = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Voto.votante_id))).where(
            Voto.convocatoria_id == convocatoria_id, Voto.annulled_at.is_(None)
        )
    )
    n = sa.func.count(Voto.id).label("n")
    rows = db.session.execute(
        sa.select(Voto.annulled_reason, n)
        .where(Voto.convocatoria_id == convocatoria_id, Voto.annulled_at.is_not(None))
        .group_by(Voto.annulled_reason)
        .order_by(sa.desc("n"), Voto.annulled_reason)
    )
    merged: dict[str, int] = {}
    for reason, count in rows:
        key = redact((reason or "").strip())
        merged[key] = merged.get(key, 0) + int(count)
    reasons = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    return ResumenIntegridad(
        int(confirmed), int(confirmed) - int(annulled), int(annulled), int(voters or 0), reasons
    )


# --- open data ----------------------------------------------------------------------------------------

EXPORT_FIELDS = ("folio", "titulo", "desafio", "region", "votos_validos", "porcentaje", "votos_anulados")


def export_rows(data: Resultados) -> list[dict[str, Any]]:
    """One row per idea, no personal data: folio, title, challenge, region, valid votes, share, annulled."""
    return [
        {
            "folio": i.folio,
            "titulo": i.title,
            "desafio": i.desafio,
            "region": chile.region_name(i.region, i.region) if i.region else "",
            "votos_validos": i.votes,
            "porcentaje": round(i.share * 100, 2),
            "votos_anulados": i.annulled,
        }
        for i in data.ideas
    ]


def export_csv(data: Resultados) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in export_rows(data):
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    return out.getvalue()


def _safe_cell(value: Any) -> Any:
    """A text starting with =, +, - or @ would be a formula in a spreadsheet: quoted with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_json(convocatoria: Convocatoria, data: Resultados) -> str:
    document = {
        "convocatoria": {"slug": convocatoria.slug, "titulo": convocatoria.title, "anio": convocatoria.year},
        "votos_validos": data.votes,
        "votos_anulados": data.annulled,
        "desafios": [
            {
                "desafio": d.title,
                "votos_validos": d.votes,
                "porcentaje": round(d.share * 100, 2),
                "votos_anulados": d.annulled,
            }
            for d in data.desafios
        ],
        "ideas": export_rows(data),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def as_dict(data: Resultados) -> dict[str, Any]:
    return asdict(data)
