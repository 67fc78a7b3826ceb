"""Referral response times per institution: medians, answered within the deadline, answered through the link.

Referrals are written directly on the hand-built case file (tests/conftest.py `casefile`), with dates a
statistician would count by hand:

SENAF (case T-1, Tapachula, woman): answered after 2, 4 and 9 days (median 4), once through the link; deadlines
  met twice (once to the second), missed once; outcomes after 10 and 20 days (median 15); a fourth referral sent
  in March still within its deadline and unanswered (not yet counted for the deadline).
SEDH (case T-4, Houston, man): two referrals never answered, both deadlines passed on 2 April: 0 % within.
The case file also holds one DGPHM (T-2, Tapachula) and one OFAMIR (T-4, Houston) referral with no dates.
"""
import io
import json
import re
from datetime import date, timedelta

import openpyxl

from app.cases.models import Case, Referral
from app.core import clock
from app.extensions import db
from app.stats import disclosure, exports, indicators
from app.stats.indicators import Filters
from app.stats.panels import lookups
from tests.helpers import utc

JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)
APRIL2 = utc(2026, 4, 2)
PERIOD = "desde=2026-01&hasta=2026-03"


def _case(number):
    return db.session.scalar(db.select(Case).where(Case.number == f"T-{number}"))


def _referral(case, institution, sent, status, **fields):
    return Referral(case_id=case.id, institution_code=institution, service_requested="Servicio", sent_at=sent,
                    status=status, **fields)


def _build(casefile):
    t1, t4 = _case(1), _case(4)
    later = max(clock.now(), APRIL2) + timedelta(days=30)  # still ahead on 2 April and today
    db.session.add_all([
        _referral(t1, "SENAF", date(2026, 2, 1), "atendida", response_at=date(2026, 2, 3),
                  responded_at=utc(2026, 2, 3, 15), deadline_at=utc(2026, 2, 5), answered_via="tarea",
                  outcome_on=date(2026, 2, 11)),
        _referral(t1, "SENAF", date(2026, 2, 1), "atendida", response_at=date(2026, 2, 5),
                  responded_at=utc(2026, 2, 5, 15), deadline_at=utc(2026, 2, 5, 15), answered_via="enlace",
                  outcome_on=date(2026, 2, 21)),
        _referral(t1, "SENAF", date(2026, 2, 1), "rechazada", response_at=date(2026, 2, 10),
                  responded_at=utc(2026, 2, 10, 15), deadline_at=utc(2026, 2, 8), answered_via="caso"),
        _referral(t1, "SENAF", date(2026, 3, 20), "enviada", deadline_at=later),
        _referral(t4, "SEDH", date(2026, 3, 6), "sin_respuesta", deadline_at=utc(2026, 3, 13)),
        _referral(t4, "SEDH", date(2026, 3, 10), "enviada", deadline_at=utc(2026, 3, 17)),
    ])
    db.session.commit()


def _figures(t):
    return (t["sent"], t["answered"], t["response_days"]["median"], t["outcome_days"]["median"], t["on_time"],
            t["due"], t["on_time_pct"], t["via_link"], t["via_link_pct"])


def test_medians_deadline_and_link_shares_per_institution(casefile):
    _build(casefile)
    d = indicators.compute(Filters(start=JAN1, end=MAR31), now=APRIL2)
    times = d.referral_times
    assert set(times) == {"SENAF", "SEDH", "DGPHM", "OFAMIR"}
    assert _figures(times["SENAF"]) == (4, 3, 4, 15, 2, 3, 66.7, 1, 33.3)
    assert times["SENAF"]["response_days"]["n"] == 3 and times["SENAF"]["outcome_days"]["n"] == 2
    assert _figures(times["SEDH"]) == (2, 0, None, None, 0, 2, 0.0, 0, None)
    assert _figures(times["DGPHM"]) == (1, 0, None, None, 0, 0, None, 0, None)
    # all institutions together: 8 sent, answered after 2, 4, 9 days; 2 of 5 due within
    assert _figures(d.referral_times_total) == (8, 3, 4, 15, 2, 5, 40.0, 1, 33.3)


def test_a_deadline_counts_only_once_answered_or_passed(casefile):
    _build(casefile)
    before = indicators.compute(Filters(start=JAN1, end=MAR31), now=utc(2026, 3, 12)).referral_times
    assert (before["SEDH"]["due"], before["SEDH"]["on_time_pct"]) == (0, None)  # both still within their deadline
    between = indicators.compute(Filters(start=JAN1, end=MAR31), now=utc(2026, 3, 14)).referral_times
    assert (between["SEDH"]["on_time"], between["SEDH"]["due"]) == (0, 1)
    assert between["SENAF"]["due"] == 3  # the March referral is still within its deadline


def test_filters_change_the_figures(casefile):
    _build(casefile)
    tap = indicators.compute(Filters(start=JAN1, end=MAR31, office_ids=(casefile["TAP"].id,)), now=APRIL2)
    assert set(tap.referral_times) == {"SENAF", "DGPHM"}
    assert _figures(tap.referral_times["SENAF"]) == (4, 3, 4, 15, 2, 3, 66.7, 1, 33.3)
    hou = indicators.compute(Filters(start=JAN1, end=MAR31, office_ids=(casefile["HOU"].id,)), now=APRIL2)
    assert set(hou.referral_times) == {"SEDH", "OFAMIR"}
    assert _figures(hou.referral_times_total) == (3, 0, None, None, 0, 2, 0.0, 0, None)
    february = indicators.compute(Filters(start=date(2026, 2, 1), end=date(2026, 2, 28)), now=APRIL2)
    assert set(february.referral_times) == {"SENAF", "DGPHM"}
    assert february.referral_times["SENAF"]["sent"] == 3  # the March referral is outside the period
    men = indicators.compute(Filters(start=JAN1, end=MAR31, sex="M"), now=APRIL2)  # T-1 is a woman's case
    assert "SENAF" not in men.referral_times and men.referral_times["SEDH"]["sent"] == 2


def _panel_rows(html):
    table = html.split('data-testid="table-tiempos-remisiones"')[1].split("</table>")[0]
    rows = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = [c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def test_dashboard_panel_chart_and_table(casefile, login):
    _build(casefile)
    analyst = login("analista")
    page = analyst.get(f"/estadisticas/?{PERIOD}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="tiempos-remisiones"' in html and 'data-chart="tiempos-remisiones"' in html
    rows = _panel_rows(html)
    assert rows["Institución"] == ["Remisiones", "Respondidas", "Mediana días respuesta", "Mediana días resultado",
                                   "% dentro del plazo", "% por el enlace"]
    assert rows["SENAF"] == ["4", "3", "4", "15", "66.7 % (2 de 3)", "33.3 % (1 de 3)"]
    assert rows["SEDH"] == ["2", "0", "—", "—", "0 % (0 de 2)", "—"]
    assert rows["Total"] == ["8", "3", "4", "15", "40 % (2 de 5)", "33.3 % (1 de 3)"]
    charts = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', html, re.S).group(1))["charts"]
    chart = next(c for c in charts if c["id"] == "tiempos-remisiones")
    assert chart["labels"][:2] == ["SENAF", "SEDH"]
    assert [ds["data"][:2] for ds in chart["datasets"]] == [[4, None], [15, None]]

    houston = _panel_rows(analyst.get(f"/estadisticas/?{PERIOD}&oficina={casefile['HOU'].id}")
                          .get_data(as_text=True))
    assert "SENAF" not in houston and houston["SEDH"] == ["2", "0", "—", "—", "0 % (0 de 2)", "—"]
    february = _panel_rows(analyst.get("/estadisticas/?desde=2026-02&hasta=2026-02").get_data(as_text=True))
    assert "SEDH" not in february and february["SENAF"][:2] == ["3", "3"]
    assert february["SENAF"][4] == "66.7 % (2 de 3)"


def test_catalogue_defines_the_new_indicators(casefile, login):
    html = login("analista").get("/estadisticas/indicadores").get_data(as_text=True)
    for code, name in [("remisiones_dias_respuesta", "Mediana de días hasta la respuesta"),
                       ("remisiones_dias_resultado", "Mediana de días hasta el resultado"),
                       ("remisiones_dentro_plazo", "Respondidas dentro del plazo"),
                       ("remisiones_por_enlace", "Respondidas por el enlace")]:
        assert f'id="{code}"' in html and name in html
        assert "MEDIAN" in indicators.BY_CODE[code].formula or "COUNT" in indicators.BY_CODE[code].formula


def test_small_bases_are_hidden_in_the_published_figures():
    assert disclosure.median_cell(0, None) == "—"
    assert disclosure.median_cell(4, 7) == "<5"
    assert disclosure.median_cell(5, 3) == "3" and disclosure.median_cell(6, 4.5) == "4.5"
    assert disclosure.share_cell(0, 0) == "—"
    assert disclosure.share_cell(2, 3) == "<5"  # base of 3
    assert disclosure.share_cell(2, 10) == "<5"  # 2 referrals would be given away
    assert disclosure.share_cell(8, 10) == "<5"  # and so would the other 2
    assert disclosure.share_cell(0, 6) == "0" and disclosure.share_cell(6, 6) == "100"
    assert disclosure.share_cell(5, 15) == "33.3"


def test_publication_export_includes_the_times_with_small_bases_hidden(casefile, login):
    _build(casefile)
    t2 = _case(2)
    for days in (1, 2, 3, 4, 5):  # five RNP referrals answered after 1..5 days, none through the link
        db.session.add(_referral(t2, "RNP", date(2026, 2, 2), "aceptada", response_at=date(2026, 2, 2 + days),
                                 responded_at=utc(2026, 2, 2 + days, 15), answered_via="tarea"))
    db.session.commit()
    table = exports.referral_times_table(Filters(start=JAN1, end=MAR31), lookups(), now=APRIL2)
    rows = {row[0]: row[1:] for row in table.body}
    assert rows["RNP"] == ["3", "—", "—", "0"]
    assert rows["SENAF"] == ["<5", "<5", "<5", "<5"]  # 3 answered, 2 with an outcome, 3 due: all too few
    assert rows["SEDH"] == ["—", "—", "<5", "—"]

    response = login("analista").get(f"/estadisticas/publicacion.xlsx?{PERIOD}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = next(ws for ws in book.worksheets if ws.title.startswith("6 "))
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Institución", "Mediana de días hasta la respuesta", "Mediana de días hasta el resultado",
                         "% respondidas dentro del plazo", "% respondidas por el enlace"]
    published = {row[0]: row[1:] for row in values[1:] if row[0] in ("RNP", "SENAF")}
    assert published == {"RNP": [3, "—", "—", 0], "SENAF": ["<5", "<5", "<5", "<5"]}
    csv_text = login("analista").get(f"/estadisticas/publicacion.csv?{PERIOD}").get_data(as_text=True)
    assert "Tiempos de respuesta de las remisiones por institución" in csv_text


def test_a_referral_withdrawn_without_answer_does_not_count_against_the_deadline(casefile):
    t4 = _case(4)
    db.session.add_all([
        _referral(t4, "ACNUR", date(2026, 3, 6), "revocada", deadline_at=utc(2026, 3, 13)),
        _referral(t4, "ACNUR", date(2026, 3, 6), "rechazada", response_at=date(2026, 3, 8),
                  responded_at=utc(2026, 3, 8, 12), deadline_at=utc(2026, 3, 13), answered_via="enlace"),
    ])
    db.session.commit()
    times, _total = indicators._referral_times(Filters(start=JAN1, end=MAR31), APRIL2)
    acnur = times["ACNUR"]
    assert (acnur["sent"], acnur["due"], acnur["on_time"], acnur["on_time_pct"]) == (2, 1, 1, 100.0)
    assert acnur["via_link_pct"] == 100.0
