"""Staff administration: invitations, roles bound to a call or a region, and the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from idea.config import ProductionConfig
from idea.extensions import db
from idea.models import EventoAuditoria, Role, RoleAssignment, User
from tests.conftest import PASSWORD


def test_admin_invites_a_reviewer_who_sets_a_password_and_logs_in(
    login_as: Any, client: Any, outbox: Any
) -> None:
    admin = login_as(Role.ADMIN)
    response = admin.post(
        "/admin/usuarios/invitar",
        data={
            "name": "Rosa Revisora",
            "email": "rosa@example.cl",
            "role": "evaluador",
            "convocatoria_id": "",
            "region": "08",
        },
    )
    assert response.status_code == 302
    rosa = db.session.scalar(sa.select(User).where(User.email == "rosa@example.cl"))
    assert rosa.has_role(Role.EVALUADOR, region="08")
    assert not rosa.has_role(Role.EVALUADOR, region="13")
    assert not rosa.has_role(Role.ENCARGADO_TECNICO)

    [mail] = outbox.to("rosa@example.cl")
    path = re.search(r"http://localhost(/cuenta/clave/\S+)", mail.body).group(1)
    assert client.post(path, data={"password": PASSWORD, "password2": PASSWORD}).status_code == 302
    assert (
        client.post("/cuenta/ingresar", data={"email": "rosa@example.cl", "password": PASSWORD}).status_code
        == 302
    )
    actions = db.session.scalars(sa.select(EventoAuditoria.action)).all()
    assert {"user.invited", "role.granted", "user.password_set", "user.login"} <= set(actions)


def test_roles_are_scoped_to_a_call() -> None:
    reviewer_2026 = User(email="r@example.cl", name="R")
    reviewer_2026.roles.append(RoleAssignment(role=Role.EVALUADOR, convocatoria_id=2026))
    assert reviewer_2026.has_role(Role.EVALUADOR, convocatoria_id=2026)
    assert not reviewer_2026.has_role(Role.EVALUADOR, convocatoria_id=2027)
    assert reviewer_2026.has_role(Role.EVALUADOR)  # holds the role somewhere


def test_admin_grants_and_revokes_a_role(login_as: Any, make_user: Any) -> None:
    admin = login_as(Role.ADMIN)
    person = make_user(Role.POSTULANTE)
    response = admin.post(
        f"/admin/usuarios/{person.id}", data={"role": "comite", "convocatoria_id": "", "region": ""}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assignment = next(a for a in db.session.get(User, person.id).roles if a.role == Role.COMITE)

    # Granting the same role twice is refused with a message, not a 500.
    again = admin.post(
        f"/admin/usuarios/{person.id}", data={"role": "comite", "convocatoria_id": "", "region": ""}
    )
    assert again.status_code == 422

    assert admin.post(f"/admin/roles/{assignment.id}/revocar").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, person.id).has_role(Role.COMITE)
    events = db.session.scalars(sa.select(EventoAuditoria).where(EventoAuditoria.action.like("role.%"))).all()
    assert [(e.action, e.actor_id) for e in events] == [
        ("role.granted", admin.user.id),
        ("role.revoked", admin.user.id),
    ]
    assert events[1].before["role"] == "comite"


def test_an_admin_cannot_remove_their_own_admin_role(login_as: Any) -> None:
    admin = login_as(Role.ADMIN)
    [assignment] = admin.user.roles
    admin.post(f"/admin/roles/{assignment.id}/revocar")
    db.session.expire_all()
    assert db.session.get(User, admin.user.id).is_admin


@pytest.mark.parametrize("role", [Role.POSTULANTE, Role.ENCARGADO_TECNICO, Role.EVALUADOR, Role.COMITE])
def test_only_admins_manage_roles(login_as: Any, make_user: Any, role: Role) -> None:
    person = make_user(Role.POSTULANTE)
    client = login_as(role)
    assert client.post(f"/admin/usuarios/{person.id}", data={"role": "admin"}).status_code == 403
    assert client.get("/admin/auditoria").status_code == 403
    db.session.expire_all()
    assert not db.session.get(User, person.id).is_admin


def test_audit_log_can_be_browsed_and_filtered(login_as: Any, client: Any, make_user: Any) -> None:
    make_user(email="auditada@example.cl")
    client.post("/cuenta/ingresar", data={"email": "auditada@example.cl", "password": PASSWORD})
    client.post("/cuenta/ingresar", data={"email": "auditada@example.cl", "password": "Clave-Equivocada-9"})
    admin = login_as(Role.ADMIN)
    page = admin.get("/admin/auditoria?action=user.login_failed")
    assert page.status_code == 200
    assert b"user.login_failed" in page.data
    page = admin.get("/admin/auditoria?actor=auditada%40example.cl")
    assert b"user.login" in page.data and b"user.login_failed" not in page.data
    assert admin.get("/admin/auditoria?date_from=no-es-fecha").status_code == 200


def test_production_refuses_to_start_without_a_real_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@localhost/x")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig(tmp_path)
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig(tmp_path)


def test_error_pages_are_in_spanish(client: Any) -> None:
    response = client.get("/no-existe")
    assert response.status_code == 404
    assert b'lang="es"' in response.data


@pytest.mark.parametrize("role", ["admin", "postulante"])
def test_admin_and_applicant_roles_cannot_be_scoped(login_as: Any, make_user: Any, role: str) -> None:
    admin = login_as(Role.ADMIN)
    person = make_user()
    response = admin.post(f"/admin/usuarios/{person.id}", data={"role": role, "convocatoria_id": "",
                                                                  "region": "08"})
    assert response.status_code == 422
    assert "no puede limitarse" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).roles == []
