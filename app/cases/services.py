"""Case services: open a case with its number, record timeline events, follow the workflow's status."""
import json
import re
from datetime import date

from flask_babel import gettext as _

from ..core.errors import DomainError
from ..extensions import db
from ..reference.models import CaseCategory, Municipality, Office
from ..workflow import services as workflow
from ..workflow.models import HumanTask
from .models import STATUS_ORDER, Case, CaseCounter, CaseEvent, Person

DNI_DIGITS = re.compile(r"^\d{13}$")


def normalize_dni(value: str | None) -> str | None:
    """'0801-1990-12345' or '0801199012345' -> '0801199012345'; None when empty."""
    if not value:
        return None
    digits = re.sub(r"[\s-]", "", value)
    if not DNI_DIGITS.match(digits):
        raise DomainError(_("El DNI debe tener 13 dígitos (DDMM-AAAA-NNNNN)."), {"dni": _("DNI no válido.")})
    return digits


def next_case_number(office: Office, year: int) -> str:
    """Issue the next number of an office's year: CODE-YEAR-00001."""
    counter = db.session.get(CaseCounter, (office.id, year), with_for_update=True)
    if counter is None:
        counter = CaseCounter(office_id=office.id, year=year, last_number=0)
        db.session.add(counter)
    counter.last_number += 1
    db.session.flush()
    return f"{office.code}-{year}-{counter.last_number:05d}"


def find_or_create_person(data: dict) -> Person:
    """The person with this DNI if we know them, else a new person from the intake data."""
    dni = normalize_dni(data.get("dni"))
    if dni:
        existing = db.session.scalar(db.select(Person).where(Person.dni == dni))
        if existing is not None:
            return existing
    municipality = data.get("municipio_origen")
    if municipality and db.session.get(Municipality, municipality) is None:
        raise DomainError(_("El municipio de origen no existe."), {"municipio_origen": _("Municipio desconocido.")})
    person = Person(
        given_names=data["nombres"],
        first_surname=data["primer_apellido"],
        second_surname=data.get("segundo_apellido"),
        sex=data["sexo"],
        birth_date=date.fromisoformat(data["fecha_nacimiento"]) if data.get("fecha_nacimiento") else None,
        estimated_age=data.get("edad_estimada"),
        dni=dni,
        origin_municipality_code=municipality,
        phone=data.get("telefono"),
        current_country=data.get("pais_ubicacion"),
        current_city=data.get("ciudad_ubicacion"),
        vulnerability_json=json.dumps(data.get("vulnerabilidades") or []),
    )
    db.session.add(person)
    db.session.flush()
    return person


def open_case(office: Office, person: Person, data: dict, user, now) -> Case:
    if db.session.get(CaseCategory, data["categoria"]) is None:
        raise DomainError(_("La categoría del caso no existe."), {"categoria": _("Categoría desconocida.")})
    case = Case(
        number=next_case_number(office, now.year),
        office_id=office.id,
        person_id=person.id,
        category_code=data["categoria"],
        status="registrado",
        summary=data["relato"],
        event_country=data.get("pais_ubicacion"),
        event_city=data.get("ciudad_ubicacion"),
        opened_at=now,
        opened_by_id=user.id,
        assigned_officer_id=user.id,
        updated_at=now,
    )
    db.session.add(case)
    db.session.flush()
    return case


def record_event(case_id, kind, title, actor_id, now, details=None, instance_id=None, human_task_id=None):
    event = CaseEvent(case_id=case_id, kind=kind, title=title[:200], actor_id=actor_id, occurred_at=now,
                      details_json=json.dumps(details or [], ensure_ascii=False),
                      instance_id=instance_id, human_task_id=human_task_id)
    db.session.add(event)
    return event


def follow_workflow(instance, ready, completed):
    """Signal handler: the case status is the stage of its most advanced pending step."""
    if instance.case_id is None:
        return
    case = db.session.get(Case, instance.case_id)
    if completed:
        case.status = "cerrado"
        case.closed_at = case.closed_at or instance.updated_at
    else:
        stages = [t.info.case_status for t in ready if t.info.case_status in STATUS_ORDER]
        case.status = max(stages, key=STATUS_ORDER.index) if stages else "registrado"
    case.updated_at = instance.updated_at


def cases_in_scope(user):
    query = db.select(Case).order_by(Case.opened_at.desc(), Case.id.desc())
    if not user.is_central:
        query = query.where(Case.office_id == user.office_id)
    return query


def start_case(user, versions, process_key=None) -> HumanTask | None:
    """'Nuevo caso': start the chosen (or only) process in the user's office; returns its first task."""
    chosen = next((v for v in versions if v.process_key == process_key), None) if process_key else None
    if chosen is None:
        if process_key or len(versions) != 1:
            raise DomainError(_("Elija el proceso con el que se abrirá el caso."))
        chosen = versions[0]
    instance = workflow.start_instance(chosen, user.office_id, user.id)
    return db.session.scalar(
        db.select(HumanTask)
        .where(HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None))
        .order_by(HumanTask.id)
        .limit(1)
    )
