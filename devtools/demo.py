"""Fictitious demo data: one user per role and a handful of cases at different steps."""
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from app import create_app
from app.audit.services import seal_all
from app.auth.models import User
from app.auth.password_policy import generate_password
from app.auth.passwords import verify_password
from app.auth.services import create_user
from app.cases.models import Case
from app.extensions import db
from app.reference.models import Office
from app.tasks.services import submit_values
from app.workflow import services as workflow
from app.workflow.models import HumanTask

DEMO_USERS = [
    ("oficial.tap", "Ana Lucía Reyes (demo)", "oficial", "TAP"),
    ("consul.tap", "Carlos Alberto Mejía (demo)", "supervisor", "TAP"),
    ("oficial.hou", "Luis Fernando Zelaya (demo)", "oficial", "HOU"),
    ("analista", "Gabriela Ordóñez (demo)", "analista", "DGPHM"),
    ("gestor", "Roberto Paz (demo)", "gestor", "DGPHM"),
    ("admin", "Administración SIPROC (demo)", "admin", "DGPHM"),
]

REGISTRO = {
    "categoria": "RET", "sexo": "M", "pais_ubicacion": "MX", "ciudad_ubicacion": "Tapachula, Chiapas",
    "relato": "Persona retenida en estación migratoria; solicita apoyo para su retorno a Honduras.",
}
STEPS = {
    "Task_evaluacion": {"necesidades": ["documentacion", "comunicacion_familia"], "nivel_riesgo": "medio",
                        "requiere_remision": True, "observaciones": "Sin documentos de viaje."},
    # the unaccompanied-children subprocess (category NNA): two mandatory referrals
    "Task_nna_senaf": {"institucion": "SENAF", "servicio_solicitado": "Recepción y reintegración con su madre.",
                       "fecha_envio": "2026-11-20", "consentimiento": True,
                       "consentimiento_otorgado_por": "Procuraduría de Protección de NNA de Chiapas"},
    "Task_nna_autoridad": {"institucion": "DIF", "servicio_solicitado": "Medidas de protección y alojamiento.",
                           "fecha_envio": "2026-11-20"},
    "Task_remision": {"remisiones": [{"institucion": "INM-MX", "servicio_solicitado": "Agilizar el retorno asistido."},
                                     {"institucion": "OIM", "servicio_solicitado": "Albergue temporal y traslado.",
                                      "plazo_dias": 3}],
                      "fecha_envio": "2026-11-20", "consentimiento": True},
    "Task_respuesta": {"respuesta": "aceptada", "fecha_respuesta": "2026-11-22", "resultado": "Retorno programado."},
    "Task_atencion": {"tipo_asistencia": "documentacion", "fecha_atencion": "2026-11-23",
                      "descripcion": "Se emitió salvoconducto.", "proveedor": "Consulado"},
    "Task_seguimiento": {"fecha_seguimiento": "2026-11-26", "metodo": "llamada",
                         "resultado_seguimiento": "La persona llegó al CAMR San Pedro Sula.",
                         "continuar_seguimiento": False},
    "Task_propuesta": {"motivo_cierre": "retornado", "resumen_cierre": "Retorno asistido completado sin novedad."},
}
DEMO_CASES = [
    # (office, person data, how many steps after registration)
    ("TAP", {"nombres": "María Fernanda", "primer_apellido": "López", "segundo_apellido": "Castro", "sexo": "F",
             "fecha_nacimiento": "1994-03-12", "dni": "0801-1994-04512", "municipio_origen": "0801",
             "categoria": "DET"}, 0),
    ("TAP", {"nombres": "José Ángel", "primer_apellido": "Hernández", "segundo_apellido": "Núñez",
             "fecha_nacimiento": "1988-07-30", "dni": "0501-1988-02231", "municipio_origen": "0501"}, 2),
    ("TAP", {"nombres": "Karla Yamileth", "primer_apellido": "Martínez", "sexo": "F", "edad_estimada": 15,
             "categoria": "NNA", "municipio_origen": "1801", "vulnerabilidades": ["NNA", "NNA_NO_ACOMP"],
             "relato": "Adolescente no acompañada localizada en albergue; su madre vive en Olanchito."}, 4),
    ("TAP", {"nombres": "Wilmer Antonio", "primer_apellido": "Sánchez", "segundo_apellido": "Rivera",
             "fecha_nacimiento": "1979-01-05", "municipio_origen": "0301"}, 6),
    ("TAP", {"nombres": "Marvin Josué", "primer_apellido": "Castillo", "segundo_apellido": "Aguilar", "sexo": "M",
             "fecha_nacimiento": "2001-05-17", "municipio_origen": "0101", "categoria": "RET"}, 4),
    ("HOU", {"nombres": "Delmy Suyapa", "primer_apellido": "Flores", "sexo": "F", "fecha_nacimiento": "1990-09-09",
             "categoria": "SAL", "pais_ubicacion": "US", "ciudad_ubicacion": "Houston, TX",
             "relato": "Hospitalizada tras accidente laboral; la familia pide información."}, 1),
]


def load_demo(app) -> list[tuple[str, str, str, str]]:
    """Create what is missing; returns (username, password, role, office) for printing."""
    passwords = _passwords(Path(app.instance_path) / "demo_credentials.txt")
    offices = {o.code: o for o in db.session.scalars(db.select(Office))}
    users = {}
    for username, name, role, office in DEMO_USERS:
        user = db.session.scalar(db.select(User).where(User.username == username))
        if user is None:
            user = create_user(username, name, passwords[username], role, offices[office])
        users[username] = user
    _demo_focal_points()
    if db.session.scalar(db.select(db.func.count(Case.id))) == 0:
        with app.test_request_context():
            for office, person, steps in DEMO_CASES:
                officer = users["oficial.tap" if office == "TAP" else "oficial.hou"]
                _walk_case(officer, {**REGISTRO, **person}, steps)
    return [(u, passwords[u] if verify_password(users[u].password_hash, passwords[u]) else
             "(contraseña ya cambiada)", r, o) for u, _n, r, o in DEMO_USERS]


DEMO_FOCAL_POINTS = {  # reserved example.org addresses: a demo's referral e-mails reach no real institution
    "INM-MX": ("Punto focal de demostración (INM)", "remisiones.inm@example.org", "+52 962 000 0000", 5),
    "OIM": ("Punto focal de demostración (OIM)", "remisiones.oim@example.org", "+52 962 000 0001", 3),
}


def _demo_focal_points():
    """Focal points for two institutions, only where an administrator has not set one."""
    from app.reference.models import Institution

    for code, (name, address, phone, days) in DEMO_FOCAL_POINTS.items():
        institution = db.session.scalar(db.select(Institution).where(Institution.code == code))
        if institution is not None and not institution.focal_email:
            institution.focal_name, institution.focal_email, institution.focal_phone = name, address, phone
            institution.response_days = institution.response_days or days


def _walk_case(officer, registration, steps):
    version = workflow.latest_version("proteccion_consular")
    instance = workflow.start_instance(version, officer.office_id, officer.id)
    submit_values(officer, _open_task(instance), registration)
    for _ in range(steps):
        task = _open_task(instance)
        submit_values(officer, task, STEPS[task.task_spec])


def _open_task(instance) -> HumanTask:
    return db.session.scalar(db.select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None)).order_by(HumanTask.id))


def _passwords(path: Path) -> dict[str, str]:
    """Demo passwords, generated once and kept (mode 0600) in the instance folder."""
    known = {}
    if path.exists():
        known = dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)
    for username, name, *_rest in DEMO_USERS:
        if username not in known:
            known[username] = generate_password(username, name)  # always meets the password policy
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(f"{u} {p}\n" for u, p in known.items()))
    return known


@click.command("demo")
@with_appcontext
def demo_command():
    """Create demo users (one per role) and fictitious demo cases; prints the credentials."""
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("DEMO_DATA_ALLOWED is off in this installation")
    credentials = load_demo(current_app)
    db.session.commit()
    seal_all()
    click.echo("\nDemo users (fictitious data; passwords are kept in instance/demo_credentials.txt):")
    for username, password, role, office in credentials:
        click.echo(f"  {username:<14} {password:<22} {role:<22} {office}")


cli = FlaskGroup(create_app=lambda: create_app(), add_default_commands=False, help="SIPROC development tools.")
cli.add_command(demo_command)

if __name__ == "__main__":
    cli()
