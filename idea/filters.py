"""Jinja filters for Chilean formats (money, dates, RUT, regions) and the names of roles."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask

from idea.chile import format_clp, format_date_es, format_datetime_es, format_rut, region_name
from idea.forms import role_label


def _safe_rut(value: str | None) -> str:
    if not value:
        return ""
    try:
        return format_rut(value)
    except ValueError:
        return value


def _fecha(value: date | datetime | None) -> str:
    return format_date_es(value) if value else ""


def _fecha_hora(value: datetime | None) -> str:
    return format_datetime_es(value) if value else ""


def datetime_attr(value: date | datetime | None) -> str:
    """A machine-readable value for `<time datetime>`: whole seconds in UTC, or the day for a date.

    HTML allows at most three digits of a second, and Python's isoformat() writes six.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:  # everything stored is UTC; a naive value is a UTC one read back plainly
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def decimals(value: float | None, places: int = 2, signed: bool = False) -> str:
    """A score as Chileans write it: a decimal comma and a fixed number of places (4,56; +0,75 signed)."""
    if value is None:
        return ""
    text = f"{value:+.{places}f}" if signed else f"{value:.{places}f}"
    return text.replace(".", ",")


def register(app: Flask) -> None:
    app.add_template_filter(format_clp, "clp")
    app.add_template_filter(_fecha, "fecha")
    app.add_template_filter(_fecha_hora, "fecha_hora")
    app.add_template_filter(datetime_attr, "datetime_attr")
    app.add_template_filter(decimals, "decimales")
    app.add_template_filter(_safe_rut, "rut")
    app.add_template_filter(lambda code: region_name(code, default=code or ""), "region")
    app.add_template_filter(role_label, "role_label")
