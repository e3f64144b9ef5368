"""Demo data of the convocatorias package, loaded by `flask seed-demo`."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask

from convocatorias.admisibilidad_models import (
    DecisionAdmisibilidad,
    Reconsideracion,
    add_default_requisitos,
)
from convocatorias.models import (
    CambioEstado,
    Convocatoria,
    Desafio,
    DesafioRegion,
    EstadoPostulacion,
    Fase,
    GrupoVulnerable,
    IndicadorLineaBase,
    Madurez,
    Organizacion,
    Postulacion,
    PostulacionVersion,
    TipoOrganizacion,
)
from convocatorias.postulaciones import take_folio_number
from idea import chile
from idea.cli import ensure_user, seed_demo_signal
from idea.extensions import db
from idea.models import Role, User

# The six vulnerable groups of Compromiso País named in the Fondo IDEA 2019 design (seeds/002).
GRUPOS_COMPROMISO_PAIS: tuple[tuple[str, str, str], ...] = (
    ("nna-fuera-escuela", "Niños, niñas y adolescentes que no asisten a un establecimiento educacional",
     "Educación"),
    ("consumo-alcohol-drogas", "Personas con consumo problemático de alcohol y drogas",
     "Interior y Seguridad Pública"),
    ("dependencia", "Personas con dependencia moderada o severa", "Desarrollo Social y Familia"),
    ("pueblos-indigenas", "Personas de pueblos indígenas del 40 % más pobre", "Desarrollo Social y Familia"),
    ("nna-sename", "Niños, niñas y adolescentes bajo protección del Sename", "Justicia y Derechos Humanos"),
    ("desempleo-40", "Personas mayores de 18 años desempleadas o sin contrato laboral, del 40 % de menores "
     "ingresos", "Trabajo y Previsión Social"),
)


def seed_grupos() -> list[GrupoVulnerable]:
    """Load the catalogue of vulnerable groups (idempotent)."""
    existing = {g.slug: g for g in db.session.scalars(sa.select(GrupoVulnerable))}
    grupos = []
    for slug, name, ministry in GRUPOS_COMPROMISO_PAIS:
        grupo = existing.get(slug)
        if grupo is None:
            grupo = GrupoVulnerable(slug=slug, name=name, ministry=ministry)
            db.session.add(grupo)
        grupos.append(grupo)
    db.session.flush()
    return grupos


def _on_seed_demo(app: Flask) -> None:
    grupos = seed_grupos()
    seed_demo_calls(grupos)


def connect() -> None:
    seed_demo_signal.connect(_on_seed_demo)


# --- the demo calls ---------------------------------------------------------------------------------

DEMO_CALL_SLUG = "fondo-idea-2026"
DEMO_POSTULANTE_EMAIL = "postulante@demo.fondoidea.cl"
RANDOM_SEED = 2026  # the same demo data on every machine (only the dates follow the day it runs)
DEMO_SUBMISSIONS = 60

# A challenge: (group slug, title, problem, partner institution, regions or None for a national challenge,
# baseline indicators as (name, unit, value, source, measured on)).
DesafioSpec = tuple[str, str, str, str, tuple[str, ...] | None, tuple[tuple[str, str, str, str, date], ...]]

# The open call has one challenge per vulnerable group.
DESAFIOS_2026: tuple[DesafioSpec, ...] = (
    ("nna-fuera-escuela",
     "Volver a clases: que niñas, niños y jóvenes que dejaron la escuela vuelvan y se queden",
     "Miles de niñas, niños y adolescentes dejaron de ir a clases después de la pandemia. Muchos viven en "
     "familias que se cambian seguido de casa, trabajan para ayudar en la casa o sintieron que en la escuela "
     "nadie los esperaba. Cuando pasan más de un año fuera, volver es muy difícil. Buscamos ideas para "
     "encontrarlos, acompañarlos de vuelta y lograr que sigan estudiando.",
     "Ministerio de Educación", None,
     (("Estudiantes que se desvincularon del sistema escolar en el último año", "personas", "50529",
       "Mineduc, Centro de Estudios, 2023", date(2023, 12, 31)),
      ("Tasa de asistencia neta a educación media de jóvenes de 14 a 17 años", "%", "73.9", "Casen 2022",
       date(2022, 12, 31)))),
    ("consumo-alcohol-drogas",
     "Barrios que acompañan: apoyo comunitario después de un tratamiento por consumo de alcohol y drogas",
     "Muchas personas que terminan un tratamiento por consumo problemático vuelven a su barrio sin trabajo, "
     "sin red y con las mismas tentaciones de antes. Casi cuatro de cada diez dejan el tratamiento antes de "
     "tiempo. Buscamos ideas para que la comunidad acompañe la recuperación y las personas no recaigan.",
     "Servicio Nacional para la Prevención y Rehabilitación del Consumo de Drogas y Alcohol (SENDA)",
     ("05", "13", "08"),
     (("Personas que abandonan el tratamiento antes de tres meses", "%", "38", "SENDA, SISTRAT 2023",
       date(2023, 12, 31)),
      ("Personas en tratamiento con empleo al egresar", "%", "31", "SENDA, SISTRAT 2023",
       date(2023, 12, 31)))),
    ("dependencia",
     "Cuidar a quien cuida: apoyo a las personas que cuidan a un familiar con dependencia severa",
     "Quienes cuidan a un familiar con dependencia severa, casi siempre mujeres, dejan de trabajar, duermen "
     "poco y no tienen quién las reemplace ni un día. Muchas no saben a qué apoyos tienen derecho. Buscamos "
     "ideas que les den respiro, información y compañía, y que se puedan llevar a todo el país.",
     "Subsecretaría de Servicios Sociales", None,
     (("Personas con dependencia moderada o severa", "%", "5.1", "Casen 2022", date(2022, 12, 31)),
      ("Personas cuidadoras con credencial de cuidador", "personas", "96000",
       "Registro Social de Hogares, 2024", date(2024, 6, 30)))),
    ("pueblos-indigenas",
     "Emprendimientos con identidad: más ingresos para familias indígenas rurales",
     "Las familias indígenas rurales del 40 % más pobre viven de la agricultura a pequeña escala, la "
     "artesanía y trabajos de temporada. Venden poco y a intermediarios, lejos de los compradores. Buscamos "
     "ideas, pensadas con las propias comunidades, que aumenten sus ingresos sin perder su cultura.",
     "Corporación Nacional de Desarrollo Indígena (Conadi)", ("08", "09", "14", "10"),
     (("Pobreza por ingresos en personas de pueblos indígenas", "%", "10.4", "Casen 2022",
       date(2022, 12, 31)),
      ("Hogares indígenas rurales con ingresos autónomos bajo la línea de pobreza", "%", "17.6",
       "Registro Social de Hogares, 2024", date(2024, 6, 30)))),
    ("nna-sename",
     "Egresar con red: preparar la vida independiente de jóvenes que salen de residencias de protección",
     "Al cumplir 18 años, muchas y muchos jóvenes que crecieron en residencias de protección salen sin "
     "casa, sin trabajo y sin un adulto que los apoye. Un año después, pocos estudian o trabajan. Buscamos "
     "ideas que los preparen antes de egresar y los acompañen en el primer año.",
     "Servicio Nacional de Protección Especializada a la Niñez y Adolescencia", None,
     (("Jóvenes que egresan de residencias cada año", "personas", "1200",
       "Servicio de Protección Especializada, 2023", date(2023, 12, 31)),
      ("Egresados que estudian o trabajan un año después de egresar", "%", "42",
       "Servicio de Protección Especializada, 2023", date(2023, 12, 31)))),
    ("desempleo-40",
     "Primer empleo formal para mujeres jefas de hogar del 40 % de menores ingresos",
     "En el norte del país muchas mujeres jefas de hogar trabajan sin contrato, en ventas o aseo por "
     "día, sin cotizaciones ni salud. Quieren un trabajo formal, pero no tienen con quién dejar a sus "
     "hijos ni contactos con empresas. Buscamos ideas que las conecten con empleos formales y que puedan "
     "sostener.",
     "Servicio Nacional de Capacitación y Empleo (Sence)", ("15", "01", "02", "03", "04"),
     (("Tasa de ocupación informal de mujeres", "%", "28.4", "INE, Encuesta Nacional de Empleo 2024",
       date(2024, 3, 31)),
      ("Hogares con jefatura femenina en el 40 % de menores ingresos", "%", "54",
       "Registro Social de Hogares, 2024", date(2024, 6, 30)))),
)

# Next year's call, still being written.
DESAFIOS_BORRADOR: tuple[DesafioSpec, ...] = (
    ("dependencia", "Cuidar a quien cuida en zonas rurales",
     "En el campo, las personas cuidadoras viven lejos de los centros de salud y de otras cuidadoras. "
     "Buscamos ideas para acompañarlas a distancia.",
     "Subsecretaría de Servicios Sociales", None,
     (("Personas con dependencia severa en zonas rurales", "%", "6.3", "Casen 2022", date(2022, 12, 31)),)),
)

# (name, RUT body, type, region, comuna, contact name); the first belongs to the demo applicant.
ORGANIZACIONES: tuple[tuple[str, int, TipoOrganizacion, str, str, str], ...] = (
    ("Junta de Vecinos Villa Esperanza", 65_104_227, TipoOrganizacion.SIN_FINES_DE_LUCRO, "06", "Rancagua",
     "Pablo Postulante"),
    ("Fundación Volver a Aprender", 65_087_431, TipoOrganizacion.SIN_FINES_DE_LUCRO, "13", "Santiago",
     "Carolina Fuentes"),
    ("Corporación Ayün", 65_132_918, TipoOrganizacion.SIN_FINES_DE_LUCRO, "09", "Temuco",
     "Millaray Huenchul"),
    ("Fundación Mar Adentro Norte", 65_201_554, TipoOrganizacion.SIN_FINES_DE_LUCRO, "15", "Arica",
     "Jorge Mamani"),
    ("Cooperativa Trabajo Digno Atacama", 76_415_902, TipoOrganizacion.EMPRESA, "03", "Copiapó",
     "Rosa Olivares"),
    ("ONG Caminos del Maule", 65_178_240, TipoOrganizacion.SIN_FINES_DE_LUCRO, "07", "Talca", "Felipe Rojas"),
    ("Corporación Cuidar Juntos", 65_160_733, TipoOrganizacion.SIN_FINES_DE_LUCRO, "05", "Valparaíso",
     "Javiera Contreras"),
    ("Agrupación Mujeres del Desierto", 65_223_018, TipoOrganizacion.GRUPO_INFORMAL, "02", "Antofagasta",
     "Ximena Castillo"),
    ("Municipalidad de Coyhaique", 69_240_110, TipoOrganizacion.MUNICIPALIDAD, "11", "Coyhaique",
     "Daniel Vargas"),
    ("Raíces Ñuble SpA", 77_308_615, TipoOrganizacion.EMPRESA, "16", "Chillán", "Valentina Sepúlveda"),
    ("Universidad Tecnológica del Sur", 71_633_200, TipoOrganizacion.UNIVERSIDAD, "14", "Valdivia",
     "Ricardo Paredes"),
    ("Fundación Manos del Biobío", 65_119_876, TipoOrganizacion.SIN_FINES_DE_LUCRO, "08", "Concepción",
     "Camila Muñoz"),
    ("Centro Comunitario Austral", 65_245_391, TipoOrganizacion.SIN_FINES_DE_LUCRO, "12", "Punta Arenas",
     "Andrés Barría"),
)

COMUNAS: dict[str, tuple[str, ...]] = {
    "15": ("Arica", "Putre"), "01": ("Iquique", "Alto Hospicio", "Pozo Almonte"),
    "02": ("Antofagasta", "Calama", "Tocopilla"), "03": ("Copiapó", "Vallenar", "Caldera"),
    "04": ("La Serena", "Coquimbo", "Ovalle"), "05": ("Valparaíso", "Viña del Mar", "Quilpué", "San Antonio"),
    "13": ("Santiago", "Puente Alto", "La Pintana", "Renca", "Maipú"), "06": ("Rancagua", "San Fernando"),
    "07": ("Talca", "Curicó", "Linares"), "16": ("Chillán", "San Carlos"),
    "08": ("Concepción", "Coronel", "Los Ángeles", "Lota"), "09": ("Temuco", "Padre Las Casas", "Ercilla"),
    "14": ("Valdivia", "La Unión", "Panguipulli"), "10": ("Puerto Montt", "Osorno", "Castro"),
    "11": ("Coyhaique", "Aysén"), "12": ("Punta Arenas", "Natales"),
}

# Ideas per group: (title, problem, solution, who benefits); the title gets the comuna appended.
IDEAS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "nna-fuera-escuela": (
        ("Tutorías entre pares para volver a clases",
         "Los jóvenes que dejaron la escuela no confían en los adultos del colegio.",
         "Estudiantes de cuarto medio, capacitados y con un pequeño pago, acompañan a quienes vuelven "
         "durante el primer semestre.", "Adolescentes de 13 a 17 años fuera de la escuela"),
        ("Aula móvil en el barrio",
         "Las familias que se cambian de casa pierden el contacto con la escuela.",
         "Un bus habilitado como sala visita los campamentos y hace de puente con la escuela más cercana.",
         "Niñas y niños de campamentos"),
        ("Alerta temprana de inasistencia con apoderados",
         "La escuela se entera tarde de que un estudiante dejó de venir.",
         "Mensajes a apoderados y visitas de una dupla psicosocial desde la tercera falta seguida.",
         "Estudiantes con inasistencia grave"),
    ),
    "consumo-alcohol-drogas": (
        ("Clubes deportivos que acompañan la recuperación",
         "Al egresar del tratamiento, las personas vuelven a los mismos lugares y amistades de antes.",
         "Clubes deportivos del barrio reciben a personas en recuperación con un padrino o madrina.",
         "Personas que egresan de tratamiento"),
        ("Empleo con apoyo después del tratamiento",
         "Sin trabajo, el riesgo de recaer es mucho mayor.",
         "Una bolsa de empleo con empresas locales y una consejera que acompaña los primeros seis meses.",
         "Personas en recuperación en edad de trabajar"),
    ),
    "dependencia": (
        ("Respiro para cuidadoras",
         "Las cuidadoras no tienen ni un día libre al mes.",
         "Una red de voluntarias capacitadas reemplaza a la cuidadora medio día por semana.",
         "Cuidadoras de personas con dependencia severa"),
        ("Cuidadoras conectadas",
         "Las cuidadoras no saben a qué apoyos tienen derecho ni a quién preguntar.",
         "Un grupo de mensajería con una trabajadora social y encuentros mensuales en la sede vecinal.",
         "Cuidadoras inscritas en el Registro Social de Hogares"),
        ("Kinesiología a domicilio con la familia",
         "Las personas postradas pierden movilidad porque no llegan a sus terapias.",
         "Kinesiólogos visitan la casa y enseñan a la familia ejercicios diarios.",
         "Personas con dependencia severa y sus familias"),
    ),
    "pueblos-indigenas": (
        ("Mercado campesino mapuche en línea",
         "Las familias venden sus productos a intermediarios a muy bajo precio.",
         "Una tienda en línea administrada por la comunidad con despacho semanal a la ciudad.",
         "Familias mapuche productoras de hortalizas"),
        ("Ruta de turismo con identidad",
         "Los visitantes pasan por el territorio sin dejar ingresos a las comunidades.",
         "Una ruta de turismo comunitario con cocina tradicional y alojamiento en casas de familia.",
         "Comunidades indígenas rurales"),
        ("Telar y diseño para nuevos mercados",
         "La artesanía textil se vende poco y a bajo precio fuera de temporada.",
         "Alianza con diseñadores locales para crear colecciones y vender a tiendas de todo el país.",
         "Artesanas textiles indígenas"),
    ),
    "nna-sename": (
        ("Mentores para la vida independiente",
         "Los jóvenes egresan sin un adulto de confianza que los oriente.",
         "Profesionales voluntarios acompañan a cada joven desde un año antes de egresar hasta un año "
         "después.",
         "Jóvenes de 16 a 19 años en residencias"),
        ("Primera vivienda compartida",
         "Al egresar, muchos jóvenes no tienen dónde vivir.",
         "Departamentos compartidos con arriendo subsidiado el primer año y apoyo de una educadora.",
         "Jóvenes que egresan de residencias"),
    ),
    "desempleo-40": (
        ("Sala cuna de turno para trabajadoras",
         "Las mujeres no aceptan trabajos con turnos porque no tienen quién cuide a sus hijos.",
         "Una sala cuna comunitaria con horario extendido en convenio con empresas de la zona.",
         "Mujeres jefas de hogar con hijos pequeños"),
        ("Oficios con contrato para mujeres",
         "Las mujeres no acceden a oficios mejor pagados de la minería y la construcción.",
         "Formación en oficios con práctica pagada y contratación comprometida por empresas.",
         "Mujeres desempleadas de 18 a 50 años"),
        ("Vitrina de emprendedoras formalizadas",
         "Las emprendedoras informales no pueden vender a empresas porque no emiten boletas.",
         "Apoyo para iniciar actividades y una vitrina de proveedoras locales para empresas.",
         "Mujeres emprendedoras informales"),
    ),
}

COPRODUCCION = (
    "Diseñamos la idea en tres talleres con vecinas y vecinos, y un comité de usuarios la revisará cada mes.",
    "Las propias personas beneficiarias participan en el equipo y deciden cómo se usan los recursos.",
    "Hicimos entrevistas a 40 familias y probamos un prototipo con diez de ellas.",
)
EQUIPOS = (
    "Una trabajadora social, un psicólogo y dos dirigentas del territorio.",
    "Dos profesionales del área social, una coordinadora y voluntarios de la comunidad.",
    "Un equipo de cuatro personas con experiencia en proyectos comunitarios.",
)
STATUS_MIX = (EstadoPostulacion.ENVIADA, EstadoPostulacion.BORRADOR, EstadoPostulacion.RETIRADA)
STATUS_WEIGHTS = (65, 25, 10)

SUMMARY_2026 = ("Ideas innovadoras para superar la pobreza y la vulnerabilidad, pensadas con las personas "
                "que las viven.")
DESCRIPTION_2026 = (
    "El Fondo IDEA del FOSIS financia pilotos de innovación social para seis grupos que más necesitan nuevas "
    "respuestas. Postula con un perfil simple de tu idea; si es seleccionada, recibirás formación, una "
    "mentoría de ocho semanas y entre $20.000.000 y $30.000.000 para ejecutar un piloto de seis meses."
)
RULES_2026 = (
    "Pueden postular organizaciones públicas, municipalidades, organizaciones sin fines de lucro, empresas, "
    "universidades y grupos informales con RUT. Cada organización puede enviar hasta cinco ideas. Las ideas "
    "admisibles son evaluadas por un equipo técnico con una rúbrica pública y pasan a votación ciudadana, "
    "que pesa un 10 % del puntaje final. Un comité selecciona buscando al menos un proyecto por región."
)
WITHDRAW_NOTES = (
    "Preferimos postular el próximo año con el proyecto más avanzado.",
    "La organización no podrá ejecutar el proyecto este año.",
)


def seed_demo_calls(grupos: list[GrupoVulnerable]) -> Convocatoria | None:
    """The demo calls: "Fondo IDEA 2026" open with submissions, and a 2027 call in preparation.

    Idempotent: nothing happens when the demo call exists. Returns the new open call, or None.
    """
    if db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == DEMO_CALL_SLUG)) is not None:
        return None
    rng = random.Random(RANDOM_SEED)
    now = chile.utcnow()
    by_slug = {g.slug: g for g in grupos}
    convocatoria = _open_call(now, by_slug)
    organizaciones = _organizaciones()
    _postulaciones(rng, now, convocatoria, organizaciones)
    _draft_call(now, by_slug)
    _admissibility_call(now, by_slug, organizaciones)
    db.session.flush()
    return convocatoria


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return chile.from_santiago(datetime.combine(day, time(hour, minute)))


def _open_call(now: datetime, grupos: dict[str, GrupoVulnerable]) -> Convocatoria:
    today = chile.to_santiago(now).date()
    opened, closes = today - timedelta(days=14), today + timedelta(days=21)
    convocatoria = Convocatoria(
        slug=DEMO_CALL_SLUG, title="Fondo IDEA 2026", year=2026,
        summary=SUMMARY_2026, description=DESCRIPTION_2026, rules=RULES_2026,
        total_budget=650_000_000, min_amount=20_000_000, max_amount=30_000_000, max_submissions_per_org=5,
        vote_weight=10, fase=Fase.POSTULACION,
        submissions_open_at=_at(opened, 9), submissions_close_at=chile.end_of_day_santiago(closes),
        admissibility_end_at=chile.end_of_day_santiago(closes + timedelta(days=14)),
        evaluation_end_at=chile.end_of_day_santiago(closes + timedelta(days=42)),
        vote_open_at=_at(closes + timedelta(days=49), 9),
        vote_close_at=chile.end_of_day_santiago(closes + timedelta(days=63)),
        committee_at=_at(closes + timedelta(days=70), 10),
        training_start_at=_at(closes + timedelta(days=84), 9),
        execution_start_at=_at(closes + timedelta(days=150), 9),
        closing_at=chile.end_of_day_santiago(closes + timedelta(days=340)),
        published_at=_at(opened, 9),
    )
    convocatoria.desafios = _desafios(DESAFIOS_2026, grupos)
    db.session.add(convocatoria)
    db.session.flush()
    add_default_requisitos(convocatoria)
    return convocatoria


def _desafios(specs: tuple[DesafioSpec, ...], grupos: dict[str, GrupoVulnerable]) -> list[Desafio]:
    """The challenges of a call, in the order given, with their regions and baseline indicators."""
    desafios = []
    for position, (slug, title, problem, partner, regions, indicators) in enumerate(specs, start=1):
        desafio = Desafio(position=position, title=title, problem=problem, partner_institution=partner,
                          grupo_vulnerable=grupos.get(slug), is_national=regions is None)
        desafio.regiones = [DesafioRegion(region=code) for code in regions or ()]
        desafio.indicadores = [
            IndicadorLineaBase(position=i, name=name, unit=unit, value=Decimal(value), source=source,
                               measured_on=measured_on)
            for i, (name, unit, value, source, measured_on) in enumerate(indicators)
        ]
        desafios.append(desafio)
    return desafios


def _draft_call(now: datetime, grupos: dict[str, GrupoVulnerable]) -> Convocatoria:
    """Next year's call, still being written: not published, so only staff see it."""
    year = chile.to_santiago(now).year + 1
    slug = f"fondo-idea-{year}"
    existing = db.session.scalar(sa.select(Convocatoria).where(Convocatoria.slug == slug))
    if existing is not None:
        return existing
    convocatoria = Convocatoria(
        slug=slug, title=f"Fondo IDEA {year} (en preparación)", year=year,
        summary="Segunda convocatoria del Fondo IDEA, en preparación.",
        description="Borrador de la próxima convocatoria.", rules="Bases en redacción.",
        total_budget=700_000_000, min_amount=20_000_000, max_amount=30_000_000, max_submissions_per_org=1,
        vote_weight=10, fase=Fase.BORRADOR,
        submissions_open_at=_at(date(year, 4, 1), 9),
        submissions_close_at=chile.end_of_day_santiago(date(year, 5, 31)),
    )
    convocatoria.desafios = _desafios(DESAFIOS_BORRADOR, grupos)
    db.session.add(convocatoria)
    add_default_requisitos(convocatoria)
    return convocatoria


def _organizaciones() -> list[Organizacion]:
    """The demo organisations (get or create by RUT); the first one belongs to the demo applicant."""
    existing = {o.rut: o for o in db.session.scalars(sa.select(Organizacion))}
    result = []
    for index, (name, body, tipo, region, comuna, contact) in enumerate(ORGANIZACIONES):
        rut = f"{body}-{chile.compute_check_digit(body)}"
        organizacion = existing.get(rut)
        if organizacion is None:
            owner = _owner(index, contact)
            organizacion = Organizacion(
                owner_id=owner.id, name=name, rut=rut, tipo=tipo, region=region, comuna=comuna,
                contact_name=contact, contact_email=owner.email,
                contact_phone=f"+56 9 {5100_0000 + index:08d}",
            )
            db.session.add(organizacion)
        result.append(organizacion)
    db.session.flush()
    return result


def _owner(index: int, contact: str) -> User:
    """The demo applicant for the first organisation; for the others, accounts without a password: their
    owners exist only to make the demo data whole."""
    email = DEMO_POSTULANTE_EMAIL if index == 0 else f"organizacion{index:02d}@demo.fondoidea.cl"
    return ensure_user(email, contact, Role.POSTULANTE)


def _postulaciones(rng: random.Random, now: datetime, convocatoria: Convocatoria,
                   organizaciones: list[Organizacion]) -> list[Postulacion]:
    """About 60 submissions over the 16 regions, in mixed states, with folios, history and versions."""
    demo_org, others = organizaciones[0], organizaciones[1:]
    used: dict[int, int] = {}
    specs: list[tuple[Organizacion, str, EstadoPostulacion]] = [
        (demo_org, demo_org.region, EstadoPostulacion.ENVIADA),
        (demo_org, demo_org.region, EstadoPostulacion.BORRADOR),
    ]
    used[demo_org.id] = 2
    codes = [r.code for r in chile.REGIONS]
    limit = convocatoria.max_submissions_per_org
    for i in range(DEMO_SUBMISSIONS - len(specs)):
        region = codes[i % len(codes)]
        candidates = [o for o in others if used.get(o.id, 0) < limit]
        local = [o for o in candidates if o.region == region]
        organizacion = rng.choice(local or candidates)
        used[organizacion.id] = used.get(organizacion.id, 0) + 1
        status = rng.choices(STATUS_MIX, weights=STATUS_WEIGHTS)[0]
        specs.append((organizacion, region, status))

    opened = convocatoria.submissions_open_at or now
    postulaciones = [_postulacion(rng, now, opened, convocatoria, *spec) for spec in specs]
    sent = sorted((p for p in postulaciones if p.submitted_at is not None),
                  key=lambda p: (p.submitted_at, p.title))
    for postulacion in sent:
        postulacion.folio_number = take_folio_number(convocatoria)
        postulacion.folio = f"{convocatoria.folio_prefix}{postulacion.folio_number:04d}"
    db.session.add_all(postulaciones)
    db.session.flush()
    for postulacion in sent:
        postulacion.versiones.append(PostulacionVersion(
            number=1, data=postulacion.profile_data(), created_at=postulacion.submitted_at,
            created_by_id=postulacion.created_by_id))
    db.session.flush()
    return postulaciones


def _postulacion(rng: random.Random, now: datetime, opened: datetime, convocatoria: Convocatoria,
                 organizacion: Organizacion, region: str, status: EstadoPostulacion) -> Postulacion:
    desafio = rng.choice([d for d in convocatoria.desafios if d.is_national or region in d.region_codes])
    slug = desafio.grupo_vulnerable.slug if desafio.grupo_vulnerable else "dependencia"
    title, problem, solution, beneficiaries = rng.choice(IDEAS[slug])
    comuna = rng.choice(COMUNAS[region])
    elapsed = max((now - opened).total_seconds(), 3600.0)
    created_at = opened + timedelta(seconds=rng.uniform(0, elapsed * 0.7))
    complete = status != EstadoPostulacion.BORRADOR or rng.random() < 0.5
    values: dict[str, Any] = {
        "title": f"{title} en {comuna}", "problem": problem, "solution": solution if complete else "",
        "beneficiaries": beneficiaries, "region": region, "comuna": comuna,
        "beneficiaries_count": rng.randrange(30, 1500, 10) if complete else None,
        "maturity": rng.choice(list(Madurez)) if complete else None,
        "coproduction": rng.choice(COPRODUCCION) if complete else "",
        "requested_amount": rng.randrange(20_000_000, 30_000_001, 500_000) if complete else None,
        "team": rng.choice(EQUIPOS) if complete else "",
    }
    postulacion = Postulacion(
        convocatoria_id=convocatoria.id, desafio_id=desafio.id, organizacion_id=organizacion.id,
        created_by_id=organizacion.owner_id, status=status, created_at=created_at, updated_at=created_at,
        **values,
    )
    owner = organizacion.owner_id
    history = [CambioEstado(from_status=None, to_status=EstadoPostulacion.BORRADOR, created_at=created_at,
                            actor_id=owner)]
    if status != EstadoPostulacion.BORRADOR:
        submitted_at = min(created_at + timedelta(hours=rng.uniform(2, 96)), now - timedelta(minutes=30))
        postulacion.submitted_at = postulacion.updated_at = submitted_at
        postulacion.version = 1
        history.append(CambioEstado(from_status=EstadoPostulacion.BORRADOR,
                                    to_status=EstadoPostulacion.ENVIADA, created_at=submitted_at,
                                    actor_id=owner))
        if status == EstadoPostulacion.RETIRADA:
            withdrawn_at = min(submitted_at + timedelta(hours=rng.uniform(1, 72)), now - timedelta(minutes=5))
            postulacion.withdrawn_at = postulacion.updated_at = withdrawn_at
            history.append(CambioEstado(from_status=EstadoPostulacion.ENVIADA, to_status=status,
                                        created_at=withdrawn_at, actor_id=owner,
                                        note=rng.choice(WITHDRAW_NOTES)))
    postulacion.historial = history
    return postulacion


# --- the call in admissibility --------------------------------------------------------------------------

ADMISSIBILITY_CALL_SLUG = "fondo-idea-2025-biobio-nuble"
ADMISSIBILITY_SUBMISSIONS = 18
ADMISSIBILITY_REGIONS = ("08", "16", "13", "09", "06", "07")
LEAD_EMAIL = "encargado@demo.fondoidea.cl"
# (index of the unmet requirement in DEFAULT_REQUISITOS, the lead's reason)
REFUSALS = (
    (3, "Falta el certificado de vigencia de la organización entre los adjuntos."),
    (0, "Faltan los datos de contacto de la organización."),
    (1, "El monto solicitado supera el máximo de la convocatoria."),
)
RECONSIDERATION_TEXT = ("Enviamos los datos de contacto en el formulario de la organización el mismo día del "
                        "cierre; pedimos revisarlos nuevamente.")


def _admissibility_call(now: datetime, grupos: dict[str, GrupoVulnerable],
                        organizaciones: list[Organizacion]) -> Convocatoria:
    """A call past its deadline, in admissibility: decisions made (some refused), one reconsideration
    waiting for the lead and a few submissions still without a decision."""
    rng = random.Random(RANDOM_SEED + 1)  # its own generator: the open call's data stays as it was
    today = chile.to_santiago(now).date()
    opened, closed = today - timedelta(days=50), today - timedelta(days=6)
    convocatoria = Convocatoria(
        slug=ADMISSIBILITY_CALL_SLUG, title="Fondo IDEA 2025 · Llamado Biobío y Ñuble", year=2025,
        summary="Llamado anterior del Fondo IDEA, ya cerrado y en revisión de admisibilidad.",
        description=DESCRIPTION_2026, rules=RULES_2026,
        total_budget=300_000_000, min_amount=20_000_000, max_amount=30_000_000, max_submissions_per_org=3,
        vote_weight=10, fase=Fase.ADMISIBILIDAD,
        submissions_open_at=_at(opened, 9), submissions_close_at=chile.end_of_day_santiago(closed),
        admissibility_end_at=chile.end_of_day_santiago(closed + timedelta(days=21)),
        evaluation_end_at=chile.end_of_day_santiago(closed + timedelta(days=49)),
        published_at=_at(opened, 9),
    )
    convocatoria.desafios = _desafios(DESAFIOS_2026[:3], grupos)
    db.session.add(convocatoria)
    db.session.flush()
    requisitos = add_default_requisitos(convocatoria)
    db.session.flush()

    closed_at = convocatoria.submissions_close_at or now
    postulaciones = []
    used: dict[int, int] = {}
    for i in range(ADMISSIBILITY_SUBMISSIONS):
        region = ADMISSIBILITY_REGIONS[i % len(ADMISSIBILITY_REGIONS)]
        limit = convocatoria.max_submissions_per_org
        candidates = [o for o in organizaciones[1:] if used.get(o.id, 0) < limit]
        organizacion = organizaciones[0] if i == 0 else rng.choice(
            [o for o in candidates if o.region == region] or candidates)
        if i == 0:
            region = organizacion.region
        used[organizacion.id] = used.get(organizacion.id, 0) + 1
        p = _postulacion(rng, closed_at, convocatoria.submissions_open_at or now, convocatoria, organizacion,
                         region, EstadoPostulacion.ENVIADA)
        postulaciones.append(p)
    sent = sorted(postulaciones, key=lambda p: (p.submitted_at, p.title))
    for p in sent:
        p.folio_number = take_folio_number(convocatoria)
        p.folio = f"{convocatoria.folio_prefix}{p.folio_number:04d}"
    db.session.add_all(postulaciones)
    db.session.flush()
    for p in sent:
        p.versiones.append(PostulacionVersion(number=1, data=p.profile_data(), created_at=p.submitted_at,
                                              created_by_id=p.created_by_id))

    lead = db.session.scalar(sa.select(User).where(User.email == LEAD_EMAIL))
    lead_id = lead.id if lead is not None else None
    for index, p in enumerate(postulaciones):
        if index % 6 == 5:
            continue  # still waiting for the lead
        refused = index == 0 or index % 4 == 1
        decided_at = now - timedelta(days=1 if index < 4 else 4, hours=index)
        unmet, reason = REFUSALS[index % len(REFUSALS)] if refused else (None, None)
        incumplidos = [requisitos[unmet]] if unmet is not None else []
        decision = DecisionAdmisibilidad(postulacion_id=p.id, admissible=not refused, reason=reason,
                                         decided_at=decided_at, decided_by_id=lead_id,
                                         incumplidos=incumplidos)
        db.session.add(decision)
        to_status = EstadoPostulacion.INADMISIBLE if refused else EstadoPostulacion.ADMISIBLE
        note = (f"No admisible. Requisitos no cumplidos: {incumplidos[0].text} Motivo: {reason}" if refused
                else "Admisible.")
        p.historial.append(CambioEstado(from_status=p.status, to_status=to_status, created_at=decided_at,
                                        actor_id=lead_id, note=note))
        p.status = to_status
        if index == 1:  # a refused applicant asked for reconsideration the next day
            db.session.flush()
            asked_at = decided_at + timedelta(hours=20)
            db.session.add(Reconsideracion(postulacion_id=p.id, decision_id=decision.id,
                                           text=RECONSIDERATION_TEXT, asked_at=asked_at,
                                           asked_by_id=p.created_by_id))
            p.historial.append(CambioEstado(from_status=p.status, to_status=p.status, created_at=asked_at,
                                            actor_id=p.created_by_id,
                                            note=f"Recurso de reposición presentado: {RECONSIDERATION_TEXT}"))
    db.session.flush()
    return convocatoria
