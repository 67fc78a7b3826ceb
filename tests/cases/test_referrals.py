"""Referrals that close the loop: one lifecycle for every path, several institutions in parallel (a multi-instance
subprocess of the diagram), the institution's own link, reminders at the deadline, the letter, the statistics."""
import email
import re
from datetime import timedelta
from io import BytesIO

import pytest

from app.audit.models import AuditEvent
from app.cases import referrals
from app.cases.models import REFERRAL_STATUSES, Attachment, Case, CaseEvent, Referral, ReferralLink, ReferralMail
from app.core import clock
from app.core.errors import DomainError
from app.extensions import db
from app.notifications.models import Notification
from app.reference.models import Institution
from app.scheduler.sweep import run_sweep
from app.workflow.models import HumanTask
from tests.helpers import (
    EVALUACION_REMITIR,
    office_today,
    open_tasks,
    register_case,
    single_open_task,
    snapshot,
    submit,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def rows(*pairs):
    """The Remisión form's rows: (institution, service[, days]) -> remisiones-N-... fields."""
    data = {"fecha_envio": office_today().isoformat(), "consentimiento": "y"}
    for n, pair in enumerate(pairs):
        data[f"remisiones-{n}-institucion"], data[f"remisiones-{n}-servicio_solicitado"] = pair[0], pair[1]
        if len(pair) > 2:
            data[f"remisiones-{n}-plazo_dias"] = str(pair[2])
    return data


def refer(officer, *pairs):
    """Register a case and send its referrals through the Remisión task; returns the workflow instance."""
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    submit(officer, single_open_task(instance_id=instance.id), rows(*pairs))
    return instance


def referrals_of(instance):
    db.session.expire_all()
    case_id = db.session.get(HumanTask, open_tasks(instance_id=instance.id)[0].id).case_id if open_tasks(
        instance_id=instance.id) else None
    return db.session.scalars(db.select(Referral).where(Referral.case_id == case_id).order_by(Referral.id)).all()


def set_focal_points(**emails):
    for code, address in emails.items():
        institution = db.session.scalar(db.select(Institution).where(Institution.code == code))
        institution.focal_email, institution.focal_name = address, f"Punto focal {code}"
    db.session.commit()


def links_in(inbox):
    """(to, link token, attachment filenames, subject) of every message the SMTP server received."""
    found = []
    for envelope in inbox.messages:
        message = email.message_from_bytes(envelope.content)
        body = next(part.get_payload(decode=True).decode() for part in message.walk()
                    if part.get_content_type() == "text/plain")
        token = re.search(r"/remision/([A-Za-z0-9_-]+)", body).group(1)
        files = [part.get_filename() for part in message.walk() if part.get_filename()]
        found.append((envelope.rcpt_tos[0], token, files, str(message["Subject"]), body))
    return found


# -- 1. one lifecycle -----------------------------------------------------------------------------------------
STATUSES = list(REFERRAL_STATUSES)
ALLOWED = {("enviada", "aceptada"), ("enviada", "rechazada"), ("enviada", "revocada"), ("enviada", "sin_respuesta"),
           ("sin_respuesta", "aceptada"), ("sin_respuesta", "rechazada"), ("sin_respuesta", "revocada"),
           ("aceptada", "en_atencion"), ("aceptada", "atendida"), ("aceptada", "revocada"),
           ("en_atencion", "atendida"), ("en_atencion", "revocada")}


@pytest.mark.parametrize("before", STATUSES)
@pytest.mark.parametrize("after", STATUSES)
def test_every_pair_of_states_is_allowed_or_refused_with_nothing_changed(app, users, before, after):
    from tests.helpers import build_case, utc

    case = build_case("L-1", users["oficial.tap"].office, "RET", "F", 30, utc(2026, 11, 1))
    case.consent_to_share = True
    referral = Referral(case_id=case.id, institution_code="INM-MX", service_requested="Retorno asistido",
                        sent_at=office_today(), status=before, created_at=clock.now())
    db.session.add(referral)
    db.session.commit()
    channel = "sistema" if after == "sin_respuesta" else "caso"
    events = snapshot(CaseEvent)
    try:
        referrals.move(referral, after, channel=channel, now=clock.now(), user=users["oficial.tap"],
                       text="Motivo o resultado de prueba")
        db.session.commit()
        moved = True
    except DomainError as exc:
        db.session.rollback()
        moved = False
        assert "no puede pasar" in exc.message
    assert moved == ((before, after) in ALLOWED)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == (after if moved else before)
    if not moved:
        assert snapshot(CaseEvent) == events


def test_a_person_cannot_mark_a_referral_without_answer_only_the_deadline_does(app, users):
    from tests.helpers import build_case, utc

    case = build_case("L-2", users["oficial.tap"].office, "RET", "F", 30, utc(2026, 11, 1))
    referral = Referral(case_id=case.id, institution_code="OIM", service_requested="Albergue",
                        sent_at=office_today(), status="enviada", created_at=clock.now())
    db.session.add(referral)
    db.session.commit()
    with pytest.raises(DomainError, match="Solo el sistema"):
        referrals.move(referral, "sin_respuesta", channel="caso", now=clock.now(), user=users["oficial.tap"])


@pytest.mark.parametrize("status,message", [("rechazada", "motivo del rechazo"),
                                            ("revocada", "motivo de la revocación")])
def test_rejection_and_revocation_need_a_reason_on_the_case_page(app, login, status, message):
    officer = login("oficial.tap")
    instance = refer(officer, ("INM-MX", "Retorno asistido"))
    referral = referrals_of(instance)[0]
    before = snapshot(Referral)
    page = officer.post(f"/casos/{referral.case_id}/remisiones/{referral.id}", data={"estado": status, "texto": " "},
                        follow_redirects=True).get_data(as_text=True)
    assert message in page and "No se guardó nada" in page
    assert snapshot(Referral) == before


def test_an_outcome_on_a_referral_that_was_not_accepted_is_refused(app, login):
    officer = login("oficial.tap")
    instance = refer(officer, ("INM-MX", "Retorno asistido"))
    referral = referrals_of(instance)[0]
    before = snapshot(Referral)
    response = officer.post(f"/casos/{referral.case_id}/remisiones/{referral.id}",
                            data={"estado": "atendida", "texto": "Atendida"}, follow_redirects=True)
    assert "Una remisión enviada no puede pasar a «atendida»" in response.get_data(as_text=True)
    assert snapshot(Referral) == before


def test_a_revoked_referral_ends_its_open_task_and_never_comes_back_as_accepted(app, login):
    """The first release's bug: revoke on the case page, then complete the still-open answer task with aceptada."""
    officer = login("oficial.tap")
    instance = refer(officer, ("INM-MX", "Retorno asistido"))
    referral = referrals_of(instance)[0]
    answer_task = single_open_task(instance_id=instance.id)
    assert answer_task.task_spec == "Task_respuesta"
    officer.post(f"/casos/{referral.case_id}/remisiones/{referral.id}",
                 data={"estado": "revocada", "texto": "La persona ya retornó"})
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "revocada"
    assert db.session.get(HumanTask, answer_task.id).completed_at is not None  # the task ended with it
    response = officer.post(f"/tareas/{answer_task.id}", data={"respuesta": "aceptada",
                                                               "fecha_respuesta": "2026-11-21"}, follow_redirects=True)
    assert "ya fue completada" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "revocada"
    # a revoked referral leads the diagram to ask whether to refer elsewhere
    assert single_open_task(instance_id=instance.id).task_spec == "Task_otra_remision"


# -- 2. several referrals in parallel -------------------------------------------------------------------------
def test_several_institutions_at_once_each_with_its_own_task_deadline_letter_and_answer(app, login):
    officer = login("oficial.tap")
    instance = refer(officer, ("INM-MX", "Retorno asistido"), ("OIM", "Albergue temporal", 3))
    sent = referrals_of(instance)
    assert [(r.institution_code, r.status) for r in sent] == [("INM-MX", "enviada"), ("OIM", "enviada")]
    days = [(clock.as_utc(r.deadline_at) - clock.now()).days for r in sent]
    assert days == [4, 2]  # the default 5 days and the 3 days asked for (minus the seconds the test took)
    tasks = open_tasks(instance_id=instance.id)
    assert sorted(t.title for t in tasks) == ["Respuesta de la institución · INM México",
                                              "Respuesta de la institución · OIM"]
    assert {clock.as_utc(t.due_at) for t in tasks} == {clock.as_utc(r.deadline_at) for r in sent}
    letters = [db.session.get(Attachment, r.letter_attachment_id) for r in sent]
    assert all(a.content_type == "application/pdf" and a.filename.startswith("oficio-") for a in letters)
    # the officer records one answer; the other referral keeps waiting on its own
    oim_task = next(t for t in tasks if t.title.endswith("OIM"))
    submit(officer, oim_task, {"respuesta": "aceptada", "fecha_respuesta": office_today().isoformat(),
                               "resultado": "Cupo por 15 días"})
    db.session.expire_all()
    assert [(r.institution_code, r.status, r.answered_via) for r in referrals_of(instance)] == [
        ("INM-MX", "enviada", None), ("OIM", "aceptada", "tarea")]
    assert [t.title for t in open_tasks(instance_id=instance.id)] == ["Respuesta de la institución · INM México"]
    inm_task = open_tasks(instance_id=instance.id)[0]
    submit(officer, inm_task, {"respuesta": "aceptada", "fecha_respuesta": office_today().isoformat()})
    assert single_open_task(instance_id=instance.id).task_spec == "Task_atencion"  # all answered: the case moves on


def test_the_same_institution_twice_in_one_referral_is_refused_and_nothing_is_saved(app, login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    task = single_open_task(instance_id=instance.id)
    before = snapshot(Referral)
    response = submit(officer, task, rows(("OIM", "Albergue temporal"), ("OIM", "Otra cosa más")), expect=422)
    assert "Cada institución aparece una sola vez" in response.get_data(as_text=True)
    assert snapshot(Referral) == before


def test_consent_recorded_on_the_case_is_not_asked_again(app, login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    task = single_open_task(instance_id=instance.id)
    case = db.session.get(Case, task.case_id)
    case.consent_to_share = True
    db.session.commit()
    page = officer.get(f"/tareas/{task.id}").get_data(as_text=True)
    assert 'name="consentimiento"' not in page
    assert "para compartir sus datos con las instituciones consta en el caso" in page


# -- 3. the institution answers through its own link ----------------------------------------------------------
def test_institutions_answer_through_their_links_officer_is_told_and_the_case_continues(app, login, smtp_server,
                                                                                          users):
    """Issue 16, point 9: two referrals answered by their links (one rejects, one accepts and later reports the
    outcome), a third gets no answer: reminder at the deadline, then escalation; the statistics show the three."""
    set_focal_points(**{"INM-MX": "focal@inm.example", "OIM": "focal@oim.example", "ACNUR": "focal@acnur.example"})
    officer = login("oficial.tap")
    instance = refer(officer, ("INM-MX", "Retorno asistido"), ("OIM", "Albergue temporal", 3),
                     ("ACNUR", "Evaluación de protección internacional", 2))
    inm, oim, acnur = referrals_of(instance)
    run_sweep()
    sent = {to: (token, files, subject, body) for to, token, files, subject, body in links_in(smtp_server)}
    assert set(sent) == {"focal@inm.example", "focal@oim.example", "focal@acnur.example"}
    assert all(files == [f"oficio-{inm.case.number}-R{r.id}.pdf"] for r, (_t, files, _s, _b) in
               zip((inm, oim, acnur), (sent["focal@inm.example"], sent["focal@oim.example"],
                                       sent["focal@acnur.example"]), strict=True))
    assert "José Ángel" not in "".join(body for _t, _f, _s, body in sent.values())  # the body names no one
    assert db.session.scalar(db.select(db.func.count()).select_from(ReferralMail).where(
        ReferralMail.token.is_not(None))) == 0  # tokens erased once sent
    assert officer.get(f"/casos/{inm.case_id}").get_data(as_text=True).count("Correo al punto focal: enviado") == 3

    institution = app.test_client()
    inm_link = f"/remision/{sent['focal@inm.example'][0]}"
    page = institution.get(inm_link)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    html = page.get_data(as_text=True)
    assert "Retorno asistido" in html and "Albergue temporal" not in html  # only its own referral
    assert "Retenido en estación migratoria" not in html  # the case's facts never reach the institution
    # rejection without a reason: 422, nothing saved
    before = snapshot(Referral)
    refused = institution.post(inm_link, data={"accion": "rechazar", "nombre": "Lic. Pérez", "texto": ""})
    assert refused.status_code == 422 and "motivo del rechazo" in refused.get_data(as_text=True)
    assert snapshot(Referral) == before
    assert institution.post(inm_link, data={"accion": "rechazar", "nombre": "Lic. Pérez",
                                            "texto": "No atendemos casos de ese estado"}).status_code == 200
    oim_link = f"/remision/{sent['focal@oim.example'][0]}"
    assert institution.post(oim_link, data={"accion": "aceptar", "nombre": "María Soto",
                                            "texto": "Cupo por 15 días"}).status_code == 200
    db.session.expire_all()
    assert (db.session.get(Referral, inm.id).status, db.session.get(Referral, inm.id).answered_via) == \
        ("rechazada", "enlace")
    assert db.session.get(Referral, oim.id).answered_by == "María Soto"
    # the officer is told in the app (and by e-mail) and the timeline says who answered and how
    notices = db.session.scalars(db.select(Notification).where(
        Notification.user_id == users["oficial.tap"].id, Notification.kind == "remision")).all()
    assert {n.title.split(" respondió")[0] for n in notices} == {"INM México", "OIM"}
    timeline = officer.get(f"/casos/{inm.case_id}").get_data(as_text=True)
    assert "María Soto, de OIM" in timeline and "por el enlace de la institución" in timeline
    # the used link of a rejected referral is spent
    spent = institution.get(inm_link)
    assert spent.status_code == 410 and "ya se utilizó" in spent.get_data(as_text=True)
    # OIM reports the outcome later, with a document
    outcome = institution.post(oim_link, data={"accion": "resultado", "nombre": "María Soto",
                                               "texto": "Alojada 15 días y retornada",
                                               "documento": (BytesIO(PDF), "informe.pdf")},
                               content_type="multipart/form-data")
    assert outcome.status_code == 200
    db.session.expire_all()
    assert db.session.get(Referral, oim.id).status == "atendida"
    document = db.session.scalar(db.select(Attachment).where(Attachment.case_id == oim.case_id,
                                                              Attachment.filename == "informe.pdf"))
    assert document is not None and document.uploaded_by_id is None

    # ACNUR never answers: a reminder at its deadline (2 days), the overdue task tells the officer, then the supervisors
    assert [t.title for t in open_tasks(instance_id=instance.id)] == ["Respuesta de la institución · ACNUR"]
    clock.travel(timedelta(days=2, hours=1))
    try:
        run_sweep()
        db.session.expire_all()
        assert db.session.get(Referral, acnur.id).status == "sin_respuesta"
        reminders = [m for m in links_in(smtp_server) if m[3].startswith("[SIPROC] Recordatorio")]
        assert [m[0] for m in reminders] == ["focal@acnur.example"]
        overdue = db.session.scalars(db.select(Notification).where(Notification.kind == "vencida")).all()
        assert [n.user_id for n in overdue] == [users["oficial.tap"].id]
        assert "Vencida" in login("oficial.tap").get(f"/casos/{acnur.case_id}").get_data(as_text=True)
        clock.travel(timedelta(days=app.config["ESCALATION_DAYS"]))
        run_sweep()
        escalated = db.session.scalars(db.select(Notification).where(Notification.kind == "escalamiento")).all()
        assert {n.user_id for n in escalated} == {users["consul.tap"].id}
        # the late answer still counts (through the reminder's link) and the diagram moves on
        late = institution.post(f"/remision/{reminders[0][1]}", data={"accion": "aceptar", "nombre": "A. Ruiz"})
        assert late.status_code == 200
    finally:
        clock.reset()
    assert single_open_task(instance_id=instance.id).task_spec == "Task_otra_remision"  # INM rejected
    # the statistics show the three
    stats = login("analista").get("/estadisticas/").get_data(as_text=True)
    assert "Tiempos de respuesta de las remisiones" in stats
    for name in ("INM México", "OIM", "ACNUR"):
        assert name in stats


# -- 8. the link opens one referral and nothing else ----------------------------------------------------------
@pytest.fixture
def linked(app, login):
    """A case with two referrals and a live link to each: (officer client, [(referral, token)])."""
    officer = login("oficial.tap")
    instance = refer(officer, ("INM-MX", "Retorno asistido"), ("OIM", "Albergue temporal"))
    pairs = []
    for referral in referrals_of(instance):
        pairs.append((referral, referrals.issue_link(referral, clock.now())))
    db.session.commit()
    return officer, pairs


def audited(action):
    return db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.mark.parametrize("case", ["guessed", "tampered", "overlong", "empty-ish"])
def test_guessed_and_tampered_tokens_are_refused_and_audited(app, linked, case):
    _officer, [(referral, token), _other] = linked
    bad = {"guessed": "A" * 43, "tampered": token[:-1] + ("A" if token[-1] != "A" else "B"), "overlong": token * 4,
           "empty-ish": "-"}[case]
    client = app.test_client()
    before = snapshot(Referral)
    refused = audited("referral_link_refused")
    for method in ("get", "post"):
        response = getattr(client, method)(f"/remision/{bad}", data={"accion": "aceptar", "nombre": "X"})
        assert response.status_code == 404
        assert "El enlace no es válido" in response.get_data(as_text=True)
    assert snapshot(Referral) == before
    assert audited("referral_link_refused") == refused + 2


def test_a_token_answers_its_own_referral_only(app, linked):
    _officer, [(inm, inm_token), (oim, _oim_token)] = linked
    client = app.test_client()
    assert client.post(f"/remision/{inm_token}", data={"accion": "aceptar", "nombre": "Lic. Pérez",
                                                       "referral_id": oim.id}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Referral, inm.id).status == "aceptada"
    assert db.session.get(Referral, oim.id).status == "enviada"


def test_expired_and_revoked_links_are_refused_with_their_reason(app, linked):
    officer, [(inm, inm_token), (oim, oim_token)] = linked
    client = app.test_client()
    clock.travel(timedelta(days=app.config["REFERRAL_LINK_DAYS"], minutes=1))
    try:
        expired = client.get(f"/remision/{inm_token}")
        assert expired.status_code == 410 and "venció" in expired.get_data(as_text=True)
    finally:
        clock.reset()
    set_focal_points(OIM="focal@oim.example")
    officer.post(f"/casos/{oim.case_id}/remisiones/{oim.id}/enlace")
    revoked = client.post(f"/remision/{oim_token}", data={"accion": "aceptar", "nombre": "X"})
    assert revoked.status_code == 410 and "anulado" in revoked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, oim.id).status == "enviada"
    assert db.session.scalar(db.select(db.func.count()).select_from(ReferralLink).where(
        ReferralLink.referral_id == oim.id, ReferralLink.revoked_at.is_(None))) == 1  # the new one


def test_a_revoked_referral_closes_its_links(app, linked):
    officer, [(inm, inm_token), _other] = linked
    officer.post(f"/casos/{inm.case_id}/remisiones/{inm.id}", data={"estado": "revocada", "texto": "Ya no aplica"})
    response = app.test_client().get(f"/remision/{inm_token}")
    assert response.status_code == 410


@pytest.mark.parametrize("upload,message", [
    ((BytesIO(b"MZ\x90\x00 not a pdf"), "informe.pdf"), "no corresponde a su extensión"),
    ((BytesIO(b"<html></html>"), "informe.html"), "Tipo de archivo no permitido"),
    ("big", "supera el límite"),
])
def test_bad_documents_are_refused_and_nothing_is_saved(app, linked, upload, message):
    _officer, [(inm, token), _other] = linked
    client = app.test_client()
    client.post(f"/remision/{token}", data={"accion": "aceptar", "nombre": "Lic. Pérez"})
    app.config["MAX_ATTACHMENT_BYTES"] = 1024
    if upload == "big":
        upload = (BytesIO(PDF + b"0" * 2048), "informe.pdf")
    before = (snapshot(Referral), snapshot(Attachment))
    response = client.post(f"/remision/{token}", data={"accion": "resultado", "nombre": "Lic. Pérez",
                                                       "texto": "Atendida", "documento": upload},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert (snapshot(Referral), snapshot(Attachment)) == before


def test_an_outcome_through_the_link_before_accepting_is_refused(app, linked):
    _officer, [(inm, token), _other] = linked
    before = snapshot(Referral)
    response = app.test_client().post(f"/remision/{token}", data={"accion": "resultado", "nombre": "Lic. Pérez",
                                                                 "texto": "Atendida"})
    assert response.status_code == 409 and "no puede pasar" in response.get_data(as_text=True)
    assert snapshot(Referral) == before


def test_link_requests_are_rate_limited_by_address_and_others_keep_being_served(app, linked):
    _officer, [(inm, token), _other] = linked
    app.config.update(REFERRAL_LINK_MAX_REFUSED=5)
    attacker = app.test_client()
    codes = [attacker.get(f"/remision/guess{n:040d}", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code
             for n in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]
    assert attacker.get(f"/remision/{token}", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 429
    assert app.test_client().get(f"/remision/{token}", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200
    assert audited("referral_link_throttled") == 3


def test_the_institution_page_respects_consent(app, linked):
    _officer, [(inm, token), _other] = linked
    case = db.session.get(Case, inm.case_id)
    html = app.test_client().get(f"/remision/{token}").get_data(as_text=True)
    assert "0501-1988-02231" in html  # with consent: the document the institution needs
    case.consent_to_share = False
    case.consent_override_at, case.consent_override_reason = clock.now(), "Riesgo inminente para la persona"
    db.session.commit()
    html = app.test_client().get(f"/remision/{token}").get_data(as_text=True)
    assert "0501-1988-02231" not in html and "Riesgo inminente" not in html
    assert "sin consentimiento" in html and "José Ángel" in html


def test_a_referral_of_another_case_is_not_found_through_this_case(app, login):
    officer = login("oficial.tap")
    first = referrals_of(refer(officer, ("INM-MX", "Retorno asistido")))[0]
    second = referrals_of(refer(officer, ("OIM", "Albergue temporal")))[0]
    before = snapshot(Referral)
    for path in ("", "/enlace"):
        response = officer.post(f"/casos/{first.case_id}/remisiones/{second.id}{path}",
                                data={"estado": "revocada", "texto": "Por error"})
        assert response.status_code == 404
    assert snapshot(Referral) == before
