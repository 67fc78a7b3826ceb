"""Concurrency on the production stack: gunicorn with 4 workers on PostgreSQL, 50 simulated officers and a
supervisor completing, claiming and reassigning tasks of overlapping cases for 60 seconds (SIPROC_CONCURRENCY_SECONDS
to change). Afterwards: every completion and claim the users were told succeeded is in the database exactly once,
nothing else is; every refusal carried a clear Spanish message; no 5xx; and the consistency check finds every
projection row equal to what the stored workflow state says.

Runs in the SQLite pass whenever a PostgreSQL server answers (it builds its own database); skipped otherwise.
"""
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.cases.models import CaseEvent
from app.extensions import db
from app.workflow.models import HumanTask
from tests.conftest import PASSWORD, POSTGRESQL, TEST_AUDIT_KEY, TEST_KEY, make_app
from tests.helpers import ATENCION, EVALUACION_SIN_REMISION, PROPUESTA, REGISTRO, SEGUIMIENTO_FIN

requests = pytest.importorskip("requests")
SERVER = os.environ.get("SIPROC_CONCURRENCY_POSTGRESQL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECONDS = float(os.environ.get("SIPROC_CONCURRENCY_SECONDS", "60"))
OFFICERS, CASES, WORKERS = 50, 40, 4
ROOT = Path(__file__).resolve().parents[2]
FORMS = {
    "Evaluación de necesidades y riesgos": EVALUACION_SIN_REMISION,
    "Atención brindada": ATENCION,
    "Seguimiento": SEGUIMIENTO_FIN,
    "Propuesta de cierre": PROPUESTA,
    "Aprobación de cierre": {"decision_cierre": "aprobar"},
}
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
TASK_LINK = re.compile(r'href="/tareas/(\d+)"')
H1 = re.compile(r"<h1[^>]*>\s*([^<]+?)\s*</h1>")
ALERT = re.compile(r'<div class="alert alert-(\w+)"[^>]*role="alert">(.*?)</div>', re.S)
ERROR_PAGE = re.compile(r'data-testid="error-message">(.*?)</p>', re.S)
KNOWN_REFUSALS = ("al mismo tiempo", "ya fue completada", "ya la tomó", "no corresponde", "No tiene permiso",
                  "ya no está pendiente", "ocupada con otra operación", "Solo quien tomó", "no está asignada",
                  "no tiene el rol de esta tarea")


def _server_answers() -> bool:
    engine = sa.create_engine(SERVER, connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
    try:
        engine.connect().close()
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


pytestmark = [
    pytest.mark.skipif(bool(POSTGRESQL), reason="runs once, in the SQLite pass (it builds its own PostgreSQL db)"),
    pytest.mark.skipif(not _server_answers(), reason="no PostgreSQL server answers at " + SERVER),
]


def _admin(sql):
    engine = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(sql))
    engine.dispose()


@pytest.fixture
def database(tmp_path):
    """A PostgreSQL database with the schema, reference data, 50 officers + a supervisor and 40 cases."""
    from flask_migrate import upgrade

    from app.auth.services import create_user
    from app.modeler.services import deploy_from_files
    from app.reference.models import Office
    from app.reference.services import load_reference
    from app.tasks.services import submit_values
    from app.workflow import services as workflow

    name = f"siproc_concurrency_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    app = make_app(url, tmp_path)
    with app.app_context():
        upgrade()
        load_reference(app.config["REFERENCE_DIR"])
        deploy_from_files(app.config["BPMN_DIR"], app.config["FORMS_DIR"])
        tap = db.session.scalar(db.select(Office).where(Office.code == "TAP"))
        officers = [create_user(f"oficial{n:02d}", f"Oficial {n:02d}", PASSWORD, "oficial", tap)
                    for n in range(1, OFFICERS + 1)]
        create_user("jefe", "Jefa de oficina", PASSWORD, "supervisor", tap)
        db.session.commit()
        version = workflow.latest_version("proteccion_consular")
        with app.test_request_context():
            for n in range(CASES):
                officer = officers[n % len(officers)]
                instance = workflow.start_instance(version, tap.id, officer.id)
                task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
                rng = random.Random(n)  # unrelated names and birth years: no duplicate-person question
                name = "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(4)).title()
                surname = "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(4)).title()
                born = f"{1940 + n}-0{1 + n % 9}-1{n % 9}"
                submit_values(officer, task, {**REGISTRO, "dni": "", "nombres": name, "primer_apellido": surname,
                                              "segundo_apellido": "", "fecha_nacimiento": born})
                db.session.commit()
        # The registered cases' next steps are offered to the office (nobody owns them yet): maximum overlap.
        db.session.execute(db.update(HumanTask).where(HumanTask.completed_at.is_(None))
                           .values(assignee_id=None, claimed_at=None, row_version=HumanTask.row_version + 1))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield app, url
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def server(database, tmp_path):
    app, url = database
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "SIPROC_DATABASE_URL": url, "SIPROC_SECRET_KEY": "concurrency-test-secret",
           "SIPROC_ENCRYPTION_KEYS": f'["{TEST_KEY}"]', "SIPROC_SESSION_COOKIE_SECURE": "false",
           "SIPROC_SCHEDULER_ENABLED": "false", "SIPROC_LOGIN_MAX_FAILURES_PER_IP": "100000",
           # the audit key and anchor of this server stay in the test's folder, never in the project's instance/
           "SIPROC_AUDIT_HMAC_KEY": TEST_AUDIT_KEY, "SIPROC_AUDIT_ANCHOR_PATH": str(tmp_path / "audit_anchor.log")}
    log = open(tmp_path / "gunicorn.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
                                "--timeout", "60", "app:create_app()"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/login", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            raise AssertionError("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text()[-3000:])
        time.sleep(0.2)
    yield app, base
    process.terminate()
    process.wait(timeout=30)
    log.close()


class Officer(threading.Thread):
    def __init__(self, base, username, deadline, results, seed, supervisor_ids=None):
        super().__init__(daemon=True)
        self.base, self.username, self.deadline, self.results = base, username, deadline, results
        self.rng = random.Random(seed)
        self.supervisor_ids = supervisor_ids
        self.http = requests.Session()

    def _token(self, html):
        found = CSRF.search(html)
        return found.group(1) if found else ""

    def _call(self, kind, method, path, **kw):
        try:
            response = self.http.request(method, self.base + path, timeout=30, **kw)
        except requests.RequestException as exc:
            self.results.append((kind, self.username, None, "error", str(exc)))
            return None
        if response.status_code >= 500:
            self.results.append((kind, self.username, None, "error", f"{response.status_code} {path}"))
            return None
        return response

    def run(self):
        page = self._call("login", "GET", "/login")
        response = self._call("login", "POST", "/login", data={
            "username": self.username, "password": PASSWORD, "csrf_token": self._token(page.text)},
            allow_redirects=False)
        if response is None or response.status_code != 302:
            self.results.append(("login", self.username, None, "error", "login failed"))
            return
        while time.monotonic() < self.deadline:
            view = "todas" if self.supervisor_ids else self.rng.choice(["oficina", "mias"])
            inbox = self._call("inbox", "GET", "/tareas/?vista=" + view)
            if inbox is None:
                continue
            ids = TASK_LINK.findall(inbox.text)
            if not ids:
                time.sleep(0.05)
                continue
            task_id = int(self.rng.choice(ids))
            roll = self.rng.random()
            if self.supervisor_ids:
                if roll < 0.5:
                    self._assign(task_id, inbox.text)
                else:
                    self._complete(task_id)
            elif roll < 0.6 or view == "mias":  # claims come from the office queue
                self._complete(task_id)
            else:
                self._claim(task_id, inbox.text)

    def _outcome(self, kind, task_id, response, success_text):
        alerts = [(level, re.sub(r"\s+", " ", text).strip()) for level, text in ALERT.findall(response.text)]
        alerts += [("error", re.sub(r"\s+", " ", text).strip()) for text in ERROR_PAGE.findall(response.text)]
        if any(success_text in text for _level, text in alerts):
            self.results.append((kind, self.username, task_id, "ok", ""))
        else:
            message = " | ".join(text for _level, text in alerts) or f"HTTP {response.status_code} sin mensaje"
            self.results.append((kind, self.username, task_id, "refused", message))

    def _complete(self, task_id):
        form = self._call("open", "GET", f"/tareas/{task_id}")
        if form is None:
            return
        title = H1.search(form.text)
        data = FORMS.get(title.group(1) if title else "")
        if data is None or 'name="csrf_token"' not in form.text:
            return  # a step this simulation does not fill in, or the task is no longer open
        response = self._call("complete", "POST", f"/tareas/{task_id}",
                              data={**data, "csrf_token": self._token(form.text)})
        if response is not None:
            self._outcome("complete", task_id, response, "completada.")

    def _claim(self, task_id, html):
        response = self._call("claim", "POST", f"/tareas/{task_id}/tomar", data={"csrf_token": self._token(html)})
        if response is not None:
            self._outcome("claim", task_id, response, "Tarea tomada")

    def _assign(self, task_id, html):
        officer = self.rng.choice(self.supervisor_ids)
        response = self._call("assign", "POST", f"/tareas/{task_id}/asignar",
                              data={"usuario": officer, "csrf_token": self._token(html)})
        if response is not None:
            self._outcome("assign", task_id, response, "Tarea asignada.")


def test_fifty_officers_on_four_workers_lose_no_update(server):
    app, base = server
    with app.app_context():
        from app.auth.models import User

        users = {u.username: u.id for u in db.session.scalars(db.select(User))}
        started_at = db.session.scalar(db.select(sa.func.now()))
        db.session.remove()
        db.engine.dispose()
    officer_ids = [users[f"oficial{n:02d}"] for n in range(1, OFFICERS + 1)]
    results: list[tuple] = []
    deadline = time.monotonic() + SECONDS
    threads = [Officer(base, f"oficial{n:02d}", deadline, results, n) for n in range(1, OFFICERS + 1)]
    threads.append(Officer(base, "jefe", deadline, results, 999, supervisor_ids=officer_ids))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)

    tally = Counter((kind, outcome) for kind, _u, _t, outcome, _m in results)
    print("\nconcurrency:", dict(tally))
    errors = [r for r in results if r[3] == "error"]
    assert errors == []
    refusals = [r for r in results if r[3] == "refused"]
    unexplained = [r for r in refusals if not any(sign in r[4] for sign in KNOWN_REFUSALS)]
    assert unexplained == []
    completions = [(u, t) for kind, u, t, outcome, _m in results if kind == "complete" and outcome == "ok"]
    assert completions, "no task was completed: the simulation did not exercise anything"
    assert len({t for _u, t in completions}) == len(completions)  # nobody was told 'done' for a task twice
    claims_ok = Counter(u for kind, u, _t, outcome, _m in results if kind in ("claim", "assign") and outcome == "ok")
    assert any(kind == "complete" and outcome == "refused" for kind, _u, _t, outcome, _m in results) or \
        any(kind == "claim" and outcome == "refused" for kind, _u, _t, outcome, _m in results)  # they overlapped

    with app.app_context():
        try:
            _verify(users, started_at, completions, claims_ok)
        finally:
            db.session.remove()
            db.engine.dispose()


def _verify(users, started_at, completions, claims_ok):
    from app.stats.facts import differences
    from app.workflow.consistency import check_instances

    done = db.session.execute(db.select(HumanTask.id, HumanTask.completed_by_id).where(
        HumanTask.outcome == "completed", HumanTask.completed_at >= started_at)).all()
    assert sorted(done) == sorted((t, users[u]) for u, t in completions)  # each 'done' is in the DB, once
    timeline = db.session.scalars(db.select(CaseEvent.title).where(CaseEvent.occurred_at >= started_at)).all()
    taken = sum(1 for title in timeline if " tomada por " in title or " asignada a " in title)
    assert taken == sum(claims_ok.values())  # every claim/assignment told 'ok' left its trace, no other
    assert [str(d) for d in check_instances()] == []
    assert differences() == []
