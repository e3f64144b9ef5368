"""Command-line tasks: `flask init-db`, `flask create-admin`, `flask seed-demo`."""

from __future__ import annotations

import click
import sqlalchemy as sa
from blinker import Namespace
from flask import Flask, current_app
from flask_migrate import upgrade

from idea.extensions import db
from idea.jobs import commit
from idea.jobs import register_cli as register_job_commands
from idea.models import Role, RoleAssignment, User, utcnow
from idea.passwords import hash_password, password_problem

_signals = Namespace()
# Packages connect to this to add their own demo data, in the order they were plugged in.
seed_demo_signal = _signals.signal("seed-demo")

DEMO_PASSWORD = "Demo-Fondo-IDEA-2026"  # noqa: S105 (demo data only, listed in the README)
DEMO_USERS: tuple[tuple[str, str, Role, str | None], ...] = (
    ("admin@demo.fondoidea.cl", "Ana Administradora", Role.ADMIN, None),
    ("encargado@demo.fondoidea.cl", "Tomás Encargado Técnico", Role.ENCARGADO_TECNICO, None),
    ("evaluadora@demo.fondoidea.cl", "Eva Evaluadora", Role.EVALUADOR, None),
    ("comite@demo.fondoidea.cl", "Carmen del Comité", Role.COMITE, None),
    ("mentor@demo.fondoidea.cl", "Manuel Mentor", Role.MENTOR, None),
    ("jurado@demo.fondoidea.cl", "Julia Jurado", Role.JURADO, None),
    ("postulante@demo.fondoidea.cl", "Pablo Postulante", Role.POSTULANTE, None),
    ("encargado.biobio@demo.fondoidea.cl", "Berta Encargada del Biobío", Role.ENCARGADO_TECNICO, "08"),
)


def ensure_user(
    email: str,
    name: str,
    role: Role,
    *,
    password: str | None = None,
    region: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Get or create a confirmed user holding `role` (used by the CLI and the demo data)."""
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            name=name,
            email_confirmed_at=utcnow(),
            password_hash=password_hash or (hash_password(password) if password else None),
        )
        db.session.add(user)
    if not any(a.role == role and a.region == region and a.convocatoria_id is None for a in user.roles):
        user.roles.append(RoleAssignment(role=role, region=region))
    db.session.flush()
    return user


def seed_demo_users() -> dict[str, User]:
    shared_hash = hash_password(DEMO_PASSWORD)
    return {
        email: ensure_user(email, name, role, region=region, password_hash=shared_hash)
        for email, name, role, region in DEMO_USERS
    }


def register_cli(app: Flask) -> None:
    register_job_commands(app)

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or update the database schema by running the migrations."""
        upgrade()
        click.echo("Base de datos al día.")

    @app.cli.command("create-admin")
    @click.option("--email", prompt="Correo", help="E-mail of the administrator.")
    @click.option("--name", prompt="Nombre", help="Full name.")
    @click.password_option("--password", prompt="Contraseña", help="At least 12 characters.")
    def create_admin(email: str, name: str, password: str) -> None:
        """Create an administrator account (or give an existing account the admin role)."""
        problem = password_problem(password, user_inputs=[email, name])
        if problem:
            raise click.ClickException(problem)
        ensure_user(email.strip().lower(), name.strip(), Role.ADMIN, password=password)
        commit()
        click.echo(f"Administrador listo: {email}")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Bring the schema up to date and load demo data (demo accounts, calls, submissions)."""
        if app.config.get("ENV_NAME") == "production":
            # The demo accounts' password is public (README): they must never exist on a real site.
            raise click.ClickException(
                "seed-demo no se ejecuta en producción (IDEA_ENV=production): sus cuentas de demostración "
                "tienen una contraseña pública. Usa flask create-admin."
            )
        upgrade()
        seed_demo_users()
        seed_demo_signal.send(current_app._get_current_object())
        commit()
        click.echo(f"Datos de demostración cargados. Cuentas (contraseña {DEMO_PASSWORD}):")
        for email, _name, role, region in DEMO_USERS:
            click.echo(f"  {role.value:<18} {email}" + (f" (región {region})" if region else ""))
