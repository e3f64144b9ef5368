"""Text search in lists: what a visitor types is matched literally, never as a LIKE pattern."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

LIKE_ESCAPE = "\\"


def escape_like(text: str, escape: str = LIKE_ESCAPE) -> str:
    """`text` with LIKE's wildcards (% and _) and the escape character itself escaped."""
    return text.replace(escape, escape * 2).replace("%", escape + "%").replace("_", escape + "_")


def contains_text(column: Any, text: str) -> sa.ColumnElement[bool]:
    """`column` contains `text`, ignoring case, with % and _ taken literally.

    ILIKE on PostgreSQL; on SQLite SQLAlchemy renders lower() on both sides.
    """
    return column.ilike(f"%{escape_like(text)}%", escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
