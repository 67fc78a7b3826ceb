"""One inbox page issues the same SQL statements whatever the size of the queue (no per-row queries).

Open tasks are inserted in bulk with the benchmark's seed helpers (devtools/bench/seed.py): real cases, persons,
instances of the deployed process and human_tasks rows, without running the workflow engine.
"""
import random
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from devtools.bench.seed import Seeder, Staff

# Kinds of open task, mixed so that a page shows every kind of row: (which officer of the office is the
# case's officer, assigned?, step); None: an intake started but not registered yet (no case, offered).
KINDS = {
    "mine": (0, True, "Task_evaluacion"),  # officer 0 of TAP is oficial.tap
    "colleague": (1, True, "Task_atencion"),
    "offered": (0, False, "Task_seguimiento"),
    "supervisor": (1, True, "Task_aprobacion"),  # the supervisor's lane: assigned to the consul
    "intake": None,
}
SCENARIOS = [
    # who, query string, kinds of task in that view's scope, offices the tasks are spread over
    pytest.param("oficial.tap", {}, ["mine"], ["TAP"], id="officer-mis-tareas"),
    pytest.param("oficial.tap", {"vista": "oficina"}, ["offered", "intake"], ["TAP"], id="officer-mi-oficina"),
    pytest.param("consul.tap", {"vista": "todas"}, list(KINDS), ["TAP"], id="supervisor-todas"),
    pytest.param("analista", {"vista": "todas"}, list(KINDS), ["TAP", "HOU"], id="central-todas"),
]


def _staff(users, code) -> Staff:
    tag = code.lower()
    officers = [users[name].id for name in (f"oficial.{tag}", f"oficial2.{tag}") if name in users]
    return Staff(users[f"oficial.{tag}"].office_id, code, officers, users[f"consul.{tag}"].id)


def _add_open_tasks(seeder: Seeder, users, kinds, codes, start, count):
    """`count` open tasks of the given kinds, in turn, spread over the offices; one task per case."""
    for n in range(start, start + count):
        office = _staff(users, codes[n % len(codes)])
        kind = KINDS[kinds[n % len(kinds)]]
        opened = seeder.now - timedelta(days=n % 40, hours=n % 24)
        if kind is None:
            instance_id = seeder.instance(office, None, office.officers[0], opened, None)
            seeder.task(office, instance_id, None, "Task_registro", None, 0, opened, created_at=opened,
                        assigned=False)
            continue
        officer, assigned, step = kind
        person_id = seeder.person(opened, office.office_id, with_dni=n % 3 != 0)
        seeder.case(office, person_id, opened, None, category="DET" if n % 2 else "RET", specs=[step],
                    officer=office.officers[officer % len(office.officers)], assigned=assigned)
    seeder.flush()
    db.session.commit()


def _statements(client, query) -> tuple[list[str], str]:
    """The SQL statements one GET /tareas/ sends, and the page."""
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get("/tareas/", query_string=query)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return seen, response.get_data(as_text=True)


@pytest.mark.parametrize(("username", "query", "kinds", "codes"), SCENARIOS)
def test_an_inbox_page_sends_as_many_statements_for_500_tasks_as_for_10(app, users, login, username, query, kinds,
                                                                        codes):
    seeder = Seeder(random.Random(20261129))
    client = login(username)
    page_size = app.config["INBOX_PAGE_SIZE"]
    sent, done = {}, 0
    for total in (10, 500):
        _add_open_tasks(seeder, users, kinds, codes, done, total - done)
        done = total
        client.get("/tareas/", query_string=query)  # anything a first request loads once is not counted
        statements, html = _statements(client, query)
        assert html.count('data-testid="task-row"') == min(total, page_size)
        assert f"{total} tareas" in html
        sent[total] = statements
    assert len(sent[500]) == len(sent[10]), "\n".join(["10 tasks:", *sent[10], "500 tasks:", *sent[500]])
