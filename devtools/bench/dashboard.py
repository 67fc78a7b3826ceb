"""Dashboard benchmark: time to render GET /estadisticas/ over 1,000,000 cases (goal: under 1 second).

The seeded database (devtools/bench/seed.py: persons, cases, workflow instances, open tasks over 10 years) gets
referrals and assistance in bulk, then case_facts is built by the application's own `rebuild` (timed and
reported: it is what `flask siproc stats rebuild` costs an operator). The whole page is timed through the
Flask test client, server-side: every SQL aggregate, the panels and the template; the browser's chart
drawing is not included. SIPROC_BENCH_DASHBOARD_CASES overrides the size for a quick run.
"""
import gc
import os
import random
import time
from datetime import timedelta

import sqlalchemy as sa

from app.cases.models import Assistance, Case, Referral
from app.core import clock, crypto
from app.extensions import db
from app.reference.models import Institution
from app.stats.facts import rebuild
from app.stats.models import CaseFact

from .inbox import IsolatedClient, login
from .report import Figures, Section, table, verdict
from .seed import BATCH, Shape, insert_rows

CASES = int(os.environ.get("SIPROC_BENCH_DASHBOARD_CASES", "1000000"))
SHAPE = Shape(CASES, open_share=0.02, years=10)
WARM_UP, TIMED = 3, 15
GOAL_MS = 1000.0
REFERRAL_SHARE, ASSISTANCE_SHARE = 0.35, 0.55
KINDS = ["visita_consular", "orientacion_legal", "documentacion", "asistencia_economica", "retorno",
         "gestion_medica", "contacto_familiar", "alojamiento", "repatriacion_restos"]
FUNDS = [("FOSMIH", 15), ("presupuesto_consular", 25), (None, 60)]
STATUSES = [("enviada", 15), ("aceptada", 30), ("rechazada", 10), ("atendida", 40), ("revocada", 5)]


def _pick(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def add_referrals_and_assistance(rng: random.Random) -> dict[str, int]:
    """Referrals and assistance for a share of the cases, dated after their opening; returns row counts."""
    institutions = list(db.session.scalars(sa.select(Institution.code)))
    placeholder = crypto.encrypt("(dato de prueba)")
    referrals, assistance, counts = [], [], {"referrals": 0, "assistance": 0}
    now = clock.now().date()
    query = sa.select(Case.id, Case.opened_at, Case.closed_at).order_by(Case.id)
    for case_id, opened_at, closed_at in db.session.execute(query.execution_options(yield_per=BATCH)):
        opened = opened_at.date()
        last = (closed_at.date() if closed_at else now)
        span = max(0, (last - opened).days)
        if rng.random() < REFERRAL_SHARE:
            referrals.append({"case_id": case_id, "institution_code": rng.choice(institutions),
                              "service_requested": placeholder,
                              "sent_at": opened + timedelta(days=rng.randint(0, span)),
                              "status": _pick(rng, STATUSES), "rejection_reason": None, "response_at": None,
                              "outcome": None, "contact": None, "created_by_id": None, "created_at": opened_at})
        if rng.random() < ASSISTANCE_SHARE:
            currency = rng.choice(["USD", "MXN", "GTQ", "EUR", None])
            assistance.append({"case_id": case_id, "kind": rng.choice(KINDS),
                               "given_on": opened + timedelta(days=min(span, int(rng.expovariate(1 / 4)))),
                               "provider": None, "amount_minor": rng.randint(1000, 300000) if currency else None,
                               "currency": currency, "funding_source": _pick(rng, FUNDS), "description": placeholder,
                               "created_by_id": None, "created_at": opened_at})
        if len(referrals) >= BATCH:
            counts["referrals"] += len(referrals)
            insert_rows(Referral, referrals)
            referrals = []
        if len(assistance) >= BATCH:
            counts["assistance"] += len(assistance)
            insert_rows(Assistance, assistance)
            assistance = []
    counts["referrals"] += len(referrals)
    counts["assistance"] += len(assistance)
    insert_rows(Referral, referrals)
    insert_rows(Assistance, assistance)
    return counts


def run(workspace) -> Section:
    section = Section(f"Dashboard: GET /estadisticas/ at {CASES:,} cases")
    path, population, seeded_seconds = workspace.seeded(CASES, SHAPE)
    app = workspace.app(path)
    app.test_client_class = IsolatedClient
    with app.app_context():
        started = time.perf_counter()
        extra = add_referrals_and_assistance(random.Random(SHAPE.seed + 7))
        db.session.commit()
        added = time.perf_counter() - started
        started = time.perf_counter()
        facts = rebuild(db.session.connection())
        db.session.commit()
        rebuilt = time.perf_counter() - started
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        open_cases = db.session.scalar(sa.select(sa.func.count()).select_from(CaseFact)
                                       .where(CaseFact.closed_on.is_(None)))
        size_mb = os.path.getsize(path) / 1024 / 1024
    workspace.log(f"  dashboard data: +{extra['referrals']:,} referrals, +{extra['assistance']:,} assistance in "
                  f"{added:.0f} s; case_facts rebuilt ({facts:,} rows) in {rebuilt:.0f} s")

    central = population.usernames[population.central_user_id]
    supervisor = population.usernames[population.staff[0].supervisor]
    scenarios = [
        ("central, all offices, last 12 months (default)", central, "/estadisticas/", True),
        ("supervisor, own office, last 12 months", supervisor, "/estadisticas/", True),
        ("central, all offices, 10 years", central, "/estadisticas/?desde=2016-12&hasta=2026-11", True),
        ("central, 12 months, women 18-59, one category", central, "/estadisticas/?sexo=F&edad=3&categoria=DET",
         True),
        ("central, 12 months, drill-down to Cortés", central, "/estadisticas/?departamento=05", True),
        ("central, monthly report, previous month", central, "/estadisticas/informe", False),
    ]
    clients = {}
    results = []
    for name, username, url, goal in scenarios:
        client = clients.get(username) or login(app, username)
        clients[username] = client
        for _ in range(WARM_UP):
            _get(client, url)
        gc.collect()
        samples = []
        for _ in range(TIMED):
            begin = time.perf_counter()
            _get(client, url)
            samples.append((time.perf_counter() - begin) * 1000)
        figures = Figures(samples)
        ok = figures.p95 <= GOAL_MS
        if goal:
            section.misses += not ok
        results.append([name, f"{figures.median:.0f}", f"{figures.p95:.0f}", verdict(ok) if goal else "-"])
    with app.app_context():
        db.engine.dispose()

    section.add(f"Each scenario: {WARM_UP} warm-up requests, then {TIMED} timed GETs through the Flask test client "
                "(in-process, logged-in session, SQLite file database); server-side time of the whole page.")
    section.add()
    section.add(table(["data", "value"], [
        ["cases", f"{population.counts.get('cases', CASES):,}"], ["open cases", f"{open_cases:,}"],
        ["years of history", SHAPE.years], ["persons", f"{population.counts.get('persons', 0):,}"],
        ["referrals", f"{extra['referrals']:,}"], ["assistance records", f"{extra['assistance']:,}"],
        ["case_facts rows", f"{facts:,}"], ["open tasks", f"{population.counts.get('open tasks', 0):,}"],
        ["database file", f"{size_mb:,.0f} MB"], ["seeding", f"{seeded_seconds:.0f} s"],
        ["case_facts rebuild (flask siproc stats rebuild)", f"{rebuilt:.0f} s"],
    ]))
    section.add()
    section.add(table(["scenario (ms)", "median", "p95", f"p95<={GOAL_MS:.0f}ms"], results))
    section.add()
    section.add("RESULT: " + ("PASS (every goal met)" if not section.misses else
                              f"MISS ({section.misses} goal(s) missed, see the table)"))
    return section


def _get(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response
