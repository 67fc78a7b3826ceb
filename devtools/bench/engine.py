"""Engine benchmark: completing one user task over HTTP against the raw SpiffWorkflow cycle it wraps.

The floor a naive design pays: the protection process (with the processes it calls) stored as the
serializer's full JSON, spec included, so every step deserializes the whole thing (no parsing, but every
spec rebuilt from JSON), completes the ready user task, runs the engine and serializes everything again.
SIPROC keeps the spec once per process version in memory and stores only the state; a task completion over
HTTP (session, permissions, form validation, domain action, engine, projections, encryption, commit) should
cost no more than that raw cycle. Goal: HTTP median / raw cycle median <= 1.0.

The raw cycle (devtools/baseline.py) does not go through app.workflow.engine, whose spec cache and
state-only storage are what is being compared against it (only the app's restricted script engine is
borrowed, so both sides evaluate the diagram's expressions alike).
"""
import cProfile
import gc
import pstats
import re
import time

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.workflow.engine import SERIALIZER_VERSION, get_engine
from app.workflow.models import HumanTask, WorkflowInstance

from ..baseline import FullJsonCycle, task_count
from .inbox import IsolatedClient, login
from .report import Figures, Section, table, verdict
from .seed import MAIN_PROCESS, PASSWORD, copy_database, raw_table

STEP = "Task_evaluacion"
NEXT_STEP = "Task_remision"  # where EVALUACION leads (a referral is needed)
USERNAME = "bench.engine"
WARM_UP = 10
ROUNDS, PER_ROUND = 8, 25  # 200 timed iterations per scenario, in rounds alternating the three scenarios
PROFILED = 10  # HTTP completions under cProfile when the goal is missed
CASES = WARM_UP + ROUNDS * PER_ROUND + PROFILED
GOAL_RATIO = 1.0
# The protection diagram's valid form data, as tests/helpers.py posts it (REGISTRO, EVALUACION_REMITIR).
REGISTRO = {
    "categoria": "RET", "nombres": "José Ángel", "primer_apellido": "Hernández", "segundo_apellido": "Núñez",
    "sexo": "M", "fecha_nacimiento": "1988-07-30", "dni": "0501-1988-02231", "municipio_origen": "0501",
    "pais_ubicacion": "MX", "ciudad_ubicacion": "Tapachula", "relato": "Retenido en estación migratoria.",
    "vulnerabilidades": ["SIN_DOCUMENTOS"],
}
EVALUACION = {"necesidades": ["documentacion"], "nivel_riesgo": "alto", "requiere_remision": "si"}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
# Phases of the HTTP path, read from the profile: (label, module path suffix, function name).
PHASES = [
    ("whole request (test client)", "flask/testing.py", "open"),
    ("  before_request (session, login, guards)", "flask/app.py", "preprocess_request"),
    ("  view tasks.submit", "app/tasks/views.py", "submit"),
    ("    form: build", "app/tasks/services.py", "build_form"),
    ("    form: validate", "app/formschema/compiler.py", "validate"),
    ("    domain action cases.assess", "app/cases/actions.py", "assess_case"),
    ("    load state (decrypt + restore)", "app/workflow/services.py", "_load_or_fail"),
    ("    engine.complete_user_task", "app/workflow/engine.py", "complete_user_task"),
    ("    engine.advance", "app/workflow/engine.py", "advance"),
    ("    project human tasks", "app/workflow/services.py", "_project_human_tasks"),
    ("    project timers", "app/workflow/services.py", "_project_timers"),
    ("    engine.dump", "app/workflow/engine.py", "dump"),
    ("    instance_advanced: cases.follow_workflow", "app/cases/services.py", "follow_workflow"),
    ("    record_event (timeline)", "app/cases/services.py", "record_event"),
    ("    discard_draft", "app/tasks/drafts.py", "discard_draft"),
    ("    next_task_for", "app/tasks/services.py", "next_task_for"),
    ("  after_request (audit seal, session)", "flask/app.py", "process_response"),
    ("across the request: db.session.commit", "sqlalchemy/orm/scoping.py", "commit"),
    ("across the request: ORM flushes (auto or not)", "sqlalchemy/orm/session.py", "_flush"),
    ("  of which case_facts refresh (after_flush)", "app/stats/facts.py", "_refresh"),
    ("across the request: ORM statements", "sqlalchemy/orm/session.py", "_execute_internal"),
    ("across the request: sqlite3 execute", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("across the request: sqlite3 commit", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("across the request: encrypt", "app/core/crypto.py", "encrypt"),
    ("across the request: decrypt", "app/core/crypto.py", "decrypt"),
]


def run(workspace) -> Section:
    section = Section("Engine: POST /tareas/<id> (Evaluación) vs the raw SpiffWorkflow cycle")
    path = workspace.folder / "engine.db"
    copy_database(workspace.template(), path)
    app = workspace.app(path)
    app.test_client_class = IsolatedClient
    started = time.perf_counter()
    with app.app_context():
        task_ids = _register_cases(app, CASES)
        model = _model(app, task_ids[0])
        db.session.remove()
    workspace.log(f"  registered {CASES} cases waiting at {STEP} in {time.perf_counter() - started:.1f} s")

    raw = RawCycle(model)
    own = AppCycle(model)
    client = login(app, USERNAME)
    token = _csrf_token(client, task_ids[0])
    pending = list(task_ids)
    http: list[float] = []

    def complete_next(samples):
        _post(client, pending.pop(0), token, samples)

    for _ in range(WARM_UP):
        raw.once([])
        own.once([])
        complete_next([])
    raw.check()
    gc.collect()
    for _ in range(ROUNDS):  # slow drifts of a shared machine hit the three scenarios alike
        for _ in range(PER_ROUND):
            raw.once(raw.samples)
        for _ in range(PER_ROUND):
            own.once(own.samples)
        for _ in range(PER_ROUND):
            complete_next(http)
    completed = _completed(app, task_ids[:WARM_UP + ROUNDS * PER_ROUND])

    f_raw, f_own, f_http = Figures(raw.samples), Figures(own.samples), Figures(http)
    ratio = f_http.median / f_raw.median
    ok = ratio <= GOAL_RATIO
    section.misses += not ok
    section.add(f"Each scenario: {WARM_UP} warm-up iterations, then {ROUNDS * PER_ROUND} timed ones in {ROUNDS} "
                "rounds alternating the three (same process, same case data, same form data).")
    section.add("raw: SpiffWorkflow alone, the whole workflow kept as serialize_json (spec and called specs "
                "included): deserialize_json, complete the READY user task, refresh_timers + do_engine_steps, "
                "serialize_json.")
    section.add("app engine: app.workflow.engine alone (spec from the per-version cache, state-only JSON): "
                "load, complete_user_task, advance, dump. No database, no encryption.")
    section.add(f"HTTP: POST /tareas/<id> with the Evaluación form (CSRF token, logged-in officer, Flask test "
                f"client, SQLite file), 302 expected and not followed; one fresh case per request "
                f"({completed} {STEP} tasks completed by the officer, checked in the database).")
    section.add()
    section.add(table(["data", "value"], [
        ["process version", model["version"]],
        ["tasks in the workflow at Evaluación (main + subprocesses)", model["tasks"]],
        ["tasks after completing it (at Remisión)", raw.tasks_after],
        ["spec JSON of the version (main + called processes), KB", _kb(model["spec_size"])],
        ["full JSON (serialize_json: spec + state), KB", _kb(len(raw.full_json))],
        ["  after the step, KB", _kb(raw.size_after)],
        ["state-only JSON the app stores, KB", _kb(len(model["state_json"]))],
        ["  as stored (encrypted column), KB", _kb(model["stored_size"])],
        ["  after the step, KB", _kb(own.size_after)],
    ]))
    section.add(f"data given to the task by the raw and app engine cycles (the typed form data): {model['data']}")
    section.add()
    section.add(table(["scenario (ms)", "median", "p95"], [
        ["raw SpiffWorkflow cycle, full JSON", f"{f_raw.median:.2f}", f"{f_raw.p95:.2f}"],
        ["app engine only (cached spec, state JSON)", f"{f_own.median:.2f}", f"{f_own.p95:.2f}"],
        ["HTTP task completion", f"{f_http.median:.2f}", f"{f_http.p95:.2f}"],
    ]))
    section.add()
    section.add(table(["figure", "value", "goal", "result"], [
        ["HTTP median / raw cycle median", f"{ratio:.2f}", f"<= {GOAL_RATIO}", verdict(ok)],
        ["(app engine median / raw cycle median)", f"{f_own.median / f_raw.median:.2f}", "", ""],
    ]))
    if not ok:
        section.add()
        section.add(f"Where the HTTP path spends its time (cProfile of {PROFILED} completions; profiler overhead "
                    "inflates every figure, compare the shares):")
        section.add(_profile(client, token, pending[:PROFILED]))
    section.add()
    section.add("RESULT: " + ("PASS" if ok else "MISS (HTTP completion costs more than the raw full-JSON cycle)"))
    with app.app_context():
        db.engine.dispose()
    return section


# -- preparation (untimed) -------------------------------------------------------------------------
def _register_cases(app, count: int) -> list[int]:
    """`count` cases registered through the real forms (services, no HTTP): ids of their Evaluación tasks."""
    from app.auth.services import create_user
    from app.reference.models import Office
    from app.tasks.services import submit_values
    from app.workflow import services as workflow

    office = db.session.scalar(sa.select(Office).where(Office.code == "TAP"))
    officer = create_user(USERNAME, "Oficial del banco del motor", PASSWORD, "oficial", office)
    version = workflow.latest_version(MAIN_PROCESS)
    task_ids = []
    with app.test_request_context():
        for _ in range(count):
            instance = workflow.start_instance(version, office.id, officer.id)
            submit_values(officer, _open_task(instance.id), REGISTRO)
            task = _open_task(instance.id)
            if task.task_spec != STEP:
                raise RuntimeError(f"a registered case waits at {task.task_spec}, not {STEP}")
            task_ids.append(task.id)
        db.session.commit()
    return task_ids


def _open_task(instance_id: int) -> HumanTask:
    return db.session.scalars(sa.select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.completed_at.is_(None)).order_by(HumanTask.id)).one()


def _model(app, task_id: int) -> dict:
    """One registered case as the benchmarks need it: its stored state, its version, the typed form data."""
    from app.tasks.services import build_form

    task = db.session.get(HumanTask, task_id)
    instance = task.instance
    version = instance.process_version
    pairs = [(k, item) for k, v in EVALUACION.items() for item in (v if isinstance(v, list) else [v])]
    with app.test_request_context():
        compiled, form = build_form(task, formdata=MultiDict(pairs), csrf=False)
        if not compiled.validate(form):
            raise RuntimeError(f"the Evaluación form refuses the benchmark data: {form.errors}")
        data = compiled.to_json(form)
    raw = raw_table(WorkflowInstance)  # the column as stored: ciphertext
    stored = db.session.execute(sa.select(raw.c.state_json).where(raw.c.id == instance.id)).scalar_one()
    engine = get_engine()
    workflow = engine.load(version.cache_key, version.spec_json, instance.state_json, instance.serializer_version)
    return {
        "version": f"{version.process_key} v{version.version} ({version.content_hash[:12]})",
        "cache_key": version.cache_key, "spec_json": version.spec_json, "spec_size": len(version.spec_json),
        "state_json": instance.state_json, "stored_size": len(stored), "task_id": task.task_id,
        "tasks": task_count(workflow), "workflow": workflow, "data": data,
    }


def _kb(size: int) -> str:
    return f"{size / 1024:.1f}"


# -- the three scenarios -----------------------------------------------------------------------------
class RawCycle:
    """SpiffWorkflow alone on the full serialization (spec included), as a design storing it would run."""

    def __init__(self, model):
        self.cycle = FullJsonCycle(model["workflow"], model["task_id"], model["data"])
        self.full_json = self.cycle.full_json
        self.samples: list[float] = []
        self.result, self.workflow = "", None
        self.tasks_after = self.size_after = 0

    def once(self, samples: list[float]) -> None:
        started = time.perf_counter()
        self.result = self.cycle.run()
        samples.append((time.perf_counter() - started) * 1000)
        self.workflow = self.cycle.workflow

    def check(self) -> None:
        """The raw cycle took the same path as the app: the next step is Remisión."""
        ready = self.cycle.ready_steps()
        if ready != [NEXT_STEP]:
            raise RuntimeError(f"the raw cycle reached {ready}, not {NEXT_STEP}")
        self.tasks_after = task_count(self.workflow)
        self.size_after = len(self.result)


class AppCycle:
    """The app's engine boundary alone: cached spec, state-only JSON (what _advance_and_save runs on)."""

    def __init__(self, model):
        self.engine = get_engine()
        self.model = model
        self.samples: list[float] = []
        self.size_after = 0

    def once(self, samples: list[float]) -> None:
        engine, model = self.engine, self.model
        started = time.perf_counter()
        workflow = engine.load(model["cache_key"], model["spec_json"], model["state_json"], SERIALIZER_VERSION)
        engine.complete_user_task(workflow, model["task_id"], model["data"])
        engine.advance(workflow)
        state = engine.dump(workflow)
        samples.append((time.perf_counter() - started) * 1000)
        self.size_after = len(state)


def _csrf_token(client, task_id: int) -> str:
    """The session's CSRF token, read from one task page (it lives as long as the session)."""
    page = client.get(f"/tareas/{task_id}")
    found = CSRF.search(page.get_data(as_text=True))
    if page.status_code != 200 or not found:
        raise RuntimeError(f"GET /tareas/{task_id} answered {page.status_code} without a CSRF token")
    return found.group(1) or found.group(2)


def _post(client, task_id: int, token: str, samples: list[float]) -> None:
    data = {**EVALUACION, "csrf_token": token}
    started = time.perf_counter()
    response = client.post(f"/tareas/{task_id}", data=data)
    samples.append((time.perf_counter() - started) * 1000)
    location = response.headers.get("Location", "")
    if response.status_code != 302 or not re.search(r"/(tareas|casos)/\d+$", location):
        raise RuntimeError(f"POST /tareas/{task_id} answered {response.status_code} {location!r}: "
                           f"{response.get_data(as_text=True)[:400]}")
    with client.session_transaction() as session:  # nobody follows the redirect: drop its flashed messages
        session.pop("_flashes", None)


def _completed(app, task_ids: list[int]) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(HumanTask).where(
            HumanTask.id.in_(task_ids), HumanTask.outcome == "completed", HumanTask.completed_by_id.is_not(None)))
        db.session.remove()
    if count != len(task_ids):
        raise RuntimeError(f"{len(task_ids)} completions posted, {count} recorded")
    return count


def _profile(client, token: str, task_ids: list[int]) -> str:
    """Cumulative time per phase of the HTTP path, and the functions with the most own time."""
    profile = cProfile.Profile()
    profile.enable()
    for task_id in task_ids:
        _post(client, task_id, token, [])
    profile.disable()
    entries = pstats.Stats(profile).stats  # {(file, line, name): (primitive calls, calls, own, cumulative, callers)}
    n = len(task_ids)
    found = []
    for label, suffix, name in PHASES:
        matches = [(nc, ct) for (file, _line, func), (_cc, nc, _tt, ct, _c) in entries.items()
                   if func == name and file.replace("\\", "/").endswith(suffix)]
        if matches:
            found.append((label, *max(matches, key=lambda m: m[1])))
    whole = found[0][2] if found else 1.0
    phases = table(["phase (per completion)", "ms", "calls", "share"], [
        [label, f"{cumulative / n * 1000:.2f}", f"{calls / n:.1f}", f"{cumulative / whole:.0%}"]
        for label, calls, cumulative in found])
    own = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:12]
    hot = table(["function (own time, per completion)", "ms", "calls"], [
        [f"{_short(file)}:{line} {func}", f"{tt / n * 1000:.2f}", f"{nc / n:.0f}"]
        for (file, line, func), (_cc, nc, tt, _ct, _c) in own])
    return phases + "\n\n" + hot


def _short(path: str) -> str:
    path = path.replace("\\", "/")
    for marker in ("site-packages/", "/app/"):
        if marker in path:
            return ("app/" if marker == "/app/" else "") + path.split(marker, 1)[1]
    return path.rsplit("/", 1)[-1]

