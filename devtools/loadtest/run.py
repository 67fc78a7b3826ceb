"""SIPROC load test, end to end: `.venv/bin/python devtools/loadtest/run.py [--seconds 60] [--users 40]
[--database sqlite|postgresql]` (`make load`).

1. Builds a throwaway database in a temporary folder with the bench seeder (devtools.bench.seed: 20,000 cases by
   default, officers and a supervisor per office), or, with --database postgresql, a throwaway database on the
   server of --pg-url (migrations, reference data and diagrams through devtools.bench.seed.prepare_schema). Then a
   few real cases per office are registered through the workflow engine and offered to the office: the seeded
   instances carry a placeholder state, so only these can be completed.
2. Starts gunicorn (deploy/gunicorn.conf.py, app.wsgi:app, --workers workers) on 127.0.0.1:<free port> against
   it and waits for /listo.
3. Runs locust headless (devtools/loadtest/locustfile.py): each user is a seeded officer; 80 % reading (inbox, office
   queue, cases and tasks of the office), 20 % completing a task (claim from the office queue, then submit).
4. Prints throughput, median and p95 latency per request type and overall, the outcomes (completions, races
   between officers, lock contention) and the errors (5xx and connection errors; goal: none): PASS or MISS.
   Then stops gunicorn and removes the temporary data (and the PostgreSQL database).
"""
import argparse
import csv
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DEFAULT_PG = os.environ.get("SIPROC_LOAD_POSTGRESQL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
READY_TIMEOUT = 90
SAMPLE = 400  # case and task ids per office the readers pick from


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--cases", type=int, default=20_000, help="seeded cases (default 20,000)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--completable", type=int, default=None,
                        help="completable cases per office (default: enough for the run)")
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help="a PostgreSQL URL whose server gets the throwaway database (default: %(default)s)")
    parser.add_argument("--csv", default=None, help="keep locust's CSV files under this prefix")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) for a post-mortem")
    parser.add_argument("--gunicorn-arg", action="append", default=[],
                        help="extra gunicorn argument (repeatable), e.g. --gunicorn-arg=--worker-class=sync")
    return parser.parse_args(argv)


def log(text):
    print(text, flush=True)


# -- 1. the database -------------------------------------------------------------------------------------
def pg_admin(url, sql):
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(sql))
    finally:
        engine.dispose()


def seed_postgresql(args, folder: Path):
    """A throwaway database on the server: schema, reference data, diagrams, staff and cases.
    Returns (url, encryption key, population, an app on it)."""
    from sqlalchemy.engine import make_url

    from app import create_app
    from app.auth.passwords import hash_password
    from app.core import crypto
    from app.extensions import db
    from devtools.bench.seed import PASSWORD, Shape, create_staff, population_counts, prepare_schema, seed_cases

    name = f"siproc_load_{os.getpid()}"
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(args.pg_url, f'CREATE DATABASE "{name}"')
    key = crypto.generate_key()
    app = create_app({"TESTING": True, "SECRET_KEY": "load-seed", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": str(folder), "SERVER_NAME": "siproc.load", "ENCRYPTION_KEYS": [key],
                      "SCHEDULER_ENABLED": False})
    started = time.perf_counter()
    prepare_schema(app)
    with app.app_context():
        shape = Shape(args.cases)
        population = create_staff(shape, hash_password(PASSWORD))
        seed_cases(shape, population)
        db.session.commit()
        population_counts(population)
        lagging = fix_sequences()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    # Planner statistics for the bulk-loaded tables now, as autovacuum would soon after a real load; without
    # them the first minutes run on plans made for empty tables.
    pg_admin(url, "ANALYZE")
    log(f"  seeded {args.cases:,} cases in {time.perf_counter() - started:.1f} s (PostgreSQL database {name})")
    if lagging:
        log("  NOTE: the seeder inserts explicit ids, which PostgreSQL sequences do not follow; moved forward: "
            + ", ".join(lagging))
    return url, key, population, app


def fix_sequences() -> list[str]:
    """PostgreSQL: move each id sequence past the largest id (the seeder inserts explicit ids, which leave the
    sequences at 1, so the first row inserted by the application would collide). Returns the tables moved."""
    import sqlalchemy as sa

    from app.extensions import db

    moved = []
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        sequence = db.session.scalar(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        if sequence is None:
            continue
        largest = db.session.scalar(sa.select(sa.func.max(table.c.id)))
        last = db.session.scalar(sa.text(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}"))
        if largest and last < largest:
            db.session.execute(sa.text("SELECT setval(:s, :v)"), {"s": sequence, "v": largest})
            moved.append(f"{table.name} ({last} -> {largest})")
    return moved


def seed_sqlite(args, folder: Path):
    from devtools.bench.seed import Workspace

    workspace = Workspace(folder / "bench", log=log)
    path, population, _seconds = workspace.seeded(args.cases)
    return f"sqlite:///{path}", workspace.key, population, workspace.app(path)


def completable_cases(app, population, per_office) -> dict[str, list[int]]:
    """Real cases registered through the engine (category RET, the generic path), waiting at the assessment,
    their case officer cleared so that every step is offered to the office queue."""
    import sqlalchemy as sa
    from werkzeug.datastructures import MultiDict

    from app.auth.models import User
    from app.cases.models import Case
    from app.extensions import db
    from app.tasks.services import build_form, complete_task
    from app.workflow import services as workflow
    from app.workflow.models import HumanTask

    made: dict[str, list[int]] = {}
    rng = random.Random(7)
    with app.app_context():
        version = workflow.latest_version("proteccion_consular")
        for staff in population.staff:
            officers = [db.session.get(User, user_id) for user_id in staff.officers]
            for n in range(per_office):
                officer = rng.choice(officers)
                with app.test_request_context():
                    instance = workflow.start_instance(version, staff.office_id, officer.id)
                    registro = db.session.scalar(sa.select(HumanTask).where(
                        HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None)))
                    compiled, form = build_form(registro, formdata=MultiDict({
                        "categoria": "RET", "nombres": "Persona", "primer_apellido": f"Carga {staff.code} {n}",
                        "sexo": rng.choice("FM"), "pais_ubicacion": "MX", "relato": "Caso de la prueba de carga.",
                    }), csrf=False)
                    if not compiled.validate(form):
                        raise RuntimeError(f"registration form refused: {form.errors}")
                    complete_task(officer, registro, compiled, form, extras={"persona": "nueva"})
                    made.setdefault(staff.code, []).append(instance.case_id)
            db.session.commit()
        ids = [case_id for cases in made.values() for case_id in cases]
        db.session.execute(sa.update(Case).where(Case.id.in_(ids)).values(assigned_officer_id=None))
        db.session.execute(sa.update(HumanTask).where(HumanTask.case_id.in_(ids), HumanTask.completed_at.is_(None))
                           .values(assignee_id=None, claimed_at=None))
        db.session.commit()
    return made


def write_plan(app, population, completable, users, target: Path) -> dict:
    """What the locust users read: officers (round-robin over the offices) and ids per office."""
    import sqlalchemy as sa

    from app.cases.models import Case
    from app.extensions import db
    from app.workflow.models import HumanTask
    from devtools.bench.seed import PASSWORD

    rng = random.Random(11)
    offices = {}
    with app.app_context():
        for staff in population.staff:
            cases = db.session.scalars(sa.select(Case.id).where(Case.office_id == staff.office_id)).all()
            tasks = db.session.scalars(sa.select(HumanTask.id).where(
                HumanTask.office_id == staff.office_id, HumanTask.completed_at.is_(None),
                HumanTask.case_id.is_not(None))).all()
            offices[staff.code] = {"cases": rng.sample(cases, min(SAMPLE, len(cases))),
                                   "tasks": rng.sample(tasks, min(SAMPLE, len(tasks))),
                                   "completable": completable.get(staff.code, [])}
        db.session.remove()
        db.engine.dispose()
    officers = []
    for rank in range(max(len(s.officers) for s in population.staff)):
        for staff in population.staff:
            if rank < len(staff.officers):
                officers.append([population.usernames[staff.officers[rank]], staff.code])
    plan = {"password": PASSWORD, "officers": officers[:max(users, 1)], "offices": offices}
    target.write_text(json.dumps(plan))
    return plan


# -- 2. gunicorn -----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(args, url, key, port, log_path: Path):
    env = {**os.environ, "SIPROC_DATABASE_URL": url, "SIPROC_SECRET_KEY": os.urandom(32).hex(),
           "SIPROC_ENCRYPTION_KEYS": json.dumps([key]), "SIPROC_SESSION_COOKIE_SECURE": "false",
           "SIPROC_SCHEDULER_ENABLED": "false", "SIPROC_BIND": f"127.0.0.1:{port}",
           "SIPROC_WORKERS": str(args.workers), "SIPROC_UPLOADS_DIR": str(log_path.parent / "uploads")}
    command = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", *args.gunicorn_arg, "app.wsgi:app"]
    handle = log_path.open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_ready(process, base_url) -> str:
    """Poll /listo until it answers 200; returns the path that answered. While the health blueprint is not
    registered in create_app yet (/listo answers 404), /login answering 200 stands in for it."""
    deadline = time.monotonic() + READY_TIMEOUT
    path, last = "/listo", "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}{path}", timeout=5) as answer:
                if answer.status == 200:
                    return path
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and path == "/listo":
                log("NOTE: /listo answers 404 (app.ops.health not registered in create_app yet); "
                    "waiting for /login instead")
                path = "/login"
                continue
            last = f"{exc.code} {exc.read()[:300]!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"{path} did not answer 200 within {READY_TIMEOUT} s: {last}")


def stop(process, timeout=40):
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop: the workers finish their requests
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the group holds only gunicorn and its workers
        process.wait()


# -- 3. locust -------------------------------------------------------------------------------------------
def run_locust(args, base_url, plan_path: Path, outcomes_path: Path, csv_prefix: Path, log_path: Path) -> int:
    env = {**os.environ, "LOADTEST_PLAN": str(plan_path), "LOADTEST_OUTCOMES": str(outcomes_path)}
    command = [str(BIN / "locust"), "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless",
               "-u", str(args.users), "-r", str(args.users), "--run-time", f"{args.seconds}s", "--host", base_url,
               "--csv", str(csv_prefix), "--only-summary", "--loglevel", "WARNING"]
    with log_path.open("w") as handle:
        return subprocess.run(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT).returncode


# -- 4. the report ---------------------------------------------------------------------------------------
def read_stats(csv_prefix: Path):
    with open(f"{csv_prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(f"{csv_prefix}_failures.csv", newline="") as handle:
        failures = list(csv.DictReader(handle))
    exceptions = Path(f"{csv_prefix}_exceptions.csv")
    with exceptions.open(newline="") as handle:
        crashes = list(csv.DictReader(handle)) if exceptions.exists() else []
    return rows, failures, crashes


def server_log_counts(log_path: Path) -> dict[str, int]:
    counts = {"5xx in the access log": 0, "worker timeouts": 0, "tracebacks": 0}
    for line in log_path.read_text(errors="replace").splitlines():
        parts = line.split('" ')
        if len(parts) > 1 and parts[1][:1] == "5" and parts[1][:3].isdigit():
            counts["5xx in the access log"] += 1
        counts["worker timeouts"] += "WORKER TIMEOUT" in line
        counts["tracebacks"] += line.startswith("Traceback")
    return counts


def report(args, rows, failures, crashes, outcomes, server, seeded, plan) -> bool:
    from devtools.bench.report import load, machine

    def number(row, key):
        try:
            return float(row.get(key) or 0)
        except ValueError:
            return 0.0

    body = [r for r in rows if r["Name"] != "Aggregated"]
    body.sort(key=lambda r: (r["Name"].startswith("complete:"), r["Name"], r["Type"]))
    overall = next(r for r in rows if r["Name"] == "Aggregated")
    width = max(len(f"{r['Type']} {r['Name']}") for r in rows) + 2
    log("")
    log(f"SIPROC load test · {args.database} · {seeded} · gunicorn {args.workers} workers "
        f"{' '.join(args.gunicorn_arg)}".rstrip())
    log(f"{args.users} officers of {len({o for _u, o in plan['officers']})} offices, {args.seconds} s, "
        "80 % reading / 20 % completing; think time 0.5-1.5 s")
    log(f"machine: {machine()}")
    log(f"at start: {args.load_at_start}; at the end: {load()} (locust runs on the same machine)")
    log("")
    log(f"{'request':<{width}}{'count':>8}{'req/s':>9}{'median ms':>11}{'p95 ms':>9}{'failed':>8}")
    for r in body + [overall]:
        label = "overall" if r is overall else f"{r['Type']} {r['Name']}"
        if r is overall:
            log("-" * (width + 45))
        log(f"{label:<{width}}{int(number(r, 'Request Count')):>8}{number(r, 'Requests/s'):>9.1f}"
            f"{number(r, '50%'):>11.0f}{number(r, '95%'):>9.0f}{int(number(r, 'Failure Count')):>8}")
    log("")
    # Completions and lost races as counted in the table (a request cut short when the run stops is in
    # neither); races seen on a task page before any POST come from the locustfile's own counters.
    def count(name):
        return sum(int(number(r, "Request Count")) - int(number(r, "Failure Count")) for r in body
                   if r["Name"] == name)

    completions = count("complete: POST /tareas/[id]")
    lost = {"claim lost": count("complete: POST /tareas/[id]/tomar (carrera)"),
            "submit lost": count("complete: POST /tareas/[id] (carrera)"),
            **{k[6:]: v for k, v in outcomes.items() if k.startswith("race:") and "lost" not in k}}
    lost = {k: v for k, v in lost.items() if v}
    log(f"tasks completed: {completions}; races lost between officers (expected): {sum(lost.values())}"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(lost.items()))})" if lost else ""))
    unconfirmed = outcomes.get("completion: not confirmed (the page after it failed)", 0)
    if unconfirmed:
        log(f"  of which {unconfirmed} not confirmed: the page after the POST failed (counted as an error there)")
    busy = sum(int(number(r, "Request Count")) for r in body if r["Name"].endswith("(ocupada)"))
    log(f"database busy answers (409, lock contention): {busy}")
    if outcomes.get("completion: no completable case left"):
        log(f"completions skipped, no completable case left: {outcomes['completion: no completable case left']}")
    errors = {k: v for k, v in outcomes.items() if k.startswith("error:")}
    unexpected = {k: v for k, v in outcomes.items() if k.startswith("unexpected:")}
    error_count = sum(errors.values())
    log(f"errors (5xx, connection): {error_count}" + (f" {errors}" if errors else "")
        + f"; other failed requests: {sum(unexpected.values())}" + (f" {unexpected}" if unexpected else ""))
    log("server log: " + ", ".join(f"{k} {v}" for k, v in server.items()))
    for failure in failures[:10]:
        log(f"  {failure['Method']} {failure['Name']}: {failure['Error']} x{failure['Occurrences']}")
    crashed = sum(int(c.get("Count") or 0) for c in crashes)
    if crashed:  # the locustfile itself broke: the figures do not measure what they claim
        log(f"locustfile exceptions: {crashed}")
        for crash in crashes[:5]:
            log(f"  {crash.get('Msg')} x{crash.get('Count')}")
    passed = error_count == 0 and server["5xx in the access log"] == 0 and server["worker timeouts"] == 0 \
        and not crashed and int(number(overall, "Request Count")) > 0
    log("RESULT: " + ("PASS (no 5xx, no connection error)" if passed else "MISS (errors: see above)"))
    return passed


def main(argv=None) -> int:
    import logging

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)  # keeps alembic quiet during the migrations
    folder = Path(tempfile.mkdtemp(prefix="siproc-load-"))
    gunicorn, url, pg_database = None, None, None
    if (ROOT / "instance" / "config.py").exists():
        log("NOTE: instance/config.py exists and is read by the web workers (SIPROC_* variables win).")
    try:
        log(f"seeding {args.cases:,} cases ({args.database}) in {folder} ...")
        if args.database == "postgresql":
            url, key, population, app = seed_postgresql(args, folder)
            pg_database = url
        else:
            url, key, population, app = seed_sqlite(args, folder)
        offices = len(population.staff)
        per_office = args.completable or max(10, math.ceil(math.ceil(args.users / offices) * args.seconds * 0.2 / 2))
        started = time.perf_counter()
        completable = completable_cases(app, population, per_office)
        log(f"  registered {per_office * offices} completable cases through the engine "
            f"({per_office} per office) in {time.perf_counter() - started:.1f} s")
        plan = write_plan(app, population, completable, args.users, folder / "plan.json")
        seeded = f"{population.counts.get('cases', args.cases):,} seeded cases, " \
                 f"{population.counts.get('open tasks', 0):,} open tasks"
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        gunicorn = start_gunicorn(args, url, key, port, folder / "gunicorn.log")
        ready = wait_ready(gunicorn, base_url)
        from devtools.bench.report import load

        args.load_at_start = load()
        log(f"gunicorn ready at {base_url} ({ready} answered 200); locust: {args.users} users for {args.seconds} s ...")
        csv_prefix = Path(args.csv) if args.csv else folder / "locust"
        csv_prefix.parent.mkdir(parents=True, exist_ok=True)
        run_locust(args, base_url, folder / "plan.json", folder / "outcomes.json", csv_prefix, folder / "locust.log")
        stop(gunicorn)
        if not Path(f"{csv_prefix}_stats.csv").exists():
            log((folder / "locust.log").read_text()[-3000:])
            raise RuntimeError("locust wrote no statistics")
        rows, failures, crashes = read_stats(csv_prefix)
        outcomes_file = folder / "outcomes.json"
        outcomes = json.loads(outcomes_file.read_text()) if outcomes_file.exists() else {}
        server = server_log_counts(folder / "gunicorn.log")
        passed = report(args, rows, failures, crashes, outcomes, server, seeded, plan)
        if not passed:
            log("--- end of gunicorn's log ---")
            log((folder / "gunicorn.log").read_text(errors="replace")[-4000:])
        return 0 if passed else 1
    finally:
        stop(gunicorn)
        if pg_database:
            from sqlalchemy.engine import make_url

            pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{make_url(pg_database).database}" WITH (FORCE)')
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
