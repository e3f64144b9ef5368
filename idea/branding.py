"""Who runs this instance: the fund's name, its operator, contact and logo (configuration, not code), the
icons, and the default card shown when a public page is shared (og:image)."""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from idea.permissions import PUBLIC, access

bp = Blueprint("branding", __name__)

CARD_SIZE = (1200, 630)
BRAND = "#0b5394"
BRAND_DARK = "#073763"


def fund() -> dict[str, Any]:
    """The instance's identity as templates use it: `fund.name`, `fund.operator`, `fund.contact_email`…"""
    config = current_app.config
    return {
        "name": config["FUND_NAME"],
        "operator": config["FUND_OPERATOR"],
        "operator_legal_name": config["FUND_OPERATOR_LEGAL_NAME"],
        "contact_email": config["CONTACT_EMAIL"],
        "logo_url": config["FUND_LOGO_URL"],
    }


@lru_cache(maxsize=8)
def social_card_png(name: str, operator: str) -> bytes:
    """A 1200×630 PNG with the fund's name and operator: drawn once per name, then served from memory."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = CARD_SIZE
    image = Image.new("RGB", CARD_SIZE, BRAND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height - 90, width, height), fill=BRAND_DARK)
    draw.rounded_rectangle((80, 80, 200, 200), radius=24, fill="#ffffff")
    draw.text((140, 146), "i", font=ImageFont.load_default(size=110), fill=BRAND, anchor="mm")
    title_font = ImageFont.load_default(size=96 if len(name) <= 20 else 72)
    lines = textwrap.wrap(name, width=22 if len(name) <= 20 else 30)[:3]
    y = 250
    for line in lines:
        draw.text((80, y), line, font=title_font, fill="#ffffff")
        y += int(title_font.size * 1.15)
    draw.text((80, height - 45), operator, font=ImageFont.load_default(size=40), fill="#ffffff", anchor="lm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@bp.route("/og-image.png")
@access(PUBLIC)
def social_card() -> Any:
    info = fund()
    response = Response(social_card_png(info["name"], info["operator"]), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/favicon.ico")
@access(PUBLIC)
def favicon() -> Any:
    # Browsers and crawlers ask for /favicon.ico whatever the page says; a committed icon answers. It is
    # a few hundred bytes, so it is kept in memory rather than streamed from a file each time.
    response = Response(_favicon_bytes(current_app.static_folder or ""), mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response.make_conditional(request)


@lru_cache(maxsize=4)
def _favicon_bytes(static_folder: str) -> bytes:
    return (Path(static_folder) / "favicon.ico").read_bytes()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(fund, "fund")
