"""Demo data of the full form, in form-a's demo call in training: the demo applicant's team has its full
form sent back for changes, the next team (Biobío) has it accepted. Idempotent."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from convocatorias.models import Convocatoria
from idea import chile
from idea.extensions import db
from idea.models import User
from pilotos import formulario as fops
from pilotos.formulario_models import AccionRevision, EstadoFormulario, FormularioCompleto, RevisionFormulario
from pilotos.models import Equipo
from pilotos.seed import FORMACION_CALL_SLUG


def _data(equipo: Equipo, amount: int, start: object) -> fops.FormularioData:
    first = chile.to_santiago(start).date() + timedelta(days=7)  # type: ignore[arg-type]
    personal = amount * 3 // 5
    indicadores = fops.baseline_rows(equipo)[:2]
    for indicador in indicadores:
        indicador.target = (indicador.baseline or 0) * 2 if indicador.baseline else None
    return fops.FormularioData(
        problem="Las familias cuidadoras del territorio no tienen apoyo ni redes; la línea base muestra "
        "baja participación en programas sociales.",
        activities="Talleres mensuales, visitas domiciliarias y una red de apoyo entre vecinas.",
        outputs="12 talleres, 200 visitas y una red activa con 30 personas.",
        outcomes="Más familias conocen y usan los programas sociales disponibles.",
        impact="Menos pobreza multidimensional en el territorio.",
        lineas=[
            fops.LineaData("Coordinadora del piloto (jornada parcial)", "personal", personal),
            fops.LineaData("Materiales de talleres", "materiales", amount // 5),
            fops.LineaData("Traslados a sectores rurales", "traslados", amount - personal - amount // 5),
        ],
        indicadores=indicadores,
        actividades=[
            fops.ActividadData("Convocatoria de familias", first, first + timedelta(days=30)),
            fops.ActividadData("Talleres y visitas", first + timedelta(days=31), first + timedelta(days=200)),
        ],
        riesgos=[fops.RiesgoData("Baja asistencia en invierno", "Horarios flexibles y sesiones en línea")],
    )


def seed_demo_formularios() -> None:
    convocatoria = db.session.scalar(sa.select(Convocatoria).where(Convocatoria.slug == FORMACION_CALL_SLUG))
    if convocatoria is None or convocatoria.execution_start_at is None:
        return
    if convocatoria.closing_at is None:
        convocatoria.closing_at = convocatoria.execution_start_at + timedelta(days=300)
    equipos = list(
        db.session.scalars(
            sa.select(Equipo).where(Equipo.convocatoria_id == convocatoria.id).order_by(Equipo.id).limit(2)
        )
    )
    if not equipos or db.session.scalar(
        sa.select(FormularioCompleto.id).where(FormularioCompleto.equipo_id.in_([e.id for e in equipos]))
    ):
        return
    lead = db.session.scalar(sa.select(User).where(User.email == "encargado@demo.fondoidea.cl"))
    now = chile.utcnow()
    for n, equipo in enumerate(equipos):
        owner_id = equipo.miembros[0].user_id
        data = _data(equipo, fops.awarded_amount(equipo), convocatoria.execution_start_at)
        document = fops.to_document(data)
        accepted = n == 1
        formulario = FormularioCompleto(
            equipo_id=equipo.id,
            status=EstadoFormulario.ACEPTADO if accepted else EstadoFormulario.CON_OBSERVACIONES,
            submitted_at=now - timedelta(days=3),
            reviewed_at=now - timedelta(days=1),
            **document,
        )
        formulario.historial = [
            RevisionFormulario(
                action=AccionRevision.ENVIADO,
                snapshot=document,
                actor_id=owner_id,
                created_at=now - timedelta(days=3),
            ),
            RevisionFormulario(
                action=AccionRevision.ACEPTADO if accepted else AccionRevision.OBSERVADO,
                comment=""
                if accepted
                else "Las metas de los indicadores son poco realistas: revísenlas con la línea base.",
                actor_id=lead.id if lead else None,
                created_at=now - timedelta(days=1),
            ),
        ]
        db.session.add(formulario)
    db.session.flush()
