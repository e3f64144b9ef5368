"""Trust: footer with privacy, accessibility and contact pages, the instance's identity as configuration,
the favicon and the card shown when a public page is shared."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from flask import Flask

from idea.config import Config


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def footer(page: str) -> str:
    return page.split("<footer", 1)[1].split("</footer>", 1)[0]


def test_every_page_s_footer_links_privacy_accessibility_and_contact(client: Any, login_as: Any) -> None:
    for who, url in ((client, "/"), (client, "/cuenta/ingresar"), (login_as(), "/cuenta/perfil")):
        links = footer(text(who.get(url)))
        for href in ('href="/privacidad"', 'href="/accesibilidad"', 'href="/contacto"',
                     'href="mailto:contacto@fondoidea.cl"'):
            assert href in links, (url, href)


def test_the_privacy_notice_names_the_controller_the_purposes_and_the_rights(client: Any) -> None:
    response = client.get("/privacidad")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Aviso de privacidad</h1>" in page
    assert "Fondo de Solidaridad e Inversión Social (FOSIS)" in page
    assert "Ley N° 19.628" in page and "Ley N° 21.719" in page
    for right in ("Acceso", "Rectificación", "Supresión", "Oposición", "Portabilidad"):
        assert f"<strong>{right}:</strong>" in page
    assert "Para qué los usamos" in page and "Agencia de Protección de Datos Personales" in page
    assert 'href="mailto:contacto@fondoidea.cl"' in page


def test_the_accessibility_statement_gives_target_limitations_and_contact(client: Any) -> None:
    page = text(client.get("/accesibilidad"))
    assert "WCAG" in page and "2.1" in page and "AA" in page
    assert "Limitaciones conocidas" in page and 'href="mailto:contacto@fondoidea.cl"' in page


def test_the_contact_page(client: Any) -> None:
    page = text(client.get("/contacto"))
    assert "<h1>Contacto</h1>" in page and "Nunca te pediremos tu contraseña" in page


def test_the_pages_follow_the_chosen_language(client: Any) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = text(client.get("/privacidad"))
    assert "<h1>Privacy notice</h1>" in page and "Portability" in page


def test_name_operator_contact_and_logo_are_configuration(app: Flask, client: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "FUND_NAME", "Fondo Sur")
    monkeypatch.setitem(app.config, "FUND_OPERATOR", "Gobierno Regional")
    monkeypatch.setitem(app.config, "FUND_OPERATOR_LEGAL_NAME", "Gobierno Regional del Biobío")
    monkeypatch.setitem(app.config, "CONTACT_EMAIL", "ayuda@fondosur.cl")
    monkeypatch.setitem(app.config, "FUND_LOGO_URL", "/static/logo-sur.svg")
    page = text(client.get("/contacto"))
    assert re.search(r"<title>Contact[^<]* · Gobierno Regional</title>", page)
    assert '<img class="brand-logo" src="/static/logo-sur.svg" alt="" height="32">' in page
    assert "Fondo Sur" in page and "ayuda@fondosur.cl" in page and "Gobierno Regional del Biobío" in page
    assert "FOSIS" not in page


def test_the_environment_sets_the_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("FUND_NAME", "Fondo Norte")
    monkeypatch.setenv("CONTACT_EMAIL", "hola@norte.cl")
    config = Config(tmp_path)
    assert config.FUND_NAME == "Fondo Norte" and config.CONTACT_EMAIL == "hola@norte.cl"
    assert config.FUND_OPERATOR == "FOSIS"


def test_favicon_ico_is_served_and_linked(client: Any) -> None:
    response = client.get("/favicon.ico")
    response.get_data()
    response.close()  # a file is streamed: close it
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert response.mimetype == "image/vnd.microsoft.icon"
    head = text(client.get("/")).split("</head>", 1)[0]
    assert '<link rel="icon" href="/favicon.ico"' in head


def test_public_pages_share_an_absolute_1200x630_card(client: Any) -> None:
    from PIL import Image

    head = text(client.get("/")).split("</head>", 1)[0]
    match = re.search(r'<meta property="og:image" content="([^"]+)">', head)
    assert match and match.group(1) == "http://localhost/og-image.png"
    response = client.get("/og-image.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "max-age" in response.headers["Cache-Control"]
    assert Image.open(io.BytesIO(response.data)).size == (1200, 630)
    again = client.get("/og-image.png", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
