"""Fast bulk seeding of a throwaway SIPROC database for benchmarks (and tests that need many rows).

A database is built once like the test template (migrations, reference data, deployed diagrams), then
offices get staff and cases get persons, workflow instances and open inbox tasks through SQLAlchemy Core
executemany in batches: no ORM units of work, no workflow engine. Encrypted columns receive real
ciphertext from app.core.crypto (one shared placeholder where nobody reads the value), DNI search hashes
come from crypto.search_hash, and open tasks copy the task spec, title, lane, role, form and deadline of
the deployed process's user tasks, so every page that reads these rows renders them as it would real ones.
"""
import random
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from app.auth.models import User
from app.auth.passwords import hash_password
from app.auth.roles import role_for_lane
from app.cases.models import STATUS_ORDER, Case, CaseCounter, Person
from app.cases.services import PRIORITY_BY_RISK
from app.core import clock, crypto
from app.core.text import normalize
from app.extensions import db
from app.reference.models import Municipality, Office
from app.workflow.engine import SERIALIZER_VERSION, get_engine, parse_duration
from app.workflow.models import HumanTask, ProcessVersion, WorkflowInstance

# A password that meets the policy for every generated username and name (checked when users are made).
PASSWORD = "cronometro-de-bandeja-2026"
MAIN_PROCESS = "proteccion_consular"
BATCH = 5000

GIVEN_NAMES_F = ["María José", "Ana Lucía", "Karla Yamileth", "Delmy Suyapa", "Glenda Marisol", "Sonia Elizabeth",
                 "Dilcia Maribel", "Keila Johana", "Nohemy Alejandra", "Rosa Amalia", "Wendy Carolina", "Iris"]
GIVEN_NAMES_M = ["José Ángel", "Carlos Roberto", "Wilmer Antonio", "Luis Fernando", "Marvin Josué", "Óscar René",
                 "Elvin Omar", "Kevin Alexander", "Juan Carlos", "Denis Adonay", "Edwin Rolando", "Selvin"]
SURNAMES = ["Hernández", "López", "Martínez", "Rodríguez", "García", "Flores", "Mejía", "Reyes", "Zelaya",
            "Castro", "Sánchez", "Rivera", "Núñez", "Ordóñez", "Paz", "Cruz", "Maradiaga", "Bonilla", "Aguilar",
            "Euceda", "Murillo", "Padilla", "Andino", "Velásquez", "Mendoza", "Cáceres", "Lagos", "Funez"]
# Share of cases per category (the protection caseload is mostly detention and returns).
CATEGORY_WEIGHTS = {"DET": 22, "RET": 20, "SAL": 8, "VDL": 5, "LAB": 7, "DOC": 12, "REF": 4, "FAM": 6,
                    "HUM": 2, "RIN": 2, "NNA": 5, "REP": 4, "BUS": 3}
RISKS = (("bajo", 30), ("medio", 40), ("alto", 20), ("critico", 10))
# The user tasks of the generic path, with how often an open case waits on each.
GENERIC_STEPS = {"Task_evaluacion": 14, "Task_remision": 10, "Task_respuesta": 18, "Task_atencion": 16,
                 "Task_seguimiento": 22, "Task_propuesta": 6, "Task_aprobacion": 6}
CATEGORY_PREFIX = {"DET": "Task_privacion_", "REP": "Task_repatriacion_", "BUS": "Task_busqueda_",
                   "NNA": "Task_nna_"}
CATEGORY_STEP_WEIGHT = 12  # each step of the case's category subprocess, when there is one
TASKS_PER_OPEN_CASE = ((1, 70), (2, 20), (3, 10))
ASSIGNED_SHARE = 0.40
DEFAULT_OFFICES = ("TAP", "HOU", "MIA", "NYC", "LAX", "MEX", "VSA", "ATL", "CHI", "DAL", "CLT", "GUA", "TIJ",
                   "MFE", "MAD")


@dataclass
class Shape:
    """How big and how spread the seeded population is."""

    cases: int
    offices: tuple[str, ...] = DEFAULT_OFFICES
    officers_per_office: int = 9
    open_share: float = 0.30
    years: int = 3
    seed: int = 20261129


@dataclass
class Staff:
    """One office with the ids of its officers and its supervisor."""

    office_id: int
    code: str
    officers: list[int]
    supervisor: int
    weight: float = 1.0


@dataclass
class Population:
    """What was seeded: row counts, the staff, and the users and task a benchmark measures."""

    counts: dict[str, int] = field(default_factory=dict)
    staff: list[Staff] = field(default_factory=list)
    central_user_id: int | None = None
    usernames: dict[int, str] = field(default_factory=dict)


def bench_app(folder: Path, name: str = "bench.db", encryption_key: str | None = None):
    """A throwaway application on its own SQLite file and instance folder (nothing of instance/ is read)."""
    from app import create_app

    folder.mkdir(parents=True, exist_ok=True)
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "bench-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / name}",
        "INSTANCE_PATH": str(folder),
        "SERVER_NAME": "siproc.bench",
        "ENCRYPTION_KEYS": [encryption_key or crypto.generate_key()],
        "SCHEDULER_ENABLED": False,
    })


def prepare_schema(app) -> None:
    """Migrations, reference data and the deployed diagrams, as `make db` and the test template do."""
    from flask_migrate import upgrade

    from app.modeler.services import deploy_from_files
    from app.reference.services import load_reference

    with app.app_context():
        upgrade()
        load_reference(app.config["REFERENCE_DIR"])
        deploy_from_files(app.config["BPMN_DIR"], app.config["FORMS_DIR"])
        db.session.commit()
        db.engine.dispose()


def copy_database(source: Path, target: Path) -> None:
    """Copy a closed SQLite database file (the template) to a new one."""
    shutil.copyfile(source, target)


def raw_table(model) -> sa.TableClause:
    """The model's table for bulk inserts, with encrypted columns as plain text: they get ciphertext made
    beforehand (app.core.crypto.encrypt), not encrypted once more row by row by EncryptedText."""
    columns = [sa.column(c.name, sa.Text() if isinstance(c.type, crypto.EncryptedText) else c.type)
               for c in model.__table__.columns]
    return sa.table(model.__tablename__, *columns)


def insert_rows(model, rows: list[dict], batch: int = BATCH) -> None:
    """executemany INSERTs in batches (every row has the same keys) inside the current transaction."""
    table = raw_table(model)
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        if chunk:
            db.session.execute(sa.insert(table), chunk)


def next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


class Seeder:
    """Builds rows with explicit ids (no RETURNING round trips) and inserts them in batches."""

    def __init__(self, rng: random.Random, now: datetime | None = None):
        self.rng = rng
        self.now = now or clock.now()
        self.version = db.session.scalar(
            sa.select(ProcessVersion).where(ProcessVersion.process_key == MAIN_PROCESS)
            .order_by(ProcessVersion.version.desc()).limit(1))
        self.user_tasks = {info.bpmn_id: info for info in
                           get_engine().user_tasks(self.version.cache_key, self.version.spec_json)}
        self.municipalities = [(m.code, m.department_code) for m in db.session.scalars(sa.select(Municipality))]
        self.placeholder = crypto.encrypt("(dato de prueba del banco de mediciones)")
        self.state_placeholder = crypto.encrypt("{}")
        self.ids = {model: next_id(model) for model in (Person, Case, WorkflowInstance, HumanTask)}
        self.counters: dict[tuple[int, int], int] = {}
        self.pending: dict[type, list[dict]] = {Person: [], Case: [], WorkflowInstance: [], HumanTask: []}
        self.office_country = dict(db.session.execute(sa.select(Office.id, Office.country)).all())

    def _take_id(self, model) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    # -- rows --------------------------------------------------------------------------------------
    def person(self, when: datetime, office_id: int, with_dni: bool = True) -> int:
        rng = self.rng
        sex = rng.choice("FM")
        given = rng.choice(GIVEN_NAMES_F if sex == "F" else GIVEN_NAMES_M)
        first, second = rng.choice(SURNAMES), rng.choice(SURNAMES + [None])
        municipality, department = rng.choice(self.municipalities)
        born = date(rng.randint(1960, 2008), rng.randint(1, 12), rng.randint(1, 28))
        person_id = self._take_id(Person)
        # municipality, year of registration, serial: unique while ids stay below 100,000
        dni = f"{municipality}{born.year}{person_id:05d}" if with_dni and person_id < 100_000 else None
        full_name = " ".join(p for p in (given, first, second) if p)
        self.pending[Person].append({
            "id": person_id, "given_names": given, "first_surname": first, "second_surname": second, "sex": sex,
            "gender_identity": None, "birth_date": born, "birth_date_estimated": False, "estimated_age": None,
            "nationality": "HN", "dni": crypto.encrypt(dni) if dni else None, "dni_hash": crypto.search_hash(dni),
            "passport_number": None, "passport_hash": None, "origin_department_code": department,
            "origin_municipality_code": municipality, "current_country": self.office_country.get(office_id),
            "current_city": None, "address_abroad": None, "family_contact_name": None,
            "family_contact_relationship": None, "family_contact_phone": None,
            "search_text": normalize(full_name), "first_surname_key": normalize(first),
            "second_surname_key": normalize(second), "created_at": when, "updated_at": when, "anonymised_at": None,
        })
        return person_id

    def _number(self, office: Staff, year: int) -> str:
        key = (office.office_id, year)
        self.counters[key] = self.counters.get(key) or self._stored_counter(key)
        self.counters[key] += 1
        return f"{office.code}-{year}-{self.counters[key]:05d}"

    @staticmethod
    def _stored_counter(key) -> int:
        return db.session.scalar(sa.select(CaseCounter.last_number).where(
            CaseCounter.office_id == key[0], CaseCounter.year == key[1])) or 0

    def case(self, office: Staff, person_id: int, opened_at: datetime, closed_at: datetime | None,
             category: str | None = None, specs: list[str] | None = None, officer: int | None = None,
             assigned: bool | None = None) -> tuple[int, int, list[str]]:
        """A case, its instance and (when open) its open tasks; returns (case id, instance id, task specs).
        `officer` is the case's officer (default: one of the office's), `assigned` whether its open tasks
        are assigned (default: ~40% of them)."""
        rng = self.rng
        category = category or _weighted(rng, CATEGORY_WEIGHTS.items())
        officer = officer or rng.choice(office.officers)
        if closed_at is None:
            specs = specs or self._open_steps(category)
            status = max((self.user_tasks[s].case_status for s in specs), key=STATUS_ORDER.index)
            risk = None if specs == ["Task_evaluacion"] else _weighted(rng, RISKS)
        else:
            specs, status, risk = [], "cerrado", _weighted(rng, RISKS)
        case_id = self._take_id(Case)
        self.pending[Case].append({
            "id": case_id, "number": self._number(office, opened_at.year), "office_id": office.office_id,
            "person_id": person_id, "category_code": category, "legal_area_code": None, "status": status,
            "risk_level": risk, "summary": self.placeholder, "needs_json": "[]",
            "event_country": self.office_country.get(office.office_id), "event_state": None, "event_city": None,
            "consent_to_share": rng.random() < 0.6, "consent_given_by": None, "consent_given_at": None,
            "consent_scope": None, "consent_override_by_id": None, "consent_override_at": None,
            "consent_override_reason": None,
            "age_at_opening": rng.randint(0, 17) if category == "NNA" else rng.randint(16, 75), "opened_at": opened_at,
            "opened_by_id": officer, "assigned_officer_id": officer,
            "closure_reason": "resuelto" if closed_at else None,
            "closure_summary": self.placeholder if closed_at else None, "closed_at": closed_at,
            "updated_at": closed_at or opened_at, "anonymised_at": None,
        })
        instance_id = self.instance(office, case_id, officer, opened_at, closed_at)
        for spec in specs:
            self.task(office, instance_id, case_id, spec, category, PRIORITY_BY_RISK.get(risk, 0), opened_at,
                      case_officer=officer, assigned=assigned)
        return case_id, instance_id, specs

    def instance(self, office: Staff, case_id: int | None, started_by: int, created_at: datetime,
                 completed_at: datetime | None, state: str | None = None) -> int:
        instance_id = self._take_id(WorkflowInstance)
        self.pending[WorkflowInstance].append({
            "id": instance_id, "process_version_id": self.version.id, "case_id": case_id,
            "office_id": office.office_id, "started_by_id": started_by,
            "status": "completed" if completed_at else "running", "state_json": state or self.state_placeholder,
            "serializer_version": SERIALIZER_VERSION, "lock_version": 0, "created_at": created_at,
            "updated_at": completed_at or created_at, "completed_at": completed_at, "error_message": None,
        })
        return instance_id

    def task(self, office: Staff, instance_id: int, case_id: int | None, spec: str, category: str | None,
             priority: int, opened_at: datetime, case_officer: int | None = None, assignee: int | None = None,
             assigned: bool | None = None, created_at: datetime | None = None) -> int:
        """One open human task; ~40% assigned (to the case's officer, or the supervisor for their lane)."""
        rng = self.rng
        info = self.user_tasks[spec]
        role = role_for_lane(info.lane)
        if created_at is None:  # most steps are recent: a few days old, some weeks
            created_at = max(opened_at, self.now - timedelta(hours=rng.expovariate(1 / 96)))
        if assigned is None:
            assigned = rng.random() < ASSIGNED_SHARE
        if assigned and assignee is None:
            assignee = office.supervisor if role == "supervisor" else (case_officer or rng.choice(office.officers))
        task_id = self._take_id(HumanTask)
        self.pending[HumanTask].append({
            "id": task_id, "instance_id": instance_id, "case_id": case_id, "task_id": str(uuid.UUID(
                int=rng.getrandbits(128), version=4)), "task_spec": spec, "title": info.name[:200],
            "lane": info.lane, "role": role, "office_id": office.office_id, "form_file": info.form,
            "category_code": category, "priority": priority, "assignee_id": assignee if assigned else None,
            "claimed_at": created_at + timedelta(minutes=30) if assigned else None, "created_at": created_at,
            "due_at": self._due(info.deadline, created_at, opened_at), "completed_at": None,
            "completed_by_id": None, "outcome": None,
        })
        return task_id

    @staticmethod
    def _due(deadline: str | None, created_at: datetime, opened_at: datetime) -> datetime | None:
        deadline = (deadline or "").strip()
        if not deadline:
            return None
        if deadline.upper().startswith("P"):
            return created_at + parse_duration(deadline)
        return opened_at + timedelta(hours=24)  # the NNA referrals: sumar_horas(registrado_en, 24)

    def _open_steps(self, category: str) -> list[str]:
        """1-3 distinct steps an open case waits on: generic ones and its category subprocess's."""
        prefix = CATEGORY_PREFIX.get(category)
        pool = dict(GENERIC_STEPS)
        if prefix:
            pool.update({spec: CATEGORY_STEP_WEIGHT for spec in self.user_tasks if spec.startswith(prefix)})
        wanted = min(_weighted(self.rng, TASKS_PER_OPEN_CASE), len(pool))
        specs: list[str] = []
        while len(specs) < wanted:
            spec = _weighted(self.rng, [(s, w) for s, w in pool.items() if s not in specs])
            specs.append(spec)
        return specs

    # -- writing -----------------------------------------------------------------------------------
    def flush(self) -> None:
        """Insert what is pending, parents first (foreign keys are on)."""
        for model in (Person, Case, WorkflowInstance, HumanTask):
            insert_rows(model, self.pending[model])
            self.pending[model] = []

    def save_counters(self) -> None:
        """case_counters follow the numbers issued, so cases created later continue the sequence."""
        for (office_id, year), last in self.counters.items():
            db.session.execute(sa.delete(CaseCounter).where(CaseCounter.office_id == office_id,
                                                            CaseCounter.year == year))
            db.session.execute(sa.insert(CaseCounter).values(office_id=office_id, year=year, last_number=last))


def create_staff(shape: Shape, password_hash: str) -> Population:
    """Officers and a supervisor per office, and one central analyst; users are inserted in one batch."""
    from app.auth.password_policy import check_password

    offices = {o.code: o for o in db.session.scalars(sa.select(Office))}
    central = next(o for o in offices.values() if o.is_central)
    population = Population()
    rows, user_id, now = [], next_id(User), clock.now()

    def add(username, full_name, role, office_id):
        nonlocal user_id
        check_password(PASSWORD, username, full_name)
        rows.append({"id": user_id, "username": username, "full_name": full_name, "email": None,
                     "password_hash": password_hash, "role": role, "office_id": office_id, "is_active_user": True,
                     "created_at": now, "last_login_at": None, "password_changed_at": now,
                     "must_change_password": False, "totp_secret": None, "totp_last_used_step": None})
        population.usernames[user_id] = username
        user_id += 1
        return user_id - 1

    for rank, code in enumerate(shape.offices):
        office = offices[code]
        tag = code.lower()
        officers = [add(f"oficial{n:02d}.{tag}", f"Oficial {n:02d} {code} (prueba)", "oficial", office.id)
                    for n in range(1, shape.officers_per_office + 1)]
        supervisor = add(f"consul.{tag}", f"Cónsul {code} (prueba)", "supervisor", office.id)
        # a realistic spread: a few busy offices (Tapachula, Houston...) and a long tail
        population.staff.append(Staff(office.id, code, officers, supervisor, weight=1 / (rank + 1) ** 0.8))
    population.central_user_id = add("analista.central", "Analista central (prueba)", "analista", central.id)
    insert_rows(User, rows)
    return population


def seed_cases(shape: Shape, population: Population) -> Seeder:
    """shape.cases cases over shape.years years, about shape.open_share open with 1-3 open tasks each,
    plus a few intakes not registered yet (an open Registro task without a case)."""
    rng = random.Random(shape.seed)
    seeder = Seeder(rng)
    span = timedelta(days=365 * shape.years)
    start = seeder.now - span
    # Cases stay open an exponentially distributed time whose mean gives the wanted open share.
    mean_open_days = shape.open_share * span.days
    weights = [s.weight for s in population.staff]
    openings = sorted((start + timedelta(seconds=rng.uniform(0, span.total_seconds())),
                       rng.choices(range(len(population.staff)), weights)[0]) for _ in range(shape.cases))
    known_persons: list[int] = []
    open_cases = 0
    for index, (opened_at, office_index) in enumerate(openings):
        office = population.staff[office_index]
        if known_persons and rng.random() < 0.12:  # returning persons: a second or third case
            person_id = rng.choice(known_persons)
        else:
            person_id = seeder.person(opened_at, office.office_id, with_dni=rng.random() < 0.75)
            known_persons.append(person_id)
        closes = opened_at + timedelta(days=rng.expovariate(1 / mean_open_days))
        closed_at = closes if closes < seeder.now else None
        open_cases += closed_at is None
        seeder.case(office, person_id, opened_at, closed_at)
        if (index + 1) % BATCH == 0:
            seeder.flush()
    for _ in range(max(1, open_cases // 200)):  # intakes started, not registered yet: no case, no category
        office = population.staff[rng.choices(range(len(population.staff)), weights)[0]]
        officer = rng.choice(office.officers)
        started = seeder.now - timedelta(hours=rng.uniform(0, 48))
        instance_id = seeder.instance(office, None, officer, started, None)
        seeder.task(office, instance_id, None, "Task_registro", None, 0, started, created_at=started,
                    assigned=False)
    seeder.flush()
    seeder.save_counters()
    return seeder


def population_counts(population: Population) -> dict[str, int]:
    now = clock.now()

    def count(query):
        return db.session.scalar(query)

    open_tasks = sa.select(sa.func.count()).select_from(HumanTask).where(HumanTask.completed_at.is_(None))
    population.counts = {
        "cases": count(sa.select(sa.func.count()).select_from(Case)),
        "open cases": count(sa.select(sa.func.count()).select_from(Case).where(Case.status != "cerrado")),
        "open tasks": count(open_tasks),
        "assigned": count(open_tasks.where(HumanTask.assignee_id.is_not(None))),
        "overdue": count(open_tasks.where(HumanTask.due_at < now)),
        "persons": count(sa.select(sa.func.count()).select_from(Person)),
        "users": count(sa.select(sa.func.count()).select_from(User)),
    }
    return population.counts


class Workspace:
    """A temporary folder shared by the benchmarks of one run: one encryption key, one migrated template,
    and each seeded size built once; a benchmark works on its own copy (logins and clicks write)."""

    def __init__(self, folder: Path, log=print):
        self.folder = folder
        self.key = crypto.generate_key()
        self.log = log
        self._template: Path | None = None
        self._seeded: dict[int, tuple[Path, Population, float]] = {}

    def app(self, path: Path):
        return bench_app(path.parent, path.name, self.key)

    def template(self) -> Path:
        if self._template is None:
            path = self.folder / "template.db"
            prepare_schema(self.app(path))
            self._template = path
        return self._template

    def seeded(self, cases: int, shape: Shape | None = None) -> tuple[Path, Population, float]:
        """(database file, population, seconds it took) for `cases` cases, seeded once per run."""
        if cases not in self._seeded:
            shape = shape or Shape(cases)
            started = time.perf_counter()
            path = self.folder / f"seeded-{cases}.db"
            copy_database(self.template(), path)
            app = self.app(path)
            with app.app_context():
                population = create_staff(shape, hash_password(PASSWORD))
                seed_cases(shape, population)
                db.session.commit()
                population_counts(population)
                db.session.remove()
                db.engine.dispose()
            self._seeded[cases] = (path, population, time.perf_counter() - started)
            self.log(f"  seeded {cases:,} cases in {self._seeded[cases][2]:.1f} s")
        return self._seeded[cases]

    def copy_of(self, cases: int, name: str) -> tuple[Path, Population]:
        source, population, _seconds = self.seeded(cases)
        target = self.folder / name
        copy_database(source, target)
        return target, population
