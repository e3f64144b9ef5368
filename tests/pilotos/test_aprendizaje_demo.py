"""The demo data's learning repository (`flask seed-demo`): at least six published sheets over several
groups and regions, one waiting for the lead, and no personal data on any public page or export: no RUT,
e-mail address (the site's own contact address aside), phone number or person's name."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa

from idea.extensions import db
from idea.models import User
from pilotos.aprendizaje_models import EstadoSistematizacion, Sistematizacion
from tests.test_browser_pages import load_demo

RUT = re.compile(r"\b\d{1,2}\.?\d{3}\.?\d{3}-[\dkK]\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?:\+?56[\s-]?)?\b9[\s-]?\d{4}[\s-]?\d{4}\b")


def _problems(where: str, text: str, allowed_emails: set[str], names: list[str]) -> list[str]:
    found = [f"{where}: RUT {m}" for m in RUT.findall(text)]
    found += [f"{where}: e-mail {m}" for m in EMAIL.findall(text) if m not in allowed_emails]
    found += [f"{where}: phone {m}" for m in PHONE.findall(text)]
    found += [f"{where}: name {n}" for n in names if n in text]
    return found


def test_demo_repository_has_no_personal_data(app: Any, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo(app, monkeypatch)
    sheets = list(db.session.scalars(sa.select(Sistematizacion).order_by(Sistematizacion.id)))
    published = [s for s in sheets if s.status == EstadoSistematizacion.PUBLICADA]
    assert len(published) >= 6
    assert len({s.region for s in published}) >= 4 and len({s.desafio_id for s in published}) >= 4
    assert len({g for s in published for g in s.group_keys}) >= 6
    assert any(s.status == EstadoSistematizacion.ENVIADA for s in sheets)
    assert any("niñas y niños" in s.problem for s in published)
    assert any("educación" in (s.solution + s.scaling_conditions).lower() for s in published)

    # Names of people with an account (and the organisations' contact names, which are theirs).
    names = [u.name for u in db.session.scalars(sa.select(User)) if u.name and len(u.name) > 5]
    allowed = {app.config["CONTACT_EMAIL"]}
    paths = [
        "/aprendizaje/",
        "/aprendizaje/?grupo=ninez",
        "/aprendizaje/?q=educacion",
        "/aprendizaje/feed.atom",
        "/aprendizaje/datos.csv",
        "/aprendizaje/datos.json",
        "/aprendizaje/suscribirse",
    ]
    paths += [f"/aprendizaje/{s.id}" for s in published]
    problems: list[str] = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        problems += _problems(path, response.get_data(as_text=True), allowed, names)
    data = json.loads(client.get("/aprendizaje/datos.json").get_data(as_text=True))["sistematizaciones"]
    assert {row["id"] for row in data} == {s.id for s in published}
    # The printable sheets: the HTML WeasyPrint renders, and the PDF itself (its text is compressed, so the
    # HTML is what is scanned; the PDF must simply be produced).
    for sheet in published[:2]:
        pdf = client.get(f"/aprendizaje/{sheet.id}/ficha.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    with app.test_request_context():
        from flask import render_template

        from pilotos.aprendizaje_views import _figures, _labels

        for sheet in published:
            html = render_template(
                "pilotos/aprendizaje/print.html", sheet=sheet, url="", **_figures(sheet), **_labels()
            )
            problems += _problems(f"PDF {sheet.id}", html, allowed, names)
    waiting = next(s for s in sheets if s.status == EstadoSistematizacion.ENVIADA)
    assert client.get(f"/aprendizaje/{waiting.id}").status_code == 404
    assert waiting.title not in client.get("/aprendizaje/").get_data(as_text=True)
    assert not problems, "\n".join(problems)
