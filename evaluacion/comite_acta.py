"""The acta of a committee session: what it holds (one function gathers it), as PDF and as an XLSX annex.

The PDF is WeasyPrint's rendering of the printable HTML. It never reaches the network: its URL fetcher serves
only files under the app's static folder and refuses anything else.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from evaluacion import comite, comite_ranking
from evaluacion.comite_models import CorridaSolver, Decision, OverrideComite, ReglasSeleccion, SesionComite
from evaluacion.models import Rubrica
from idea import chile
from idea.extensions import db
from idea.models import User


@dataclass
class Acta:
    sesion: SesionComite
    reglas: ReglasSeleccion
    rubrica: Rubrica | None
    present: list[User]
    recused: list[tuple[User, list[str]]]  # member, folios
    runs: list[CorridaSolver]
    overrides: list[OverrideComite]
    ranking: list[comite_ranking.FilaRanking]
    decisions: dict[int, Decision]
    users: dict[int, User]

    @property
    def final(self) -> bool:
        return self.sesion.is_closed


def gather(sesion: SesionComite) -> Acta:
    convocatoria = sesion.convocatoria
    reglas = comite.ensure_reglas(convocatoria)
    rubrica = db.session.scalar(sa.select(Rubrica).where(Rubrica.convocatoria_id == convocatoria.id))
    ranking = comite_ranking.final_ranking(convocatoria)
    folios = {r.postulacion_id: r.folio for r in ranking}
    members = {u.id: u for u in comite.members_of(convocatoria.id)}
    recused = [
        (members[uid], sorted(folios[p] for p in pids if p in folios))
        for uid, pids in sorted(comite.recusals(convocatoria).items())
        if uid in members
    ]
    decisions = comite.decisions_of(sesion.id)
    user_ids = {d.decided_by_id for d in decisions.values()} | {sesion.opened_by_id, sesion.closed_by_id}
    users = {
        u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_({i for i in user_ids if i})))
    }
    return Acta(
        sesion=sesion,
        reglas=reglas,
        rubrica=rubrica,
        present=[a.user for a in sesion.asistentes],
        recused=recused,
        runs=list(reversed(comite.runs_of(sesion.id))),
        overrides=comite.overrides_of(sesion.id),
        ranking=ranking,
        decisions=decisions,
        users=users,
    )


# --- PDF -------------------------------------------------------------------------------------------------


def _local_fetcher(static_folder: str) -> Any:
    """A WeasyPrint URL fetcher that serves files under `static_folder` and refuses everything else."""
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher

    root = os.path.realpath(static_folder)

    class LocalOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "file":
                path = os.path.realpath(unquote(parts.path))
                if path.startswith(root + os.sep) and os.path.isfile(path):
                    return super().fetch(url, headers)
            raise ValueError(f"El acta no carga recursos externos: {url[:80]}")

    return LocalOnly(allowed_protocols={"file"}, allow_redirects=False)


def pdf_bytes(html: str) -> bytes:
    """The acta's HTML as PDF, with only local static files reachable."""
    from weasyprint import HTML

    static = os.path.realpath(current_app.static_folder or "")
    document = HTML(string=html, base_url=static + os.sep, url_fetcher=_local_fetcher(static))
    return document.write_pdf()


# --- XLSX ------------------------------------------------------------------------------------------------


def _local(value: datetime | None) -> str:
    return chile.format_datetime_es(value) if value else ""


def xlsx_bytes(acta: Acta, labels: dict[str, Any]) -> bytes:
    """The annex: one sheet per part of the acta. `labels` holds the translated column and outcome names."""
    from openpyxl import Workbook

    L = labels
    s = acta.sesion
    wb = Workbook()
    ws = wb.active
    ws.title = L["sheet_session"]
    reglas = acta.reglas
    rows: list[tuple[Any, Any]] = [
        (L["call"], s.convocatoria.title),
        (L["session"], s.number),
        (L["status"], L["closed"] if s.is_closed else L["draft"]),
        (L["opened_at"], _local(s.opened_at)),
        (L["closed_at"], _local(s.closed_at)),
        (L["place"], s.place),
        (L["budget"], s.convocatoria.total_budget),
        (L["vote_weight"], s.convocatoria.vote_weight),
        (L["min_score"], acta.rubrica.min_final_score if acta.rubrica else None),
        (L["objective"], L["objectives"][str(reglas.objective.value)]),
        (L["max_per_challenge"], reglas.max_per_challenge),
        (L["max_count"], reglas.max_count),
        (L["quorum"], reglas.quorum),
    ]
    for row in rows:
        ws.append(row)

    ws = wb.create_sheet(L["sheet_members"])
    ws.append((L["member"], L["email"]))
    for u in acta.present:
        ws.append((u.name, u.email))
    ws.append(())
    ws.append((L["recused_member"], L["recused_from"]))
    for u, folios in acta.recused:
        ws.append((u.name, ", ".join(folios)))

    ws = wb.create_sheet(L["sheet_solver"])
    ws.append(
        (
            L["run"],
            L["objective"],
            L["created_at"],
            L["input_sha256"],
            L["feasible"],
            L["selected"],
            L["objective_value"],
            L["must_include"],
            L["must_exclude"],
        )
    )
    folios = {r.postulacion_id: r.folio for r in acta.ranking}
    for run in acta.runs:
        doc = run.document
        ws.append(
            (
                run.id,
                L["objectives"][str(run.objective.value)],
                _local(run.created_at),
                run.input_sha256,
                L["yes"] if run.feasible else L["no"],
                ", ".join(folios.get(i, str(i)) for i in doc.get("selected", [])),
                doc.get("objective_value"),
                ", ".join(folios.get(i, str(i)) for i in doc.get("must_include", [])),
                ", ".join(folios.get(i, str(i)) for i in doc.get("must_exclude", [])),
            )
        )
    ws.append(())
    ws.append((L["folio"], L["override"], L["reason"]))
    for o in acta.overrides:
        ws.append(
            (folios.get(o.postulacion_id, str(o.postulacion_id)), L["overrides"][str(o.kind.value)], o.reason)
        )

    ws = wb.create_sheet(L["sheet_decisions"])
    ws.append(
        (
            L["rank"],
            L["folio"],
            L["title"],
            L["region"],
            L["challenge"],
            L["amount"],
            L["internal_score"],
            L["vote_share"],
            L["final_score"],
            L["eligible"],
            L["decision"],
            L["reason"],
            L["decided_at"],
            L["decided_by"],
        )
    )
    for r in acta.ranking:
        d = acta.decisions.get(r.postulacion_id)
        who = acta.users.get(d.decided_by_id) if d and d.decided_by_id else None
        ws.append(
            (
                r.rank,
                r.folio,
                r.title,
                chile.region_name(r.region or "", r.region or ""),
                r.desafio_title,
                r.amount,
                r.internal_score,
                r.vote_share,
                r.final_score,
                L["yes"] if r.eligible else L["no"],
                L["outcomes"][str(d.outcome.value)] if d else "",
                d.reason if d else "",
                _local(d.decided_at) if d else "",
                who.name if who else "",
            )
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
