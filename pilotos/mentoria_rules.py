"""Pure rules of the mentoring (no database, no request): the expertise catalogue, the 8-week plan of a
mentoring, the weeks without a session, and the suggested mentors of a team with their reasons.

Everything works on plain dates (Chilean calendar dates): a week is seven calendar days, so a daylight
saving change never moves a slot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

WEEKS = 8
MAX_TAGS = 12
MAX_TAG_LENGTH = 40

# The fixed catalogue: slug -> (label, keywords found in a challenge, its vulnerable group or the project).
TAGS: dict[str, tuple[object, tuple[str, ...]]] = {
    "personas_mayores": (_l("Older people"), ("mayor", "mayores", "adulto mayor", "vejez", "envejec")),
    "infancia": (_l("Children and youth"), ("infancia", "niñ", "adolescen", "joven", "jóvenes", "escolar")),
    "discapacidad": (_l("Disability"), ("discapacidad", "inclusión", "accesib")),
    "migrantes": (_l("Migrants"), ("migrant", "extranjer", "refugiad")),
    "pueblos_indigenas": (_l("Indigenous peoples"), ("indígena", "mapuche", "aymara", "rapa nui", "pueblo")),
    "genero": (_l("Gender"), ("mujer", "género", "violencia")),
    "salud": (_l("Health"), ("salud", "cuidado", "dependencia", "hospital")),
    "educacion": (_l("Education"), ("educa", "escuela", "aprendiz", "alfabetiz")),
    "empleo": (_l("Employment"), ("empleo", "trabajo", "laboral", "emprend")),
    "vivienda": (_l("Housing"), ("vivienda", "campamento", "calle", "barrio")),
    "tecnologia": (_l("Technology"), ("digital", "tecnolog", "plataforma", "datos", "app")),
    "sostenibilidad": (_l("Sustainability model"), ("sostenib", "financiamiento", "modelo de negocio")),
    "evaluacion_impacto": (_l("Impact evaluation"), ("impacto", "indicador", "línea base", "evaluación")),
    "gestion_publica": (_l("Public management"), ("municipi", "servicio público", "seremi", "ministerio")),
}


def fold(text: str) -> str:
    """Lower case without accents, for matching keywords."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tag_label(tag: str) -> str:
    entry = TAGS.get(tag)
    return str(entry[0]) if entry else tag


def clean_tags(catalogue: Iterable[str], free: str) -> list[str]:
    """The chosen catalogue slugs then the free tags (comma separated, lower case, de-duplicated)."""
    tags = [t for t in catalogue if t in TAGS]
    for raw in free.split(","):
        tag = re.sub(r"\s+", " ", raw).strip().lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def tag_problems(tags: list[str]) -> list[str]:
    problems = []
    if len(tags) > MAX_TAGS:
        problems.append(str(_l("At most %(num)d expertise tags.", num=MAX_TAGS)))
    if any(len(t) > MAX_TAG_LENGTH for t in tags):
        problems.append(str(_l("Each tag may have at most %(num)d characters.", num=MAX_TAG_LENGTH)))
    return problems


# --- the plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Semana:
    number: int  # 1..8
    start: date
    end: date  # inclusive

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def plan(start: date) -> list[Semana]:
    """Eight weekly slots of seven calendar days from the start date."""
    return [
        Semana(n + 1, start + timedelta(days=7 * n), start + timedelta(days=7 * n + 6)) for n in range(WEEKS)
    ]


def plan_end(start: date) -> date:
    return start + timedelta(days=7 * WEEKS - 1)


def week_of(start: date, day: date) -> int | None:
    """The slot (1..8) a day falls in, or None outside the plan."""
    offset = (day - start).days
    if offset < 0 or offset >= 7 * WEEKS:
        return None
    return offset // 7 + 1


def missed_weeks(start: date, session_days: Iterable[date], today: date) -> list[int]:
    """The weeks that are over (ended before `today`) without any session."""
    held = {week_of(start, d) for d in session_days}
    return [s.number for s in plan(start) if s.end < today and s.number not in held]


def current_week(start: date, today: date) -> int | None:
    return week_of(start, today)


# --- suggestions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PerfilEquipo:
    """What a suggestion looks at in a team."""

    equipo_id: int
    region: str | None
    text: str  # challenge title and problem, vulnerable group, project title
    rut: str | None  # its organisation


@dataclass(frozen=True)
class PerfilMentor:
    mentor_id: int
    region: str | None  # None: works in any region
    tags: tuple[str, ...]
    capacity: int
    active: int  # teams it mentors now
    conflict_ruts: frozenset[str] = frozenset()
    conflict_equipos: frozenset[int] = frozenset()


@dataclass
class Sugerencia:
    mentor_id: int
    score: int
    # ("region", code), ("any_region", ""), ("tag", tag): shown by reason_text().
    reasons: list[tuple[str, str]] = field(default_factory=list)


def reason_text(reason: tuple[str, str]) -> str:
    kind, value = reason
    if kind == "region":
        return str(_l("same region"))
    if kind == "any_region":
        return str(_l("works in any region"))
    return str(_l("experience in %(tag)s", tag=tag_label(value).lower()))


REGION_POINTS = 3
ANY_REGION_POINTS = 1
TAG_POINTS = 2


def matching_tags(tags: Iterable[str], text: str) -> list[str]:
    """The mentor's tags whose keywords (or, for a free tag, the tag itself) appear in the team's text."""
    folded = fold(text)
    found = []
    for tag in tags:
        keywords = TAGS[tag][1] if tag in TAGS else (tag,)
        if any(fold(k) in folded for k in keywords if k):
            found.append(tag)
    return found


def excluded(team: PerfilEquipo, mentor: PerfilMentor) -> bool:
    """A mentor at capacity, or who declared a conflict with the team or its organisation."""
    return (
        mentor.active >= mentor.capacity
        or team.equipo_id in mentor.conflict_equipos
        or (team.rut is not None and team.rut in mentor.conflict_ruts)
    )


def suggest(team: PerfilEquipo, mentors: Iterable[PerfilMentor], limit: int = 5) -> list[Sugerencia]:
    """Mentors with room and free of conflicts, best first: same region (3 points) or any region (1), and
    2 points per expertise tag found in the team's challenge. Ties: more free places, then the lower id."""
    scored = []
    for mentor in mentors:
        if excluded(team, mentor):
            continue
        reasons: list[tuple[str, str]] = []
        score = 0
        if mentor.region is not None and mentor.region == team.region:
            score += REGION_POINTS
            reasons.append(("region", team.region or ""))
        elif mentor.region is None:
            score += ANY_REGION_POINTS
            reasons.append(("any_region", ""))
        for tag in matching_tags(mentor.tags, team.text):
            score += TAG_POINTS
            reasons.append(("tag", tag))
        if score == 0:
            continue
        scored.append(
            (
                score,
                mentor.capacity - mentor.active,
                -mentor.mentor_id,
                Sugerencia(mentor.mentor_id, score, reasons),
            )
        )
    scored.sort(key=lambda row: (row[0], row[1], row[2]), reverse=True)
    return [row[3] for row in scored[:limit]]
