"""case_facts: one narrow row per case holding exactly what the statistics count, kept in step with the case file.

Why a separate table: every dashboard figure is an SQL aggregate; over a million cases those aggregates must read
narrow rows through indexes, not the wide, encrypted case and person rows. The row is derived, never edited:
`refresh(connection, case_ids)` recomputes it from cases, persons, vulnerability markers and assistances, and a
session hook calls it in the same transaction whenever any of those change, so the figures can never disagree
with the records. `rebuild(connection)` recomputes every row (migration backfill, `flask siproc stats rebuild`).

Dates are the office's local calendar day (a case opened at 20:00 in Tapachula on 31 October counts in October),
months are stored as yyyymm integers so grouping by month is portable SQL.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .models import CaseFact

# Age bands (years at opening): code → (label, lowest age, highest age or None).
AGE_BANDS = {0: ("0–5", 0, 5), 1: ("6–11", 6, 11), 2: ("12–17", 12, 17), 3: ("18–59", 18, 59), 4: ("60+", 60, None)}
UNACCOMPANIED_MARKER = "NNA_NO_ACOMP"
BATCH = 2000


def age_band(age: int | None) -> int | None:
    if age is None or age < 0:
        return None
    for code, (_label, low, high) in AGE_BANDS.items():
        if age >= low and (high is None or age <= high):
            return code
    return None


def month_of(day: date | None) -> int | None:
    return None if day is None else day.year * 100 + day.month


# Core views of the source tables: the refresh works on a bare connection (migrations, bulk seeding).
_cases = sa.table("cases", *(sa.column(c) for c in (
    "id", "office_id", "person_id", "category_code", "age_at_opening", "event_country", "opened_at", "closed_at")))
_persons = sa.table("persons", *(sa.column(c) for c in (
    "id", "sex", "origin_department_code", "origin_municipality_code")))
_markers = sa.table("person_vulnerabilities", sa.column("person_id"), sa.column("marker_code"))
_assistances = sa.table("assistances", sa.column("case_id"), sa.column("given_on"))
_offices = sa.table("offices", sa.column("id"), sa.column("timezone"))
_facts = CaseFact.__table__


def _local_day(value, zone: ZoneInfo) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):  # raw SQLite text on a bare connection
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(zone).date()
    return value


def _as_date(value) -> date | None:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def _zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "America/Tegucigalpa")  # ZoneInfo caches each zone by key


def fact_rows(connection, case_ids) -> list[dict]:
    """The case_facts rows of these cases, computed from the case file."""
    ids = list(case_ids)
    zones = {oid: _zone(tz) for oid, tz in connection.execute(
        sa.select(_offices.c.id, _offices.c.timezone)
        .where(_offices.c.id.in_(sa.select(_cases.c.office_id).where(_cases.c.id.in_(ids)))))}
    first_help = (sa.select(sa.func.min(_assistances.c.given_on)).where(_assistances.c.case_id == _cases.c.id)
                  .scalar_subquery())
    alone = sa.exists().where(_markers.c.person_id == _cases.c.person_id,
                              _markers.c.marker_code == UNACCOMPANIED_MARKER)
    query = (sa.select(_cases.c.id, _cases.c.office_id, _cases.c.category_code, _cases.c.age_at_opening,
                       _cases.c.event_country, _cases.c.opened_at, _cases.c.closed_at, _persons.c.sex,
                       _persons.c.origin_department_code, _persons.c.origin_municipality_code,
                       first_help.label("first_help"), alone.label("alone"))
             .join(_persons, _persons.c.id == _cases.c.person_id)
             .where(_cases.c.id.in_(ids)))
    rows = []
    for r in connection.execute(query):
        zone = zones.get(r.office_id) or _zone(None)
        opened = _local_day(r.opened_at, zone)
        closed = _local_day(r.closed_at, zone)
        helped = _as_date(r.first_help)
        band = age_band(r.age_at_opening)
        rows.append({
            "case_id": r.id, "office_id": r.office_id, "category_code": r.category_code, "sex": r.sex,
            "age_band": band, "child": band is not None and band <= 2,
            "unaccompanied": bool(r.alone) and band is not None and band <= 2,
            "department_code": r.origin_department_code, "municipality_code": r.origin_municipality_code,
            "event_country": r.event_country, "opened_on": opened, "opened_month": month_of(opened),
            "closed_on": closed, "closed_month": month_of(closed),
            "days_to_close": (closed - opened).days if closed else None,
            "first_assistance_on": helped,
            "days_to_first_assistance": max(0, (helped - opened).days) if helped else None,
        })
    return rows


def refresh(connection, case_ids) -> int:
    """Recompute the facts of these cases (rows of deleted cases disappear); returns rows written."""
    ids = sorted({int(i) for i in case_ids if i is not None})
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = fact_rows(connection, chunk)
        connection.execute(sa.delete(_facts).where(_facts.c.case_id.in_(chunk)))
        if rows:
            connection.execute(sa.insert(_facts), rows)
        written += len(rows)
    return written


def rebuild(connection) -> int:
    """Recompute every row, in batches of case ids (used by the migration and `flask siproc stats rebuild`)."""
    connection.execute(sa.delete(_facts))
    written, last = 0, 0
    while True:
        ids = list(connection.scalars(sa.select(_cases.c.id).where(_cases.c.id > last)
                                      .order_by(_cases.c.id).limit(BATCH)))
        if not ids:
            return written
        rows = fact_rows(connection, ids)
        if rows:
            connection.execute(sa.insert(_facts), rows)
        written += len(rows)
        last = ids[-1]


# ---------------------------------------------------------------- keeping the facts in step with the case file
_PENDING = "stats_pending_case_ids"


@event.listens_for(Session, "before_flush")
def _collect(session, _context, _instances):
    from ..cases.models import Assistance, Case, Person

    pending = session.info.setdefault(_PENDING, set())
    persons = []
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Case):
            pending.add(obj)  # a new case has no id yet: resolved after the flush
        elif isinstance(obj, Assistance):
            pending.add(obj.case_id)
        elif isinstance(obj, Person) and obj.id is not None:
            persons.append(obj.id)
    if persons:
        with session.no_autoflush:
            pending.update(session.scalars(sa.select(_cases.c.id).where(_cases.c.person_id.in_(persons))))


@event.listens_for(Session, "before_commit")
def _refresh(session):
    """Once per transaction, just before it commits: a task completion changes its case several times (risk,
    then status), and its facts are recomputed once, with the final values."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # collects the last changes; new cases get their ids
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    ids = {item if isinstance(item, int) else getattr(item, "id", None) for item in pending}
    refresh(session.connection(), ids)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- consistency check (flask siproc check)
def differences() -> list[str]:
    """Every case whose case_facts row is missing or differs from its recomputation (read-only)."""
    found: list[str] = []
    columns = [c.name for c in _facts.columns]
    connection = db.session.connection()
    last = 0
    while True:
        ids = list(connection.scalars(sa.select(_cases.c.id).where(_cases.c.id > last)
                                      .order_by(_cases.c.id).limit(BATCH)))
        if not ids:
            return found
        wanted = {row["case_id"]: row for row in fact_rows(connection, ids)}
        stored = {row.case_id: dict(row._mapping) for row in connection.execute(
            sa.select(_facts).where(_facts.c.case_id.in_(ids)))}
        for case_id in ids:
            have = stored.get(case_id)
            if have is None:
                found.append(f"[case_fact] caso {case_id}: falta su fila de estadísticas")
                continue
            changed = [c for c in columns if _plain(wanted[case_id].get(c)) != _plain(have.get(c))]
            if changed:
                found.append(f"[case_fact] caso {case_id}: difiere en {', '.join(changed)}")
        last = ids[-1]


def _plain(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return value[:10]  # a date read back as text on a bare SQLite connection
    return value.isoformat() if hasattr(value, "isoformat") else value
