"""One way to read what a visitor puts in a URL: bounded ids, pages, dates, choices and search text.

Every value arriving in a query string or a path is hostile until parsed here. Whatever is out of range,
malformed or whitespace-only is treated as absent (or refused with a 404 for ids in a path), so that no
value reaches the database that it cannot hold: PostgreSQL's `integer` ends at 2**31 - 1, SQLite's at
2**63 - 1, and Python's datetime at the year 9999. A NUL byte anywhere is refused with a 400.

New list views read their parameters with `page_param()`, `text_param()`, `choice_param()`,
`id_param()` and `date_param()`; a path id is an `<int:...>` route, bounded by `BoundedIntConverter`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map, ValidationError

# The largest id a column of type `integer` holds (PostgreSQL; SQLite holds more, so this is the bound).
DB_INT_MAX = 2**31 - 1
# A page past this is past the end of any list the platform shows; it is clamped (never an OFFSET overflow).
MAX_PAGE = 10_000
# Free text searched in a list; longer input is cut (a search box has no use for more).
SEARCH_MAX_LENGTH = 200


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` limited to what an integer column holds, so an out-of-range id is a 404 before any query.

    Registered as the app's `int` converter, so every existing `<int:id>` route is bounded without edits.
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002 - Werkzeug's names
        max: int | None = None,
        signed: bool = False,
    ) -> None:  # noqa: A002
        super().__init__(
            map, fixed_digits=fixed_digits, min=min, max=DB_INT_MAX if max is None else max, signed=signed
        )

    def to_python(self, value: str) -> Any:
        # Refuse on length first: int() of a few thousand digits is slow, and past 4300 it raises.
        if len(value.lstrip("-")) > len(str(self.max)):
            raise ValidationError()
        return super().to_python(value)


def register_converters(app: Flask) -> None:
    """Make `<int:...>` bounded; call before any route is added."""
    app.url_map.converters["int"] = BoundedIntConverter


class NulByteRefused(BadRequest):
    """A request with a NUL byte: refused whole, before any view or query sees it."""

    user_message = _l(
        "The address or the form contains a null character, which is not allowed. Remove it "
        "(it is invisible, so retype the text if needed) and try again."
    )


def _has_nul(pairs: Iterable[tuple[str, Any]]) -> bool:
    return any("\x00" in key or "\x00" in (getattr(value, "filename", value) or "") for key, value in pairs)


def refuse_nul_bytes() -> None:
    """before_request hook: a NUL byte anywhere in the path, the query string or a form is a 400.

    PostgreSQL cannot store NUL in text and refuses it in a query parameter, so without this a NUL typed
    in a search or a form would be a 500 wherever it reaches the database. Every value of a repeated
    name is checked (not only the first, which is all `.get()` and `.values()` give).
    """
    if "\x00" in request.path or _has_nul(request.args.items(multi=True)):
        raise NulByteRefused()
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and (
        _has_nul(request.form.items(multi=True)) or _has_nul(request.files.items(multi=True))
    ):
        raise NulByteRefused()


# --- parsing plain values ---------------------------------------------------------------------------


def clean_text(value: Any, max_length: int = SEARCH_MAX_LENGTH) -> str:
    """`value` stripped and cut to `max_length`; None, a non-string or whitespace only gives ""."""
    if not isinstance(value, str):
        return ""
    return value.strip()[:max_length].strip()


def parse_int(value: Any, *, minimum: int = 0, maximum: int = DB_INT_MAX) -> int | None:
    """The integer written in `value` (digits, optional sign) when within [minimum, maximum], else None."""
    text = clean_text(value, 40)
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def parse_day(value: Any) -> date | None:
    """A date written YYYY-MM-DD; None when absent or whitespace only; ValueError when malformed."""
    text = clean_text(value, 40)
    if not text:
        return None
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


def day_start_utc(day: date) -> datetime:
    """The UTC instant at which `day` starts in Santiago (any date: the far future clamps)."""
    return _santiago_to_utc(datetime.combine(day, time.min))


def day_end_utc(day: date) -> datetime:
    """The last UTC instant of `day` in Santiago, for an inclusive "until" filter (never overflows)."""
    return _santiago_to_utc(datetime.combine(day, time.max))


def _santiago_to_utc(local: datetime) -> datetime:
    from idea.chile import from_santiago

    try:
        return from_santiago(local)
    except OverflowError:
        # Only the last hours of 31 December 9999 overflow (Santiago is behind UTC): the end of time.
        return datetime.max.replace(tzinfo=UTC)


# --- reading the query string -----------------------------------------------------------------------


def page_param(name: str = "page") -> int:
    """The page number asked for: 1 when absent or malformed, at most MAX_PAGE."""
    text = clean_text(request.args.get(name), 40)
    if not (text.isascii() and text.isdigit()):
        return 1
    return max(1, min(int(text), MAX_PAGE))


def per_page_param(default: int, maximum: int, name: str = "per_page") -> int:
    """How many rows per page: `default` when absent or malformed, between 1 and `maximum`."""
    text = clean_text(request.args.get(name), 40)
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        return default
    return min(int(text), maximum)


def id_param(name: str) -> int | None:
    """An id from the query string (1 up to what an integer column holds), or None."""
    return parse_int(request.args.get(name), minimum=1)


def text_param(name: str, max_length: int = SEARCH_MAX_LENGTH) -> str:
    """Free text (a search), stripped and cut to `max_length`; "" when absent or whitespace only."""
    return clean_text(request.args.get(name), max_length)


def choice_param(name: str, choices: Iterable[str]) -> str | None:
    """The value when it is one of `choices` (after stripping), else None."""
    value = clean_text(request.args.get(name), 200)
    return value if value and value in set(choices) else None


def date_param(name: str) -> date | None:
    """A YYYY-MM-DD date, or None (absent or invalid); convert with day_start_utc()/day_end_utc()."""
    try:
        return parse_day(request.args.get(name))
    except ValueError:
        return None
