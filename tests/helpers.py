"""Helpers that drive the protection process through the web, as an officer would."""
from app.extensions import db
from app.workflow.models import HumanTask

REGISTRO = {
    "categoria": "RET", "nombres": "José Ángel", "primer_apellido": "Hernández", "segundo_apellido": "Núñez",
    "sexo": "M", "fecha_nacimiento": "1988-07-30", "dni": "0501-1988-02231", "municipio_origen": "0501",
    "pais_ubicacion": "MX", "ciudad_ubicacion": "Tapachula", "relato": "Retenido en estación migratoria.",
    "vulnerabilidades": ["SIN_DOCUMENTOS"],
}
EVALUACION_REMITIR = {"necesidades": ["documentacion"], "nivel_riesgo": "alto", "requiere_remision": "si"}
EVALUACION_SIN_REMISION = {"necesidades": ["asistencia_legal"], "nivel_riesgo": "bajo", "requiere_remision": "no"}
REMISION = {"institucion": "INM-MX", "servicio_solicitado": "Retorno asistido", "fecha_envio": "2026-11-20",
            "consentimiento": "y"}
RESPUESTA_ACEPTADA = {"respuesta": "aceptada", "fecha_respuesta": "2026-11-21", "remitir_otra": "no"}
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
