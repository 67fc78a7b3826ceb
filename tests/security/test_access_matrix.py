"""Every case, task, referral, document, person, transfer and admin URL, as each role of the same office,
of another office and of the centre, and with guessed ids: allowed, 403 or 404 — and no data of another
office in any refusal. A new route with ids must be added to EXPECTED, or this test fails."""
import io
import re

import pytest

from app.cases.emergency import EmergencyAccess
from app.cases.models import Attachment, Case, CaseTransfer, Referral
from app.extensions import db
from app.reference.models import Office
from app.workflow.models import HumanTask, WorkflowInstance
from tests.helpers import EVALUACION_REMITIR, REMISION, register_case, single_open_task, submit

SAME = ("oficial.tap", "consul.tap")
OTHER = ("oficial.hou", "consul.hou")
CENTRAL = ("analista", "gestor", "admin")
EVERYONE = SAME + OTHER + CENTRAL
PDF = b"%PDF-1.4\n%%EOF\n"

# endpoint -> users allowed to GET it (everyone else: 403); POST-only endpoints list who may POST
READ_CASE = {"oficial.tap", "consul.tap", "analista", "gestor", "admin"}
EDIT_CASE = {"oficial.tap", "consul.tap"}
ADMIN = {"admin"}
OWNER = {"gestor"}
PROCESS_VIEW = {"gestor", "consul.tap", "consul.hou", "analista", "admin"}  # supervisors and the centre
STATISTICS = PROCESS_VIEW
NAMED_EXPORT = {"consul.tap", "consul.hou", "analista"}  # lists of named people: supervisors and analysts
EXPECTED_GET = {
    "cases.diagram": READ_CASE,
    "modeler.process": OWNER, "modeler.editor": OWNER, "modeler.draft_xml": OWNER, "modeler.version_xml": OWNER,
    "modeler.differences": OWNER, "modeler.view": PROCESS_VIEW, "modeler.view_xml": PROCESS_VIEW,
    "modeler.form_edit": OWNER, "modeler.form_preview": OWNER, "modeler.export_model": OWNER,
    "modeler.decision_edit": OWNER,
    "stats.publication": STATISTICS, "stats.export_cases": NAMED_EXPORT,
    "cases.detail": READ_CASE,
    "cases.access_log": {"consul.tap", "analista", "gestor", "admin"},  # the office's supervisors, the centre
    "cases.download": READ_CASE,
    "cases.edit_person": EDIT_CASE,
    # the person page: whoever sees the person (an office holding a case of it, the centre) except analysts and
    # process owners; merging: a supervisor of the persons' office (tests/cases/test_merge.py)
    "cases.person": {"oficial.tap", "consul.tap", "admin"},
    "cases.person_merge": {"consul.tap"}, "cases.person_merge_compare": {"consul.tap"},
    "cases.course_page": {"consul.tap"},  # reopening, category: a supervisor of the case's office (issue 17)
    "cases.print_form": EDIT_CASE,  # printing is a disclosure: officers and supervisors who may see the case
    "tasks.show": READ_CASE,
    "auth.user_edit": ADMIN,
    "reference.rows": ADMIN,
    "reference.edit": ADMIN,
    "reference.new": ADMIN,
    # public by design: whoever holds a live token sees that one referral (tests/cases/test_referrals.py tries
    # guessed, tampered, reused, expired and revoked tokens)
    "cases.referral_link": set(EVERYONE),
}
EXPECTED_POST = {
    "cases.add_note": EDIT_CASE,
    "cases.upload": EDIT_CASE,
    "cases.update_referral": EDIT_CASE,
    "cases.renew_referral_link": EDIT_CASE,
    "cases.referral_link": set(EVERYONE),  # the token is the credential; POSTs change data, tested elsewhere
    "cases.edit_person": EDIT_CASE,
    "cases.print_view": EDIT_CASE, "cases.print_pdf": EDIT_CASE,  # tests/cases/test_case_print.py
    "cases.request_transfer": EDIT_CASE,
    "cases.person_merge_compare": {"consul.tap"}, "cases.person_merge_undo": ADMIN,
    "cases.override_consent": {"consul.tap"},
    "cases.reopen": {"consul.tap"}, "cases.change_category": {"consul.tap"},  # tests/cases/test_course.py
    "tasks.submit": {"oficial.tap", "consul.tap"},  # the officers' lane; supervisors cover their office
    "tasks.claim": {"oficial.tap"},
    "tasks.release": {"oficial.tap", "consul.tap"},
    "tasks.assign": {"consul.tap"},
    "tasks.save_draft": {"oficial.tap", "consul.tap"},
    "cases.assign": {"consul.tap"},
    "cases.transfer_decide": set(),  # the pending transfer goes to an office none of these users belongs to
    "auth.user_edit": ADMIN, "auth.user_reset_totp": ADMIN, "auth.user_reset_password": ADMIN,
    "auth.user_end_sessions": ADMIN,
    # the emergency access of oficial.hou to the second TAP case: its holder, that office's supervisor, the centre
    "tasks.request_link": {"oficial.tap", "consul.tap"},  # the intake's office; the view then needs a valid token
    "cases.decide_link": {"consul.tap", "analista", "gestor", "admin"},  # the person's office and the centre
    "cases.end_emergency_access": {"oficial.hou", "consul.tap", "analista", "gestor", "admin"},
    "reference.edit": ADMIN, "reference.deactivate": ADMIN, "reference.reactivate": ADMIN, "reference.new": ADMIN,
    "notifications.read": set(EVERYONE),  # one's own notices only: another user's id is simply not found
    "scheduler.retry": ADMIN,
    "modeler.save": OWNER, "modeler.validate": OWNER, "modeler.publish": OWNER, "modeler.upload": OWNER,
    "modeler.form_save": OWNER,
    "modeler.decision_save": OWNER,
}


@pytest.fixture
def world(login, users):
    """A TAP case with an open task, a referral, a document; a second TAP case with a pending transfer."""
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    submit(officer, single_open_task(instance_id=instance.id), REMISION)
    case = db.session.get(Case, db.session.get(WorkflowInstance, instance.id).case_id)
    officer.post(f"/casos/{case.id}/documentos", data={"archivo": (io.BytesIO(PDF), "acta.pdf")},
                 content_type="multipart/form-data")
    other = db.session.get(WorkflowInstance, register_case(officer, dni="0801199012345", nombres="Otra").id)
    mex = db.session.scalar(db.select(Office.id).where(Office.code == "MEX"))
    officer.post(f"/casos/{other.case_id}/traslado", data={"oficina": mex, "motivo": "Se mudó a la capital"})
    from app.cases.models import PersonLinkRequest

    db.session.add(PersonLinkRequest(person_id=case.person_id, office_id=mex, requested_by_id=users["oficial.hou"].id))
    db.session.commit()
    other_number = db.session.get(Case, other.case_id).number
    login("oficial.hou").post("/casos/emergencia", data={
        "numero": other_number, "motivo": "Hospital de Houston pide confirmar identidad"})
    from app.cases import referrals
    from app.core import clock

    token = referrals.issue_link(db.session.scalar(db.select(Referral)), clock.now())
    db.session.commit()
    db.session.expire_all()
    return {
        "token": token,
        "case_id": case.id,
        "task_id": single_open_task(instance_id=instance.id).id,
        "referral_id": db.session.scalar(db.select(Referral.id)),
        "attachment_id": db.session.scalar(db.select(Attachment.id)),
        "transfer_id": db.session.scalar(db.select(CaseTransfer.id)),
        "access_id": db.session.scalar(db.select(EmergencyAccess.id)),
        "link_id": db.session.scalar(db.select(PersonLinkRequest.id)),
        "person_id": case.person_id, "other_id": db.session.get(Case, other.case_id).person_id, "merge_id": 1,
        "user_id": users["oficial.tap"].id,
        "notice_id": 1,
        "failure_id": 1,
        "slug": "oficinas",
        "key": "TAP",
        "process_key": "proteccion_consular",
        "version": 1,
        "name": "registro_caso.json",
        "dmn": "riesgo.dmn",
        "fmt": "csv",
        "secrets": [case.number, "Hernández", "0501-1988-02231", "Retenido"],
    }


def routes_with_parameters(app):
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.endpoint != "static":
            yield rule


def test_every_route_with_ids_has_an_expectation(app):
    missing, seen = [], 0
    for rule in routes_with_parameters(app):
        seen += 1
        if "GET" in rule.methods and rule.endpoint not in EXPECTED_GET:
            missing.append(f"GET {rule.endpoint}")
        if "POST" in rule.methods and rule.endpoint not in EXPECTED_POST:
            missing.append(f"POST {rule.endpoint}")
    assert missing == [] and seen >= len(EXPECTED_GET)


def _url(app, rule, values):
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}, _external=False)


def test_matrix(app, login, world):
    clients = {username: login(username) for username in EVERYONE}
    checked = 0
    for rule in routes_with_parameters(app):
        url = _url(app, rule, world)
        if "GET" in rule.methods:
            for username, client in clients.items():
                response = client.get(url)
                allowed = username in EXPECTED_GET[rule.endpoint]
                assert response.status_code == (200 if allowed else 403), (rule.endpoint, username)
                if not allowed:
                    _assert_nothing_leaks(response, world)
                response.close()
                checked += 1
        if "POST" in rule.methods:
            for username, client in clients.items():
                if username in EXPECTED_POST[rule.endpoint]:
                    continue  # allowed POSTs change data; their effects are tested where they belong
                before = _fingerprint()
                response = client.post(url, data={"texto": "x", "motivo": "intento", "estado": "revocada",
                                                  "decision": "aceptar", "oficina": 1})
                assert response.status_code == 403, (rule.endpoint, username, response.status_code)
                _assert_nothing_leaks(response, world)
                assert _fingerprint() == before, (rule.endpoint, username)
                checked += 1
    assert checked >= 250  # 18 GET routes x 7 users + forbidden POSTs


def test_guessed_ids_get_404_without_data(app, login, world):
    officer, admin = login("oficial.tap"), login("admin")
    checked = set()
    for rule in routes_with_parameters(app):
        if not (rule.arguments & {"case_id", "task_id", "attachment_id", "referral_id", "transfer_id", "user_id"}):
            continue
        for name in rule.arguments & {"case_id", "task_id", "attachment_id", "referral_id", "transfer_id", "user_id"}:
            url = _url(app, rule, {**world, name: 987654})
            client = admin if rule.endpoint.startswith("auth.user") else officer
            response = client.get(url) if "GET" in rule.methods else client.post(url, data={})
            assert response.status_code == 404, (rule.endpoint, name, response.status_code)
            _assert_nothing_leaks(response, world)
            checked.add(rule.endpoint)
    # every case, task, document, referral, transfer and user URL was tried (not a loop that found nothing)
    assert {"cases.detail", "cases.download", "tasks.show", "cases.update_referral", "cases.transfer_decide",
            "auth.user_edit", "cases.access_log"} <= checked and len(checked) >= 20


def test_lists_and_search_never_show_another_office(login, world):
    for username in OTHER:
        client = login(username)
        for url in ("/tareas/", "/casos/", "/casos/buscar?q=hernandez", "/casos/buscar?q=0501198802231",
                    "/traslados/"):
            _assert_nothing_leaks(client.get(url), world)
    assert world["secrets"][0] in login("analista").get("/casos/").get_data(as_text=True)


def _assert_nothing_leaks(response, world):
    body = response.get_data(as_text=True)
    body = re.sub(r'<input type="hidden" name="csrf_token"[^>]*>', "", body)
    for secret in world["secrets"]:
        assert secret not in body, secret


def _fingerprint():
    db.session.expire_all()
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(model)) for model in
                 (Case, HumanTask, Referral, Attachment, CaseTransfer)) + (
        db.session.scalar(db.select(db.func.count()).select_from(db.metadata.tables["case_notes"])),
        tuple(db.session.execute(db.select(HumanTask.id, HumanTask.completed_at, HumanTask.assignee_id)).all()),
        tuple(db.session.execute(db.select(Case.id, Case.assigned_officer_id)).all()),
        db.session.scalar(db.select(db.func.count()).select_from(db.metadata.tables["task_drafts"])),
        tuple(db.session.execute(db.select(Referral.id, Referral.status)).all()),
        tuple(db.session.execute(db.select(CaseTransfer.id, CaseTransfer.status)).all()),
    )
