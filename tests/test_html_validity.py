"""Markup the Nu Html Checker refused, checked one by one (machine-readable times, date inputs, required
selects); and, in a phone-sized browser, wide tables that say they scroll and a profile that fits."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from idea.audit import record
from idea.extensions import db

try:
    from idea.filters import datetime_attr
except ImportError:
    datetime_attr = None
from idea.models import EventoAuditoria, Role, User
from tests.browser import assert_accessible, assert_fits_width
from tests.test_browser_pages import session_cookie

VALID_DATETIME = re.compile(r'datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"')


def test_datetime_attribute_has_whole_seconds_in_utc() -> None:
    moment = datetime(2026, 3, 5, 14, 7, 9, 599_965, tzinfo=UTC)
    assert datetime_attr(moment) == "2026-03-05T14:07:09Z"
    assert datetime_attr(date(2026, 3, 5)) == "2026-03-05"
    assert datetime_attr(None) == ""
    # Stored times are UTC; a value read back without its zone (SQLite) is taken as UTC.
    assert datetime_attr(datetime(2026, 3, 5, 14, 7, 9, 12)) == "2026-03-05T14:07:09Z"


def test_the_audit_log_times_are_valid_html(login_as: Any) -> None:
    admin = login_as(Role.ADMIN)
    record(admin.user, "user.login", admin.user)  # created_at has microseconds
    db.session.commit()
    html = admin.get("/admin/auditoria").get_data(as_text=True)
    times = re.findall(r'<time datetime="[^"]*"', html)
    assert times and all(VALID_DATETIME.search(t) for t in times), times


def test_the_audit_log_date_filters_carry_no_maxlength(login_as: Any) -> None:
    html = login_as(Role.ADMIN).get("/admin/auditoria").get_data(as_text=True)
    date_inputs = re.findall(r'<input[^>]*type="date"[^>]*>', html)
    assert len(date_inputs) == 2
    assert not any("maxlength" in tag for tag in date_inputs)


def test_no_role_is_preselected_when_inviting_staff(login_as: Any) -> None:
    admin = login_as(Role.ADMIN)
    html = admin.get("/admin/usuarios/invitar").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="role"[^>]*>\s*<option([^>]*)>([^<]*)</option>', html)
    assert select is not None
    assert 'value=""' in select.group(1) and select.group(2) == "Elige un rol"

    response = admin.post("/admin/usuarios/invitar", data={
        "name": "Sin Rol", "email": "sinrol@example.cl", "role": "", "convocatoria_id": "", "region": "",
    })
    assert response.status_code == 422
    assert "Este campo es obligatorio" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.email == "sinrol@example.cl")) is None
    invited = sa.select(EventoAuditoria).where(EventoAuditoria.action == "user.invited")
    assert not db.session.scalars(invited).all()


def test_a_long_email_and_scoped_roles_fit_the_profile_on_a_phone(
    app: Any, live_server: str, page: Any, make_user: Any
) -> None:
    user = make_user(Role.ENCARGADO_TECNICO, email="encargada.region.del.biobio@demo.fondoidea.cl",
                     region="08")
    page.context.add_cookies([session_cookie(app, user, live_server)])
    page.goto(f"{live_server}/cuenta/perfil")
    assert_fits_width(page)
    assert_accessible(page)


def test_a_wide_table_is_a_focusable_named_region_with_a_hint_on_a_phone(
    app: Any, live_server: str, page: Any, make_user: Any
) -> None:
    admin = make_user(Role.ADMIN)
    for n in range(3):
        make_user(Role.EVALUADOR, email=f"evaluadora.numero.{n}@institucion-con-nombre-largo.cl")
    page.context.add_cookies([session_cookie(app, admin, live_server)])
    page.goto(f"{live_server}/admin/usuarios")
    region = page.locator(".table-wrap")
    assert region.get_attribute("role") == "region"
    assert region.get_attribute("tabindex") == "0"
    assert region.get_attribute("aria-label") == "Usuarios"
    assert page.locator(".scroll-hint").is_visible()
    # The keyboard reaches the region, and the arrow keys then scroll it.
    region.focus()
    page.keyboard.press("ArrowRight")
    assert_fits_width(page)
    assert_accessible(page)
