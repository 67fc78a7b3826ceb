"""Statistics pages and exports as supervisors, analysts and auditors meet them: scope, bad filters, exports."""
import csv
import io
import json
import re

import openpyxl
import pytest

from app.audit.models import AuditEvent
from app.cases.models import CONSENT_NAMED_EXPORT, Case, CaseConsent, Person
from app.extensions import db
from app.stats import indicators

PERIOD = "desde=2026-01&hasta=2026-03"


def _kpi(html, name):
    return re.search(rf'data-testid="kpi-{name}">([^<]*)<', html).group(1).strip()


def _audits(action):
    return [json.loads(e.details_json) for e in db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


@pytest.mark.parametrize("username,status", [("oficial.tap", 403), ("consul.tap", 200), ("analista", 200),
                                             ("gestor", 200), ("admin", 200)])
def test_who_reaches_the_dashboard(casefile, login, username, status):
    assert login(username).get(f"/estadisticas/?{PERIOD}").status_code == status


def test_central_users_see_every_office_and_supervisors_only_theirs(casefile, login):
    central = login("analista").get(f"/estadisticas/?{PERIOD}").get_data(as_text=True)
    assert (_kpi(central, "registered"), _kpi(central, "closed"), _kpi(central, "open")) == ("5", "3", "4")
    assert "Todas las oficinas" in central
    houston = login("consul.hou")
    html = houston.get(f"/estadisticas/?{PERIOD}").get_data(as_text=True)
    assert (_kpi(html, "registered"), _kpi(html, "closed"), _kpi(html, "open")) == ("1", "1", "1")
    assert "Consulado General en Houston" in html and "Consulado General en Tapachula" not in html
    refused = houston.get(f"/estadisticas/?{PERIOD}&oficina={casefile['TAP'].id}")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Solo puede ver las cifras de su oficina." in html and _kpi(html, "registered") == "1"
    tap_only = login("analista").get(f"/estadisticas/?{PERIOD}&oficina={casefile['TAP'].id}").get_data(as_text=True)
    assert _kpi(tap_only, "registered") == "4"


@pytest.mark.parametrize("query,message", [
    ("desde=2026-13", "El mes inicial «2026-13» no es válido"),
    ("hasta=marzo", "El mes final «marzo» no es válido"),
    ("desde=2026-05&hasta=2026-01", "El mes inicial es posterior al final"),
    ("categoria=XYZ", "La categoría «XYZ» no existe."),
    ("sexo=Q", "El sexo elegido no es válido."),
    ("edad=9", "El grupo de edad elegido no es válido."),
    ("oficina=abc", "La oficina elegida no existe."),
    ("departamento=99", "El departamento elegido no existe."),
])
def test_bad_filters_are_explained_and_ignored(casefile, login, query, message):
    response = login("analista").get(f"/estadisticas/?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_department_drill_down_lists_its_municipalities(casefile, login):
    html = login("analista").get(f"/estadisticas/?{PERIOD}&departamento=05").get_data(as_text=True)
    assert 'data-testid="table-municipio"' in html
    table = html.split('data-testid="table-municipio"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row" class="fw-normal">([^<]+)</th><td class="text-end">(\d+)</td>', table) == [
        ("San Pedro Sula", "1"), ("Choloma", "1")]
    assert "departamento=05" in html.split('data-testid="table-departamento"')[1].split("</table>")[0]


def test_case_list_export_is_audited_and_neutralises_formulas(casefile, login):
    person = db.session.get(Person, db.session.scalar(db.select(Case.person_id).where(Case.number == "T-1")))
    person.given_names = '=HYPERLINK("http://evil.example","x")'
    person.first_surname = "+1-2"
    db.session.add_all([CaseConsent(case_id=case_id, purpose=CONSENT_NAMED_EXPORT, given=True, source="registro")
                        for case_id in db.session.scalars(db.select(Case.id))])  # names shown: see test_consent_exports
    db.session.commit()
    response = login("analista").get(f"/estadisticas/casos.csv?{PERIOD}&sexo=F")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Nº de caso", "Oficina", "Categoría"]
    assert [r[0] for r in rows[1:-2]] == ["T-1", "T-3"] and rows[-2] == []  # then the footer row
    assert rows[1][8] == "'" + '=HYPERLINK("http://evil.example","x") +1-2'
    assert _audits("cases_exported")[-1]["casos"] == 2
    assert _audits("cases_exported")[-1]["filtros"]["sexo"] == "F"

    book = openpyxl.load_workbook(io.BytesIO(login("consul.tap").get(f"/estadisticas/casos.xlsx?{PERIOD}").data))
    sheet = book.worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [v[0] for v in values[1:-2]] == ["T-1", "T-2", "T-3", "T-7"]  # Tapachula only, then the footer
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert values[1][8].startswith("'=HYPERLINK")
    assert len(_audits("cases_exported")) == 2


@pytest.mark.parametrize("username", ["oficial.tap", "gestor", "admin"])
def test_only_supervisors_and_analysts_export_named_lists(casefile, login, username):
    assert login(username).get(f"/estadisticas/casos.csv?{PERIOD}").status_code == 403
    assert _audits("cases_exported") == []


def test_unknown_export_format_and_bad_filters_export_nothing(casefile, login):
    analyst = login("analista")
    missing = analyst.get(f"/estadisticas/casos.pdf?{PERIOD}")
    assert missing.status_code == 404 and "use csv o xlsx" in missing.get_data(as_text=True)
    bad = analyst.get("/estadisticas/casos.csv?desde=ayer")
    assert bad.status_code == 400 and "no es válido" in bad.get_data(as_text=True)
    assert _audits("cases_exported") == []


def test_publication_export_suppresses_small_counts(casefile, login):
    response = login("analista").get(f"/estadisticas/publicacion.xlsx?{PERIOD}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    by_sex = book.worksheets[1]
    values = [[c.value for c in row] for row in by_sex.iter_rows()]
    assert values[0] == ["Categoría", "Mujer", "Hombre", "No especificado", "Total"]
    for row in values[1:]:  # every count here is 1 to 4: nothing is published as a number but zeros
        assert all(v in ("<5", "*", "0", 0) for v in row[1:]), row
    assert _audits("statistics_exported")[-1]["cuadros"] == 6
    csv_text = login("analista").get(f"/estadisticas/publicacion.csv?{PERIOD}").get_data(as_text=True)
    assert "Las cifras de 1 a 4" in csv_text and "<5" in csv_text


def test_monthly_report_and_catalogue(casefile, login):
    analyst = login("analista")
    report = analyst.get(f"/estadisticas/informe?mes=2026-03&oficina={casefile['HOU'].id}")
    assert report.status_code == 200
    html = report.get_data(as_text=True)
    assert "Consulado General en Houston" in html and "del 01/03/2026 al 31/03/2026" in html
    summary = html.split('data-testid="report-summary"')[1].split("</table>")[0]
    assert re.findall(r'<td class="text-end">([^<]+)</td>', summary)[:3] == ["1", "1", "1"]
    assert analyst.get("/estadisticas/informe?mes=13-2026").status_code == 400
    catalogue = analyst.get("/estadisticas/indicadores").get_data(as_text=True)
    for indicator in indicators.CATALOGUE:
        assert f'id="{indicator.code}"' in catalogue


def test_a_table_that_would_reveal_counts_is_withheld_whole(app):
    from app.stats import disclosure, exports

    revealing = disclosure.protect("Cuadro", "Fila", ["a"], ["c1", "c2", "c3", "c4"], [[1, 1, 1, 1]])
    assert revealing.exposed  # four «<5» summing to a «<5» total can only be 1 each
    assert exports._published_rows(revealing) == [
        ["Cuadro omitido: con estas cifras no puede publicarse sin revelar casos individuales."]]
    fine = disclosure.protect("Cuadro", "Fila", ["a", "b"], ["c1", "c2"], [[10, 20], [30, 40]])
    assert exports._published_rows(fine) == [["Fila", "c1", "c2", "Total"], ["a", 10, 20, 30], ["b", 30, 40, 70],
                                            ["Total", 40, 60, 100]]
