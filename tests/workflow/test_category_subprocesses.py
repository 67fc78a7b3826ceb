"""Category subprocesses (call activities): each category's own steps, then the generic path to closure.

Cases are walked through the web, as officers and supervisors do; the main process routes on the
case category returned by the registration (`categoria`) and every subprocess returns to
"¿Requiere remisión?".
"""
import json
from datetime import timedelta
from pathlib import Path

import pytest

from app.cases.models import Assistance, CaseEvent, Referral
from app.core import clock
from app.extensions import db
from app.formschema import read_forms_dir
from app.workflow.deploy import deploy_files
from app.workflow.engine import DiagramError, get_engine
from app.workflow.models import HumanTask, ProcessVersion, WorkflowInstance
from app.workflow.services import latest_version, start_instance, startable_versions
from tests.helpers import (
    APROBAR,
    ATENCION,
    EVALUACION_REMITIR,
    EVALUACION_SIN_REMISION,
    PROPUESTA,
    REGISTRO,
    REMISION,
    RESPUESTA_ACEPTADA,
    SEGUIMIENTO_FIN,
    case_of,
    open_tasks,
    register_case,
    single_open_task,
    submit,
)

SUBPROCESSES = {"privacion_libertad", "repatriacion_restos", "busqueda_persona", "nna_no_acompanado"}
PERSONA = "José Ángel Hernández Núñez"

NOTIFICACION = {"fecha_notificacion": "2026-11-20", "medio_conocimiento": "notificacion_autoridad",
                "fecha_detencion": "2026-11-19", "tipo_detencion": "penal",
                "autoridad_detencion": "Fiscalía del Estado de Chiapas", "lugar_detencion": "CERSS No. 3",
                "ciudad_detencion": "Tapachula", "motivo_detencion": "Imputado por robo con violencia."}
VISITA = {"fecha_visita": "2026-11-21", "modalidad_visita": "presencial",
          "condiciones_verificadas": ["informada_motivos", "acceso_defensa", "sin_malos_tratos"],
          "estado_salud": "bueno", "observaciones_visita": "No cuenta con intérprete; se pidió a la fiscalía.",
          "necesidades_detectadas": "Sin comunicación con la familia desde la detención."}
SEGUIMIENTO_LEGAL = {"fecha_actuacion": "2026-11-22", "etapa_proceso": "prision_preventiva", "tipo_defensa": "publica",
                     "defensor": "Lic. Marta Ruiz, defensoría pública", "proxima_audiencia": "2026-12-15",
                     "resultado_actuacion": "Se dictó prisión preventiva por dos meses."}

DOCUMENTOS = {"fecha_defuncion": "2026-11-15", "lugar_defuncion": "Hospital General de Tapachula",
              "documentos_recibidos": ["acta_defuncion", "informe_forense", "certificado_embalsamamiento"],
              "fecha_revision": "2026-11-18", "documentos_pendientes": "Permiso sanitario en trámite."}
FUNERARIA = {"nombre_funeraria": "Funerales del Sur", "servicio_funerario": "embalsamamiento_traslado",
             "fecha_cotizacion": "2026-11-19", "costo_servicio": "48500", "moneda_servicio": "MXN",
             "elegida_por_familia": "y"}
FOSMIH_APROBADO = {"fosmih_aprobado": "si", "monto_aprobado": "48500", "moneda_aprobada": "MXN",
                   "observaciones_fosmih": "Cotización dentro del tabulador."}
FOSMIH_RECHAZADO = {"fosmih_aprobado": "no", "motivo_rechazo_fosmih": "La familia cuenta con seguro de vida."}
ASISTENCIA_FOSMIH = {"tipo_asistencia": "repatriacion_restos", "fuente_financiamiento": "FOSMIH",
                     "fecha_atencion": "2026-11-21", "proveedor": "Funerales del Sur", "monto": "48500",
                     "moneda": "MXN", "descripcion": "Pago de embalsamamiento y traslado, factura A-1203."}
TRASLADO = {"fecha_traslado": "2026-11-23", "medio_traslado": "aereo", "transportista": "Aeroméxico Cargo",
            "numero_guia": "AWB 139-12345675", "destino_traslado": "Aeropuerto Ramón Villeda Morales",
            "departamento_destino": "05", "financiamiento_traslado": "FOSMIH"}
ENTREGA = {"fecha_entrega": "2026-11-24", "persona_recibe": "María Núñez", "parentesco_recibe": "madre_padre",
           "lugar_entrega": "Aeropuerto Ramón Villeda Morales"}

DENUNCIA = {"denunciante": "María Núñez", "parentesco_denunciante": "madre_padre",
            "fecha_ultimo_contacto": "2026-11-01", "lugar_ultimo_contacto": "Reynosa, Tamaulipas",
            "pais_ultimo_contacto": "MX", "descripcion_persona": "1.70 m, tatuaje de una rosa en el brazo izquierdo."}
ACCION = {"fecha_accion": "2026-11-20", "institucion_busqueda": "CNB", "accion_busqueda": "solicitud_informacion",
          "detalle_accion": "Oficio 123/2026 a la Comisión Nacional de Búsqueda.", "resultado_accion": "pendiente"}
RESULTADO = {"resultado_busqueda": "localizada_con_vida", "fecha_resultado": "2026-11-24",
             "lugar_localizacion": "Estación migratoria de Reynosa",
             "detalle_resultado": "Estaba detenida sin acceso a teléfono.", "familia_informada": "y"}

REMISION_SENAF = {"institucion": "SENAF", "servicio_solicitado": "Recepción y reintegración familiar",
                  "fecha_envio": "2026-11-24", "consentimiento": "y",
                  "consentimiento_otorgado_por": "Procuraduría de Protección de NNA de Chiapas"}
REMISION_AUTORIDAD = {"institucion": "DIF", "servicio_solicitado": "Medidas de protección y alojamiento",
                      "fecha_envio": "2026-11-24", "contacto_institucion": "Lic. Pérez"}

SENAF_TASK = "Remisión a SENAF"
HOST_TASK = "Remisión a la autoridad de protección de la niñez del país de acogida"


def _history(instance) -> list[str]:
    case = case_of(instance)
    return [e.title for e in db.session.scalars(
        db.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "task_completed")
        .order_by(CaseEvent.id))]


def _step(client, instance, title, data, role="oficial", lane="Oficial consular"):
    """The single open task is `title` for `role` in `lane`, in that client's inbox, its form renders; submit data."""
    task = single_open_task(instance_id=instance.id)
    assert (task.title, task.role, task.lane) == (title, role, lane)
    assert task.case_id == case_of(instance).id
    assert title in client.get("/tareas/").get_data(as_text=True)
    page = client.get(f"/tareas/{task.id}")
    assert page.status_code == 200 and title in page.get_data(as_text=True)
    submit(client, task, data)
    return task


def _generic_path_to_closure(officer, consul, instance, referral=False):
    """From "¿Requiere remisión?" on: optional referral, assistance, follow-up, closure approved."""
    if referral:
        _step(officer, instance, "Remisión a institución", REMISION)
        _step(officer, instance, "Respuesta de la institución · INM México", RESPUESTA_ACEPTADA)
    for title, data in (("Atención brindada", ATENCION), ("Seguimiento", SEGUIMIENTO_FIN),
                        ("Propuesta de cierre", PROPUESTA)):
        _step(officer, instance, title, data)
    _step(consul, instance, "Aprobación de cierre", APROBAR, role="supervisor", lane="Supervisor")
    case = case_of(instance)
    assert case.status == "cerrado" and case.closed_at is not None
    # the closed case's instance waits at «Caso cerrado · reapertura» (issue 17), with no task open
    assert db.session.get(WorkflowInstance, instance.id).status == "running"
    assert open_tasks(instance_id=instance.id) == []


def test_privacion_de_libertad_visit_and_legal_follow_up_loop(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, categoria="DET")
    _step(officer, instance, "Evaluación de necesidades y riesgos", EVALUACION_SIN_REMISION)
    assert case_of(instance).status == "en_atencion"

    notificacion = single_open_task(instance_id=instance.id)
    page = officer.get(f"/tareas/{notificacion.id}").get_data(as_text=True)
    assert "Notificación consular" in page and PERSONA in page and case_of(instance).number in page  # instructions
    assert notificacion.due_at - notificacion.created_at == timedelta(days=1)
    _step(officer, instance, "Notificación consular", NOTIFICACION)
    _step(officer, instance, "Visita consular", VISITA)
    first = _step(officer, instance, "Seguimiento legal", {**SEGUIMIENTO_LEGAL, "continuar_seguimiento_legal": "si"})
    assert case_of(instance).status == "en_seguimiento"
    again = _step(officer, instance, "Seguimiento legal", {**SEGUIMIENTO_LEGAL, "fecha_actuacion": "2026-11-25",
                                                           "etapa_proceso": "sentencia",
                                                           "continuar_seguimiento_legal": "no"})
    assert again.id != first.id
    _generic_path_to_closure(officer, consul, instance)

    assert _history(instance) == [
        "Registro del caso", "Evaluación de necesidades y riesgos", "Notificación consular", "Visita consular",
        "Seguimiento legal", "Seguimiento legal", "Atención brindada", "Seguimiento", "Propuesta de cierre",
        "Aprobación de cierre"]
    visita = db.session.scalar(db.select(CaseEvent).where(CaseEvent.case_id == case_of(instance).id,
                                                          CaseEvent.title == "Visita consular"))
    checklist = dict(map(tuple, visita.details))["Condiciones y derechos verificados (marque lo que se cumple)"]
    assert "Tiene acceso a un abogado o defensor público" in checklist
    assert "Cuenta con intérprete" not in checklist


def test_repatriacion_de_restos_with_fosmih_approval_then_referral(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, categoria="REP")
    _step(officer, instance, "Evaluación de necesidades y riesgos", EVALUACION_REMITIR)
    _step(officer, instance, "Documentos para la repatriación", DOCUMENTOS)
    _step(officer, instance, "Funeraria", FUNERARIA)

    approval = single_open_task(instance_id=instance.id)
    assert (approval.title, approval.role, approval.lane) == ("Aprobación de financiamiento FOSMIH", "supervisor",
                                                              "Supervisor")
    assert f'href="/tareas/{approval.id}"' not in officer.get("/tareas/").get_data(as_text=True)
    assert officer.post(f"/tareas/{approval.id}", data=FOSMIH_APROBADO).status_code == 403
    # a rejection needs its reason, an approval its amount
    submit(consul, approval, {"fosmih_aprobado": "no"}, expect=422)
    submit(consul, approval, {"fosmih_aprobado": "si"}, expect=422)
    assert single_open_task(instance_id=instance.id).id == approval.id
    _step(consul, instance, "Aprobación de financiamiento FOSMIH", FOSMIH_APROBADO, role="supervisor",
          lane="Supervisor")

    _step(officer, instance, "Registro de la asistencia FOSMIH", ASISTENCIA_FOSMIH)
    assistance = db.session.scalar(db.select(Assistance).where(Assistance.case_id == case_of(instance).id))
    assert (assistance.kind, assistance.funding_source, assistance.amount_minor, assistance.currency) == (
        "repatriacion_restos", "FOSMIH", 4850000, "MXN")
    _step(officer, instance, "Traslado de los restos", TRASLADO)
    _step(officer, instance, "Entrega a la familia", ENTREGA)
    # back on the generic path: the assessment asked for a referral
    _generic_path_to_closure(officer, consul, instance, referral=True)

    assert _history(instance) == [
        "Registro del caso", "Evaluación de necesidades y riesgos", "Documentos para la repatriación", "Funeraria",
        "Aprobación de financiamiento FOSMIH", "Registro de la asistencia FOSMIH", "Traslado de los restos",
        "Entrega a la familia", "Remisión a institución", "Respuesta de la institución · INM México",
        "Atención brindada",
        "Seguimiento", "Propuesta de cierre", "Aprobación de cierre"]


def test_repatriacion_de_restos_rejected_funding_goes_to_transfer_without_assistance(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, categoria="REP")
    _step(officer, instance, "Evaluación de necesidades y riesgos", EVALUACION_SIN_REMISION)
    _step(officer, instance, "Documentos para la repatriación", DOCUMENTOS)
    _step(officer, instance, "Funeraria", FUNERARIA)
    _step(consul, instance, "Aprobación de financiamiento FOSMIH", FOSMIH_RECHAZADO, role="supervisor",
          lane="Supervisor")
    _step(officer, instance, "Traslado de los restos", {**TRASLADO, "financiamiento_traslado": "familia"})
    assert db.session.scalar(db.select(db.func.count(Assistance.id))) == 0
    _step(officer, instance, "Entrega a la familia", ENTREGA)
    assert single_open_task(instance_id=instance.id).title == "Atención brindada"
    rejection = db.session.scalar(db.select(CaseEvent).where(
        CaseEvent.title == "Aprobación de financiamiento FOSMIH"))
    assert ["Motivo del rechazo", "La familia cuenta con seguro de vida."] in rejection.details


def test_busqueda_de_persona_search_actions_loop_then_result(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, categoria="BUS")
    _step(officer, instance, "Evaluación de necesidades y riesgos", EVALUACION_SIN_REMISION)
    submit(officer, single_open_task(instance_id=instance.id), {**DENUNCIA, "denuncia_previa": "y"}, expect=422)
    _step(officer, instance, "Denuncia de la desaparición", DENUNCIA)
    _step(officer, instance, "Acciones de búsqueda", {**ACCION, "continuar_busqueda": "si"})
    _step(officer, instance, "Acciones de búsqueda", {**ACCION, "institucion_busqueda": "INM-MX",
                                                      "accion_busqueda": "centros_detencion",
                                                      "resultado_accion": "localizada", "continuar_busqueda": "no"})
    submit(officer, single_open_task(instance_id=instance.id), {**RESULTADO, "lugar_localizacion": ""}, expect=422)
    _step(officer, instance, "Resultado de la búsqueda", RESULTADO)
    _generic_path_to_closure(officer, consul, instance)

    assert _history(instance) == [
        "Registro del caso", "Evaluación de necesidades y riesgos", "Denuncia de la desaparición",
        "Acciones de búsqueda", "Acciones de búsqueda", "Resultado de la búsqueda", "Atención brindada",
        "Seguimiento", "Propuesta de cierre", "Aprobación de cierre"]
    acciones = db.session.scalars(db.select(CaseEvent).where(CaseEvent.title == "Acciones de búsqueda")
                                  .order_by(CaseEvent.id)).all()
    institutions = [dict(map(tuple, e.details))["Institución consultada"] for e in acciones]
    assert "Comisión Nacional de Búsqueda" in institutions[0] and "INM México" in institutions[1]


def test_nna_two_mandatory_referrals_in_parallel_within_24_hours(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, categoria="NNA")
    _step(officer, instance, "Evaluación de necesidades y riesgos", EVALUACION_SIN_REMISION)

    pending = {t.title: t for t in open_tasks(instance_id=instance.id)}
    assert set(pending) == {SENAF_TASK, HOST_TASK}
    for task in pending.values():
        assert (task.role, task.lane) == ("oficial", "Oficial consular")
        # due 24 hours after the case was registered, not after the assessment
        assert clock.as_utc(task.due_at) - clock.as_utc(case_of(instance).opened_at) == timedelta(hours=24)
    assert case_of(instance).status == "en_remision"
    inbox = officer.get("/tareas/").get_data(as_text=True)
    assert SENAF_TASK in inbox and HOST_TASK in inbox
    host_page = officer.get(f"/tareas/{pending[HOST_TASK].id}").get_data(as_text=True)
    assert "DIF / PFPNNA" in host_page and "ORR" in host_page

    # the SENAF step only accepts SENAF; without consent on file no referral is sent
    senaf = pending[SENAF_TASK]
    submit(officer, senaf, {**REMISION_SENAF, "institucion": "DIF"}, expect=422)
    submit(officer, senaf, {k: v for k, v in REMISION_SENAF.items() if k != "consentimiento"}, expect=422)
    assert db.session.scalar(db.select(db.func.count(Referral.id))) == 0
    submit(officer, senaf, REMISION_SENAF)
    assert [t.title for t in open_tasks(instance_id=instance.id)] == [HOST_TASK]  # the join waits for both
    _step(officer, instance, HOST_TASK, REMISION_AUTORIDAD)  # consent is now on the case

    case = case_of(instance)
    referrals = db.session.scalars(db.select(Referral).where(Referral.case_id == case.id)
                                   .order_by(Referral.id)).all()
    assert [(r.institution_code, r.status) for r in referrals] == [("SENAF", "enviada"), ("DIF", "enviada")]
    assert case.consent_to_share
    _generic_path_to_closure(officer, consul, instance)
    assert _history(instance)[2:4] == [SENAF_TASK, HOST_TASK]


def test_category_without_subprocess_goes_straight_to_the_generic_path(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer)
    assert REGISTRO["categoria"] == "RET"
    _step(officer, instance, "Evaluación de necesidades y riesgos", EVALUACION_REMITIR)
    _generic_path_to_closure(officer, consul, instance, referral=True)
    titles = {t.title for t in db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance.id))}
    assert titles == {"Registro del caso", "Evaluación de necesidades y riesgos", "Remisión a institución",
                      "Respuesta de la institución · INM México", "Atención brindada", "Seguimiento",
                      "Propuesta de cierre", "Aprobación de cierre"}


def test_main_version_carries_the_subprocess_specs_and_their_forms(app):
    main = latest_version("proteccion_consular")
    # the called processes, and the referral subprocess embedded in the main diagram
    assert set(json.loads(main.spec_json)["subprocess_specs"]) == SUBPROCESSES | {"SubProcess_remisiones"}
    forms = json.loads(main.forms_json)
    assert {"det_visita.json", "rep_aprobacion_fosmih.json", "bus_acciones.json", "nna_remision_senaf.json",
            "nna_remision_senaf_ui.json"} <= set(forms)
    called = db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.process_key.in_(SUBPROCESSES))).all()
    assert {v.process_key for v in called} == SUBPROCESSES
    assert not any(v.is_startable for v in called)
    assert [v.process_key for v in startable_versions()] == ["proteccion_consular"]


def _deployed_files(app):
    return ({p.name: p.read_bytes() for p in Path(app.config["BPMN_DIR"]).glob("*.bpmn")},
            read_forms_dir(app.config["FORMS_DIR"]))


def test_changing_a_called_diagram_versions_it_and_its_caller_only(app, users):
    files, forms = _deployed_files(app)
    v1 = latest_version("proteccion_consular")
    running = start_instance(v1, users["oficial.tap"].office_id, users["oficial.tap"].id)
    changed = files["nna_no_acompanado.bpmn"].replace(b'value="sumar_horas(registrado_en, 24)"',
                                                      b'value="sumar_horas(registrado_en, 12)"')
    results = {r.process_key: (r.version, r.created)
               for r in deploy_files({**files, "nna_no_acompanado.bpmn": changed}, forms)}
    assert results == {"proteccion_consular": (2, True), "nna_no_acompanado": (2, True),
                       "privacion_libertad": (1, False), "repatriacion_restos": (1, False),
                       "busqueda_persona": (1, False)}
    v2 = latest_version("proteccion_consular")
    engine = get_engine()
    deadlines = {v.version: engine.user_task(v.cache_key, v.spec_json, "Task_nna_senaf").deadline for v in (v1, v2)}
    assert deadlines == {1: "sumar_horas(registrado_en, 24)", 2: "sumar_horas(registrado_en, 12)"}
    assert db.session.get(WorkflowInstance, running.id).process_version_id == v1.id

    # a form used only inside a subprocess is part of the caller's version too
    edited = {**forms, "bus_acciones.json": forms["bus_acciones.json"].replace("Acción realizada", "Gestión realizada")}
    results = {r.process_key: r.created for r in deploy_files({**files, "nna_no_acompanado.bpmn": changed}, edited)}
    assert results == {"proteccion_consular": True, "busqueda_persona": True, "nna_no_acompanado": False,
                       "privacion_libertad": False, "repatriacion_restos": False}


def test_main_diagram_without_its_called_diagrams_is_refused(app):
    files, forms = _deployed_files(app)
    with pytest.raises(DiagramError) as refused:
        deploy_files({"proteccion_consular.bpmn": files["proteccion_consular.bpmn"]}, forms)
    assert "privacion_libertad" in str(refused.value)
    assert db.session.scalar(db.select(db.func.count(ProcessVersion.id))) == 5


def test_user_task_ids_must_not_repeat_across_called_processes(app):
    """Forms and instructions are found by task id in the process and its called processes."""
    files, forms = _deployed_files(app)
    clash = files["nna_no_acompanado.bpmn"].replace(b"Task_nna_senaf", b"Task_registro")
    with pytest.raises(DiagramError) as refused:
        deploy_files({**files, "nna_no_acompanado.bpmn": clash}, forms)
    assert refused.value.problems == [
        ("proteccion_consular.bpmn", "Task_registro", "el identificador de tarea «Task_registro» se repite en los "
                                                      "procesos que este diagrama llama; use identificadores únicos")]
