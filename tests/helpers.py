"""Shared test helpers: driving the protection process through the web as an officer would, reading a case,
building hand-made case files, comparing table snapshots, and the PostgreSQL server the tests talk to."""
import os
from datetime import UTC, datetime

from app.extensions import db
from app.workflow.models import HumanTask

# The server of the PostgreSQL pass (SIPROC_TEST_POSTGRESQL), or the local one that the SQLite pass also tries
# for its PostgreSQL-only tests (migrations, backups).
POSTGRESQL = os.environ.get("SIPROC_TEST_POSTGRESQL") or None
PG_SERVER = POSTGRESQL or "postgresql+psycopg://postgres@127.0.0.1:5432/test"

REGISTRO = {
    "categoria": "RET", "nombres": "José Ángel", "primer_apellido": "Hernández", "segundo_apellido": "Núñez",
    "sexo": "M", "fecha_nacimiento": "1988-07-30", "dni": "0501-1988-02231", "municipio_origen": "0501",
    "pais_ubicacion": "MX", "ciudad_ubicacion": "Tapachula", "relato": "Retenido en estación migratoria.",
    "vulnerabilidades": ["SIN_DOCUMENTOS"],
}
EVALUACION_REMITIR = {"necesidades": ["documentacion"], "nivel_riesgo": "alto", "requiere_remision": "si"}
EVALUACION_SIN_REMISION = {"necesidades": ["asistencia_legal"], "nivel_riesgo": "bajo", "requiere_remision": "no"}
REMISION = {"remisiones-0-institucion": "INM-MX", "remisiones-0-servicio_solicitado": "Retorno asistido",
            "fecha_envio": "2026-11-20", "consentimiento": "y"}
RESPUESTA_ACEPTADA = {"respuesta": "aceptada", "fecha_respuesta": "2026-11-21"}
ATENCION = {"tipo_asistencia": "documentacion", "fecha_atencion": "2026-11-22", "descripcion": "Salvoconducto emitido",
            "monto": "250.50", "moneda": "MXN", "fuente_financiamiento": "FOSMIH"}
SEGUIMIENTO_FIN = {"fecha_seguimiento": "2026-11-25", "metodo": "llamada", "resultado_seguimiento": "Llegó bien",
                   "continuar_seguimiento": "no"}
PROPUESTA = {"motivo_cierre": "retornado", "resumen_cierre": "Retorno completado sin novedad."}
APROBAR = {"decision_cierre": "aprobar"}
RECHAZAR = {"decision_cierre": "rechazar", "observaciones_supervisor": "Falta registrar el apoyo económico."}


def open_tasks(instance_id=None, case_id=None):
    query = db.select(HumanTask).where(HumanTask.completed_at.is_(None)).order_by(HumanTask.id)
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    if case_id is not None:
        query = query.where(HumanTask.case_id == case_id)
    db.session.expire_all()
    return db.session.scalars(query).all()


def single_open_task(**kw) -> HumanTask:
    tasks = open_tasks(**kw)
    assert len(tasks) == 1, [t.title for t in tasks]
    return tasks[0]


def start_case(client) -> HumanTask:
    """'Nuevo caso' through the web; returns the Registro task it leads to."""
    response = client.post("/casos/nuevo", data={"proceso": "proteccion_consular"})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    task_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return db.session.get(HumanTask, task_id)


def submit(client, task, data, expect=302):
    response = client.post(f"/tareas/{task.id}", data=data)
    assert response.status_code == expect, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    return response


def register_case(client, **overrides):
    task = start_case(client)
    submit(client, task, {**REGISTRO, **overrides})
    db.session.expire_all()
    return db.session.get(HumanTask, task.id).instance


def case_of(instance):
    """The case a workflow instance belongs to, read afresh."""
    from app.cases.models import Case
    from app.workflow.models import WorkflowInstance

    db.session.expire_all()
    return db.session.get(Case, db.session.get(WorkflowInstance, instance.id).case_id)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def office_today(zone: str = "America/Mexico_City"):
    """Today as an officer of the office types it (TAP's zone by default): between 00:00 and 06:00 UTC it is
    still yesterday in Tapachula and Tegucigalpa, and a UTC date would be a day in the future there."""
    from zoneinfo import ZoneInfo

    from app.core import clock

    return clock.now().astimezone(ZoneInfo(zone)).date()


def build_case(number, office, category, sex, age, opened, closed=None, dept=None, muni=None, alone=False):
    """A case and its person written directly (no workflow), for the statistics: case number T-<number>."""
    from app.cases.models import Case, Person
    from app.reference.models import VulnerabilityMarker

    person = Person(given_names=f"Persona {number}", first_surname="Prueba", sex=sex, estimated_age=age,
                    origin_department_code=dept, origin_municipality_code=muni)
    if alone:
        person.vulnerability_markers.append(db.session.get(VulnerabilityMarker, "NNA_NO_ACOMP"))
    db.session.add(person)
    db.session.flush()
    case = Case(number=f"T-{number}", office_id=office.id, person_id=person.id, category_code=category,
                summary="Hechos de prueba.", opened_at=opened, closed_at=closed, age_at_opening=age,
                status="cerrado" if closed else "en_atencion")
    db.session.add(case)
    db.session.flush()
    return case


def snapshot(model):
    """Every row of a table, every column: to prove a refused request changed nothing."""
    db.session.expire_all()
    columns = [c.key for c in model.__table__.columns]
    return sorted(tuple(getattr(row, c) for c in columns) for row in db.session.scalars(db.select(model)))


def pg_admin(sql: str, server: str | None = None) -> None:
    """Run a statement on the server's maintenance connection (CREATE/DROP DATABASE need autocommit)."""
    import sqlalchemy as sa

    engine = sa.create_engine(server or PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool,
                              connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(sql))
    finally:
        engine.dispose()


def pg_unavailable(*tools) -> str | None:
    """Why the PostgreSQL server (or one of the client tools named) cannot be used here, or None."""
    import shutil

    from sqlalchemy.engine import make_url

    for tool in tools:
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    try:
        pg_admin("SELECT 1")
    except Exception as exc:
        return f"no PostgreSQL server answers at {make_url(PG_SERVER).render_as_string()}: {type(exc).__name__}"
    return None


def pdf_text(data: bytes) -> str:
    """The text of a PDF, page after page (pypdf)."""
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    """Text without any whitespace: what survives a PDF's line wrapping."""
    import re

    return re.sub(r"\s+", "", text)
