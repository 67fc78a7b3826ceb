"""Indicator values on a hand-built case file, with the exact numbers a statistician would count by hand."""
from datetime import date, timedelta

from app.cases.models import Assistance, Case, Person
from app.core import clock
from app.extensions import db
from app.stats import indicators
from app.stats.facts import CaseFact, rebuild
from app.stats.indicators import Filters, distribution
from tests.helpers import utc

JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)


# casefile: the hand-built case file of tests/conftest.py (seven cases, T-1..T-7).


def test_every_indicator_on_the_hand_built_case_file(casefile):
    d = indicators.compute(Filters(start=JAN1, end=MAR31), now=utc(2026, 4, 2))
    assert d.opened_by_month == {202601: 1, 202602: 2, 202603: 2}  # case 7 counts in March, local time
    assert d.closed_by_month == {202601: 2, 202603: 1}
    assert (d.registered, d.closed, d.open_total) == (5, 3, 4)
    assert d.open_by_category == {"NNA": 2, "DET": 1, "SAL": 1}
    assert d.open_by_office == {casefile["TAP"].id: 3, casefile["HOU"].id: 1}
    assert d.open_by_sex_age == {("M", 2): 1, ("F", 1): 1, ("M", None): 1, ("M", 3): 1}
    assert d.by_department == {"08": 2, "05": 2, "01": 1}
    assert d.children == {True: 1, False: 1}
    assert d.days_to_close == {"n": 3, "median": 20, "mean": 31.7}  # 10, 20 and 65 days
    assert d.days_to_help == {"n": 2, "median": 3.5, "mean": 3.5}  # 2 and 5 days
    assert d.referrals == {("DGPHM", "aceptada"): 1, ("OFAMIR", "atendida"): 1}
    assert sorted((a["kind"], a["funding"], a["currency"], a["count"], a["amount"]) for a in d.assistance) == [
        ("alojamiento", "presupuesto_consular", "MXN", 1, 500.5), ("visita_consular", "FOSMIH", "USD", 1, 100.0)]


def test_filters_narrow_every_figure(casefile):
    tap = indicators.compute(Filters(start=JAN1, end=MAR31, office_ids=(casefile["TAP"].id,)))
    assert (tap.registered, tap.closed, tap.open_total) == (4, 2, 3)
    assert tap.referrals == {("DGPHM", "aceptada"): 1}
    women = indicators.compute(Filters(start=JAN1, end=MAR31, sex="F"))
    assert (women.registered, women.closed, women.open_total) == (2, 2, 1)
    assert [a["kind"] for a in women.assistance] == ["alojamiento", "visita_consular"]
    assert women.referrals == {}
    children = indicators.compute(Filters(start=JAN1, end=MAR31, age_band=2))
    assert (children.registered, children.children) == (1, {True: 1})
    nna = indicators.compute(Filters(start=JAN1, end=MAR31, category="NNA", department="05"))
    assert nna.by_municipality == {"0501": 1, "0502": 1}


def test_an_empty_period_gives_zeros_not_errors(casefile, login):
    d = indicators.compute(Filters(start=date(2020, 1, 1), end=date(2020, 2, 29)))
    assert (d.registered, d.closed, d.open_total) == (0, 0, 0)
    assert d.days_to_close == {"n": 0, "median": None, "mean": None}
    page = login("analista").get("/estadisticas/?desde=2020-01&hasta=2020-02")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="kpi-registered">0<' in html and "Sin datos." in html


def test_facts_follow_the_case_file(casefile):
    case = db.session.scalar(db.select(Case).where(Case.number == "T-2"))
    person = db.session.get(Person, case.person_id)
    person.origin_department_code, person.origin_municipality_code = "08", "0801"
    db.session.add(Assistance(case_id=case.id, kind="documentacion", given_on=date(2026, 2, 4),
                              description="Documentos."))
    case.closed_at, case.status = utc(2026, 2, 11, 15), "cerrado"
    db.session.commit()
    fact = db.session.get(CaseFact, case.id)
    assert (fact.department_code, fact.days_to_first_assistance, fact.days_to_close) == ("08", 3, 10)
    before = {f.case_id: (f.opened_on, f.closed_on, f.sex, f.age_band, f.unaccompanied, f.department_code,
                          f.days_to_first_assistance) for f in db.session.scalars(db.select(CaseFact))}
    assert rebuild(db.session.connection()) == len(before) == 7
    db.session.expire_all()
    after = {f.case_id: (f.opened_on, f.closed_on, f.sex, f.age_band, f.unaccompanied, f.department_code,
                         f.days_to_first_assistance) for f in db.session.scalars(db.select(CaseFact))}
    assert after == before  # the incremental upkeep and a full rebuild agree


def test_median_from_grouped_counts():
    assert distribution([(3, 1), (1, 1), (2, 1)]) == {"n": 3, "median": 2, "mean": 2.0}
    assert distribution([(1, 2), (10, 2)]) == {"n": 4, "median": 5.5, "mean": 5.5}
    assert distribution([]) == {"n": 0, "median": None, "mean": None}
    assert distribution([(None, 4)]) == {"n": 0, "median": None, "mean": None}


def test_overdue_tasks_per_office(app, login):
    from tests.helpers import register_case, single_open_task

    officer = login("oficial.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    assert task.due_at is not None
    today = clock.now().date()
    filters = Filters(start=today - timedelta(days=30), end=today)
    assert indicators.compute(filters).overdue_by_office == {}
    late = clock.as_utc(task.due_at) + timedelta(hours=1)
    d = indicators.compute(filters, now=late)
    assert d.overdue_by_office == {task.office_id: 1}
    assert indicators.compute(Filters(start=filters.start, end=today, sex="X"), now=late).overdue_by_office == {}
