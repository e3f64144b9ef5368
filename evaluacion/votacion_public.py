"""The public voting pages: the shortlist of a call as cards (filters, search, an order shuffled per visitor)
and a page per idea with share links and Open Graph tags. No personal data: a card shows the idea's title,
its challenge, its region, the public summary and (when the call shows them) its vote count.

Both pages are served from the page cache (`idea.pagecache`) for anonymous visitors. The per-visitor order
is one of ORDERS fixed permutations, chosen by a number kept in the visitor's session: the page stays
cacheable per (filters, permutation) and a visitor sees the same order during their visit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, pgettext
from markupsafe import Markup
from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional

from convocatorias.models import FASES_ORDEN, Convocatoria, Desafio, Fase, Postulacion
from convocatorias.queries import is_public
from evaluacion.votacion_models import ConfiguracionVotacion, Preseleccion, Voto
from idea import chile, pagecache
from idea.extensions import db
from idea.forms import FilterForm
from idea.mail import external_url
from idea.params import choice_param, id_param, page_param, text_param
from idea.permissions import PUBLIC, access
from idea.search import contains_text

bp = Blueprint("votacion_publica", __name__)

ORDERS = 8  # how many different orders visitors are spread over
PER_PAGE = 24  # cards per page: light on a phone
SUMMARY_CARD = 220  # characters of the summary on a card
ORDER_KEY = "voto_orden"


def _changed_scopes(obj: Any) -> list[str]:
    """A change of a shortlist entry: only its counter moved → the call's vote scope, else everything."""
    if isinstance(obj, Voto):
        return [pagecache.votes_scope(obj.convocatoria_id)]
    state = sa.inspect(obj)
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    if state.persistent and changed and changed <= {"vote_count"}:
        return [pagecache.votes_scope(obj.convocatoria_id)]
    return [pagecache.PUBLIC]


pagecache.watch_models(pagecache.PUBLIC, ConfiguracionVotacion)
pagecache.watch_models(_changed_scopes, Preseleccion, Voto)


class VotacionFilterForm(FilterForm):
    """The GET filters of the voting page (values are read with idea.params; this form draws them)."""

    q = SearchField(_l("Search ideas"), validators=[Optional(), Length(max=100)])
    region = SelectField(_l("Region"), validators=[Optional()])
    desafio = SelectField(_l("Challenge"), validators=[Optional()])


@dataclass(frozen=True)
class Pages:
    """What `_macros/forms.html` pager() reads."""

    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


# --- the state of the vote ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ventana:
    """Where the call's vote stands: "soon" (before the window), "open", or "closed"."""

    state: str
    opens_at: datetime | None
    closes_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def ventana(convocatoria: Convocatoria, now: datetime | None = None) -> Ventana:
    now = now or chile.utcnow()
    opens, closes = convocatoria.vote_open_at, convocatoria.vote_close_at
    if convocatoria.fase != Fase.VOTACION or (closes is not None and now >= closes):
        state = "closed"
    elif opens is not None and now < opens:
        state = "soon"
    else:
        state = "open"
    return Ventana(state, opens, closes)


def _load_call(slug: str) -> tuple[Convocatoria, ConfiguracionVotacion]:
    """The public call with a published shortlist, in the vote or after it; else 404."""
    row = db.session.execute(
        sa.select(Convocatoria, ConfiguracionVotacion)
        .join(ConfiguracionVotacion, ConfiguracionVotacion.convocatoria_id == Convocatoria.id)
        .where(Convocatoria.slug == slug, is_public(), ConfiguracionVotacion.published_at.is_not(None))
    ).first()
    if row is None or FASES_ORDEN.index(row[0].fase) < FASES_ORDEN.index(Fase.VOTACION):
        abort(404)
    return row[0], row[1]


# The id of a call by its slug, remembered by this process (the page cache needs it before any query).
_CALL_IDS: dict[str, int] = {}


def _call_id(slug: str) -> int | None:
    call_id = _CALL_IDS.get(slug)
    if call_id is None:
        call_id = db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == slug))
        if call_id is None:
            return None
        if len(_CALL_IDS) > 1000:
            _CALL_IDS.clear()
        _CALL_IDS[slug] = call_id
    return call_id


def _scopes(**_kwargs: Any) -> list[str]:
    # The vote counts are not part of the stored page: they are filled in at each request (_COUNTS).
    return [pagecache.PUBLIC]


# --- vote counts: filled in each time a page is served ------------------------------------------------------

_COUNT_MARK = "@@votos:{}@@"
_COUNT_MARKS = re.compile(r"@@votos:(\d+)@@")
# Per call: the version of its vote counters read last, and the counters (one query per new version).
_COUNTS: dict[int, tuple[str, dict[int, int], int]] = {}


def _counts_tag(slug: str, **_kwargs: Any) -> str:
    call_id = _call_id(slug)
    if call_id is None:
        return ""
    return "v" + pagecache.state_tag([pagecache.votes_scope(call_id)])


def _current_counts(call_id: int, tag: str) -> tuple[dict[int, int], int]:
    """The counters of the call's shortlist and when this process read them (epoch seconds)."""
    known = _COUNTS.get(call_id)
    if known is not None and known[0] == tag:
        return known[1], known[2]
    rows = db.session.execute(
        sa.select(Preseleccion.id, Preseleccion.vote_count).where(Preseleccion.convocatoria_id == call_id)
    )
    counts = {row[0]: row[1] for row in rows}
    if len(_COUNTS) > 1000:
        _COUNTS.clear()
    _COUNTS[call_id] = (tag, counts, int(time.time()))
    return counts, _COUNTS[call_id][2]


def count_phrase(votes: int) -> Markup:
    return Markup("<strong>{}</strong> {}").format(votes, ngettext("vote", "votes", votes))


def _fill_counts(body: str, slug: str, **_kwargs: Any) -> str:
    if "@@votos:" not in body:
        return body
    call_id = _call_id(slug)
    counts = _current_counts(call_id, _counts_tag(slug))[0] if call_id is not None else {}
    phrases: dict[int, str] = {}  # each distinct count translated once per request, not once per card

    def phrase(match: re.Match[str]) -> str:
        votes = counts.get(int(match.group(1)), 0)
        text = phrases.get(votes)
        if text is None:
            text = phrases[votes] = str(count_phrase(votes))
        return text

    return _COUNT_MARKS.sub(phrase, body)


def _counts_modified(slug: str, **_kwargs: Any) -> int | None:
    call_id = _call_id(slug)
    return _current_counts(call_id, _counts_tag(slug))[1] if call_id is not None else None


COUNTS_FILL = pagecache.Fill(tag=_counts_tag, apply=_fill_counts, modified=_counts_modified)


def vote_count(card: Card) -> Markup | str:
    """A card's count as shown: a mark filled in at each request on a shared page, else the number."""
    if pagecache.rendering_shared_page():
        return _COUNT_MARK.format(card.id)  # no character HTML escapes
    return count_phrase(card.votes)


def order_seed() -> int:
    """This visitor's order (0..ORDERS-1), chosen at random on their first voting page and kept in their
    session for the visit."""
    seed = session.get(ORDER_KEY)
    if not isinstance(seed, int) or not 0 <= seed < ORDERS:
        seed = secrets.randbelow(ORDERS)
        session[ORDER_KEY] = seed
    return seed


def _variant(**_kwargs: Any) -> str:
    return f"orden:{order_seed()}"


def _position(seed: int, preseleccion_id: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{preseleccion_id}".encode(), digest_size=8).digest()


# --- cards --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    id: int
    title: str
    desafio: str
    region: str
    summary: str
    votes: int


def _card_rows(
    call_id: int,
    *,
    region: str | None = None,
    desafio_id: int | None = None,
    q: str = "",
    preseleccion_id: int | None = None,
) -> list[Card]:
    """The shortlist's cards in one query (plain columns, the counter read from Preseleccion)."""
    stmt = (
        sa.select(
            Preseleccion.id,
            Postulacion.title,
            Desafio.title,
            Postulacion.region,
            Preseleccion.summary,
            Preseleccion.vote_count,
        )
        .join(Postulacion, Postulacion.id == Preseleccion.postulacion_id)
        .join(Desafio, Desafio.id == Postulacion.desafio_id)
        .where(Preseleccion.convocatoria_id == call_id)
    )
    if region:
        stmt = stmt.where(Postulacion.region == region)
    if desafio_id:
        stmt = stmt.where(Postulacion.desafio_id == desafio_id)
    if q:
        stmt = stmt.where(sa.or_(contains_text(Postulacion.title, q), contains_text(Preseleccion.summary, q)))
    if preseleccion_id is not None:
        stmt = stmt.where(Preseleccion.id == preseleccion_id)
    return [
        Card(
            id=row[0],
            title=row[1],
            desafio=row[2],
            region=chile.region_name(row[3] or "", default=""),
            summary=row[4] or "",
            votes=row[5] or 0,
        )
        for row in db.session.execute(stmt)
    ]


def _region_codes(call_id: int) -> list[str]:
    codes = db.session.scalars(
        sa.select(Postulacion.region)
        .join(Preseleccion, Preseleccion.postulacion_id == Postulacion.id)
        .where(Preseleccion.convocatoria_id == call_id, Postulacion.region.is_not(None))
        .distinct()
    )
    return sorted(
        (c for c in codes if c),
        key=lambda code: [r.code for r in chile.REGIONS].index(code) if code in chile.REGIONS_BY_CODE else 99,
    )


def _vote_url(slug: str, preseleccion_id: int) -> str:
    """The vote form of the idea (blueprint "votacion"; by its path while that blueprint is absent)."""
    if "votacion.vote" in current_app.view_functions:
        return url_for("votacion.vote", slug=slug, preseleccion_id=preseleccion_id)
    return url_for("votacion_publica.idea", slug=slug, preseleccion_id=preseleccion_id) + "/votar"


@bp.route("/convocatorias/<slug>/votacion")
@access(PUBLIC)
@pagecache.cached(_scopes, query=("region", "desafio", "q", "page"), variant=_variant, fill=COUNTS_FILL)
def index(slug: str) -> Any:
    call, config = _load_call(slug)
    desafios = list(
        db.session.scalars(
            sa.select(Desafio)
            .where(Desafio.convocatoria_id == call.id)
            .order_by(Desafio.position, Desafio.id)
        )
    )
    region_codes = _region_codes(call.id)
    region = choice_param("region", region_codes)
    desafio_id = id_param("desafio")
    if desafio_id not in {d.id for d in desafios}:
        desafio_id = None
    q = text_param("q", 100)
    seed = order_seed()
    cards = _card_rows(call.id, region=region, desafio_id=desafio_id, q=q)
    cards.sort(key=lambda card: _position(seed, card.id))
    pages = max(1, -(-len(cards) // PER_PAGE))
    page = min(page_param(), pages)
    shown = cards[(page - 1) * PER_PAGE : page * PER_PAGE]
    filters = {"region": region, "desafio": desafio_id, "q": q}
    form = VotacionFilterForm(
        formdata=None, data={"q": q, "region": region or "", "desafio": str(desafio_id or "")}
    )
    form.region.choices = [("", pgettext("filter over a feminine noun", "All"))] + [
        (code, chile.region_name(code)) for code in region_codes
    ]
    form.desafio.choices = [("", pgettext("filter over a masculine noun", "All"))] + [
        (str(d.id), d.title) for d in desafios
    ]
    return render_template(
        "evaluacion/votacion_publica/index.html",
        convocatoria=call,
        config=config,
        ventana=ventana(call),
        form=form,
        filtered=any(v for v in filters.values()),
        cards=shown,
        total=len(cards),
        pagination=Pages(page, pages),
        pager_args={"slug": slug, **{k: v for k, v in filters.items() if v}},
        page_url=external_url("votacion_publica.index", slug=slug),
    )


@bp.route("/convocatorias/<slug>/votacion/<int:preseleccion_id>")
@access(PUBLIC)
@pagecache.cached(_scopes, fill=COUNTS_FILL)
def idea(slug: str, preseleccion_id: int) -> Any:
    call, config = _load_call(slug)
    cards = _card_rows(call.id, preseleccion_id=preseleccion_id)
    if not cards:
        abort(404)
    card = cards[0]
    share_url = external_url("votacion_publica.idea", slug=slug, preseleccion_id=preseleccion_id)
    text = _("Vote for “%(title)s” in %(call)s", title=card.title, call=call.title)
    return render_template(
        "evaluacion/votacion_publica/idea.html",
        convocatoria=call,
        config=config,
        ventana=ventana(call),
        card=card,
        share_url=share_url,
        shares=_share_links(share_url, text, card.title),
        vote_url=_vote_url(slug, preseleccion_id),
    )


def _share_links(url: str, text: str, title: str) -> list[tuple[str, str]]:
    """Plain links that open each network's share form (no script, no tracking pixel)."""
    return [
        ("WhatsApp", "https://wa.me/?" + urlencode({"text": f"{text} {url}"})),
        ("X", "https://x.com/intent/post?" + urlencode({"text": text, "url": url})),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        (_("E-mail"), f"mailto:?subject={quote(title)}&body={quote(text + ' ' + url)}"),
    ]


def _on_vote_counted(_sender: Any, convocatoria_id: int, **_kwargs: Any) -> None:
    # The vote operation moves the counter in SQL: its pages are rendered afresh once the vote commits.
    pagecache.bump_on_commit(pagecache.votes_scope(convocatoria_id))


def init_app(app: Any) -> None:
    from evaluacion import votacion

    app.register_blueprint(bp)
    app.add_template_global(vote_count, "vote_count")
    votacion.vote_counted.connect(_on_vote_counted, weak=False)
