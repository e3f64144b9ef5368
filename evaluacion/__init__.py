"""Evaluación: rubrics, reviewer assignment and scoring, popular vote, committee ranking and selection."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from evaluacion import models  # noqa: F401  (register the tables)
