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


def iso_utc(value: datetime | None) -> str:
    """A machine-readable instant for <time datetime>: UTC, whole seconds ("2026-05-31T03:59:59Z")."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive values; everything stored is UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def register(app: Flask) -> None:
    app.add_template_filter(iso_utc, "iso_utc")
    app.add_template_filter(format_clp, "clp")
    app.add_template_filter(_fecha, "fecha")
    app.add_template_filter(_fecha_hora, "fecha_hora")
    app.add_template_filter(_safe_rut, "rut")
    app.add_template_filter(lambda code: region_name(code, default=code or ""), "region")
    app.add_template_filter(role_label, "role_label")
