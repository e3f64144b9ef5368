"""What the applicant, lead and export pages call the values of the submission vocabulary.

One definition per value, used by the forms, the pages and the exports alike. The enums are StrEnums, so
each mapping can be read with the member or with its stored string value.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from convocatorias.models import EstadoPostulacion, Madurez, TipoOrganizacion

TIPO_ORGANIZACION_LABELS: dict[TipoOrganizacion, Any] = {
    TipoOrganizacion.PUBLICO: _l("Public body"),
    TipoOrganizacion.MUNICIPALIDAD: _l("Municipality"),
    TipoOrganizacion.SIN_FINES_DE_LUCRO: _l("Non-profit organisation"),
    TipoOrganizacion.EMPRESA: _l("Company"),
    TipoOrganizacion.UNIVERSIDAD: _l("University or research centre"),
    TipoOrganizacion.GRUPO_INFORMAL: _l("Informal group"),
}

MADUREZ_LABELS: dict[Madurez, Any] = {
    Madurez.IDEA_VAGA: _l("Rough idea"),
    Madurez.IDEA_CLARA: _l("Clear idea"),
    Madurez.IDEA_ESTUDIADA: _l("Studied and prototyped idea"),
}

# What each maturity level means, shown under its option so an applicant can place the idea honestly.
MADUREZ_DESCRIPTIONS: dict[Madurez, Any] = {
    Madurez.IDEA_VAGA: _l("You have seen the problem and have a first idea of how to tackle it, not yet "
                          "worked out or tried."),
    Madurez.IDEA_CLARA: _l("You know what you would do, for whom and how, and have talked it over with the "
                           "people it is for, but have not tried it yet."),
    Madurez.IDEA_ESTUDIADA: _l("You have studied the idea and tried it out in a prototype or a small test "
                               "with the people it is for."),
}

ESTADO_LABELS: dict[EstadoPostulacion, Any] = {
    EstadoPostulacion.BORRADOR: _l("Draft"),
    EstadoPostulacion.ENVIADA: _l("Sent"),
    EstadoPostulacion.RETIRADA: _l("Withdrawn"),
    EstadoPostulacion.ADMISIBLE: _l("Admissible"),
    EstadoPostulacion.INADMISIBLE: _l("Not admissible"),
}

# The fields of the simple profile (and of a few other objects in the audit log), as people call them.
FIELD_LABELS: dict[str, Any] = {
    "desafio_id": _l("Challenge"),
    "title": _l("Title"),
    "problem": _l("Problem"),
    "solution": _l("Proposed solution"),
    "beneficiaries": _l("Who benefits"),
    "beneficiaries_count": _l("People who would benefit"),
    "region": _l("Region"),
    "comuna": _l("Commune"),
    "maturity": _l("Maturity"),
    "coproduction": _l("Co-production with users"),
    "requested_amount": _l("Amount requested"),
    "team": _l("Team"),
    "status": _l("Status"),
    "folio": _l("Folio"),
    "name": _l("Name"),
    "rut": _l("RUT"),
    "tipo": _l("Organisation type"),
    "contact_name": _l("Contact person"),
    "contact_email": _l("Contact e-mail"),
    "contact_phone": _l("Contact phone"),
    "original_name": _l("File"),
    "size": _l("Size"),
    "year": _l("Year"),
    "summary": _l("Summary"),
    "description": _l("Description"),
    "rules": _l("Rules"),
    "fase": _l("Phase"),
    "total_budget": _l("Total budget"),
    "min_amount": _l("Minimum amount per project"),
    "max_amount": _l("Maximum amount per project"),
    "max_submissions_per_org": _l("Maximum submissions per organisation"),
    "vote_weight": _l("Weight of the public vote (%)"),
    "submissions_open_at": _l("Submissions open"),
    "submissions_close_at": _l("Submissions close"),
    "published_at": _l("Published"),
    "is_national": _l("National"),
    "regions": _l("Regions"),
    "partner_institution": _l("Partner institution"),
    "grupo_vulnerable_id": _l("Vulnerable group"),
    "format": _l("Format"),
    "filters": _l("Filters"),
    "rows": _l("Rows"),
}


def label(labels: dict[Any, Any], value: Any) -> str:
    """The label of `value` (a member or its string value); '' for None, the raw value if unknown."""
    if value is None:
        return ""
    return str(labels.get(value, getattr(value, "value", value)))


def label_choices(labels: dict[Any, Any]) -> list[tuple[str, Any]]:
    """(stored value, label) pairs for a select field, in the order of the mapping."""
    return [(str(value), text) for value, text in labels.items()]


def estado_label(value: Any) -> str:
    return label(ESTADO_LABELS, value or None)


def madurez_label(value: Any) -> str:
    return label(MADUREZ_LABELS, value)


def tipo_label(value: Any) -> str:
    return label(TIPO_ORGANIZACION_LABELS, value)


def madurez_hints() -> dict[str, str]:
    """Stored value -> description of each maturity level, for the hints of the radios."""
    return {str(value): str(text) for value, text in MADUREZ_DESCRIPTIONS.items()}


def register(app: Flask) -> None:
    """Let every template (and macro) say `estado_label(p.status)`, `madurez_label(…)`, `tipo_label(…)`."""
    for helper in (estado_label, madurez_label, tipo_label, madurez_hints):
        app.add_template_global(helper)
