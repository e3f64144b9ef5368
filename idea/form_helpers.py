"""What the shared form macros (templates/_macros/forms.html) ask of a form: its problems as a list for the
error summary, the length limit of a field, and whether the page being drawn shows a refused form.

Every page gets the "Error: " title prefix and the error summary the same way, from the forms it renders,
so no view has to remember to say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_babel import format_number
from jinja2 import pass_context
from jinja2.runtime import Context
from wtforms import Field, Form
from wtforms.validators import Length

# Fields that take free text, where a limit is worth saying before the person writes.
_TEXT_TYPES = frozenset({"StringField", "TextAreaField"})
# Short codes (RUT, phone) have a natural length; the hint is shown from this limit up.
_HINT_FROM = 100


@dataclass(frozen=True)
class Problem:
    """One line of the error summary: the message and the id of the control it links to ('' for none)."""

    message: str
    target: str


def _target(field: Field) -> str:
    if field.type in ("HiddenField", "CSRFTokenField"):
        return ""
    if field.type == "RadioField":
        # A group of radios is reached through its first option.
        return f"{field.id}-0"
    return field.id


def form_problems(form: Any) -> list[Problem]:
    """Every error of the form, in the order of its fields, then the form-wide ones."""
    if form is None:
        return []
    problems = [Problem(str(message), _target(field)) for field in form for message in field.errors]
    problems += [Problem(str(message), "") for message in getattr(form, "form_errors", []) or []]
    return problems


def max_length(field: Field) -> int | None:
    """The maximum a Length validator allows on a free-text field worth a hint, else None."""
    if field.type not in _TEXT_TYPES:
        return None
    limits = [v.max for v in field.validators if isinstance(v, Length) and v.max is not None and v.max >= 0]
    if not limits:
        return None
    limit = min(limits)
    return limit if field.type == "TextAreaField" or limit >= _HINT_FROM else None


def _refused_forms(context: Context) -> list[Form]:
    forms: dict[int, Form] = {}
    for value in context.get_all().values():
        if isinstance(value, Form) and value.errors:
            forms.setdefault(id(value), value)
    return list(forms.values())


@pass_context
def page_problems(context: Context) -> list[Any]:
    """The problems of the page for the error summary base.html draws above the heading: those of every
    refused form it renders, then `page_errors` a view passes for a page without fields of its own (each
    a mapping with `message` and `href`, a link to the field on another page)."""
    problems: list[Any] = [p for form in _refused_forms(context) for p in form_problems(form)]
    return problems + list(context.get("page_errors") or [])


@pass_context
def page_has_errors(context: Context) -> bool:
    """Whether the page shows an error summary: its title then starts with "Error: "."""
    return bool(context.get("page_errors")) or bool(_refused_forms(context))


def register(app: Flask) -> None:
    app.add_template_global(form_problems)
    app.add_template_global(page_has_errors)
    app.add_template_global(page_problems)
    app.add_template_filter(max_length)
    app.add_template_filter(format_number, "thousands")
