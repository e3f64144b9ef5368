"""Who may open, manage and lead which evaluation: each question with who may and who may not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from evaluacion.models import EstadoAsignacion
from evaluacion.permissions import can_lead_whole_call, can_manage_assignment, can_open_assignment
from idea.extensions import db
from idea.models import Role
from tests.evaluacion.conftest import assign


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("assigned", True),
        ("withdrawn", False),
        ("co_reviewer", False),
        ("other_call_reviewer", False),
        ("lead", False),
        ("admin", False),
        ("anonymous", False),
    ],
)
def test_only_the_assigned_reviewer_opens_an_assignment(
    who: str, allowed: bool, escenario: Callable[..., Any], make_user: Any
) -> None:
    from flask_login import AnonymousUserMixin

    e = escenario(n=1, reviewers=2)
    a = assign(e.reviewers[0], e.postulaciones[0])
    assign(e.reviewers[1], e.postulaciones[0])
    user: Any = e.reviewers[0]
    if who == "withdrawn":
        a.status = EstadoAsignacion.RETIRADA
        db.session.commit()
    elif who == "co_reviewer":
        user = e.reviewers[1]
    elif who == "other_call_reviewer":
        user = make_user(Role.EVALUADOR, convocatoria_id=e.convocatoria.id + 1000)
    elif who == "lead":
        user = make_user(Role.ENCARGADO_TECNICO)
    elif who == "admin":
        user = make_user(Role.ADMIN)
    elif who == "anonymous":
        user = AnonymousUserMixin()
    assert can_open_assignment(user, a) is allowed


@pytest.mark.parametrize(
    ("role", "region", "manages", "whole"),
    [
        (Role.ADMIN, None, True, True),
        (Role.ENCARGADO_TECNICO, None, True, True),
        (Role.ENCARGADO_TECNICO, "08", True, False),
        (Role.ENCARGADO_TECNICO, "13", False, False),
        (Role.EVALUADOR, None, False, False),
        (Role.COMITE, None, False, False),
    ],
)
def test_leads_manage_assignments_in_their_scope(
    role: Role, region: str | None, manages: bool, whole: bool, escenario: Callable[..., Any], make_user: Any
) -> None:
    e = escenario(n=1, reviewers=1, regions=("08",))
    a = assign(e.reviewers[0], e.postulaciones[0])
    user = make_user(role, region=region)
    assert can_manage_assignment(user, a) is manages
    assert can_lead_whole_call(user, e.convocatoria) is whole
