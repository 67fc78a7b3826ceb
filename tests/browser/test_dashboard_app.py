"""Headless Chromium against the real app: the statistics dashboard, its drill-down and the printable report."""
import pytest

from app.extensions import db
from app.reference.models import Office
from tests.browser.conftest import ARTIFACTS, BROWSER, assert_clean_console, log_in, serve
from tests.helpers import build_case, utc

pytestmark = BROWSER


@pytest.fixture
def stats_server(live_app):
    with live_app.app_context():
        offices = {o.code: o for o in db.session.scalars(db.select(Office))}
        build_case(1, offices["TAP"], "DET", "F", 30, utc(2026, 1, 10, 15), utc(2026, 1, 20, 15), "08", "0801")
        build_case(2, offices["TAP"], "NNA", "M", 15, utc(2026, 2, 1, 15), None, "05", "0501", alone=True)
        build_case(3, offices["TAP"], "NNA", "F", 8, utc(2026, 2, 15, 15), None, "05", "0502")
        build_case(4, offices["HOU"], "REP", "M", 61, utc(2026, 3, 5, 15), utc(2026, 3, 25, 15), "08", "0801")
        db.session.commit()
        db.session.remove()
    with serve(live_app) as base:
        yield base


def test_analyst_reads_the_dashboard_drills_down_and_prints_the_report(stats_server, page):
    log_in(page, stats_server, "analista")
    page.click("text=Estadísticas")
    page.goto(stats_server + "/estadisticas/?desde=2026-01&hasta=2026-03")
    assert page.locator("[data-testid=kpi-registered]").inner_text() == "4"
    drawn = page.evaluate("Object.keys(window.siprocCharts).sort()")
    assert {"casos-por-mes", "abiertos-categoria", "departamento", "nna"} <= set(drawn)
    page.screenshot(path=ARTIFACTS / "61-tablero.png", full_page=True)

    # Drill-down from a department bar (the script) to its municipalities.
    page.locator("canvas[data-chart=departamento]").scroll_into_view_if_needed()
    box = page.locator("canvas[data-chart=departamento]").bounding_box()
    point = page.evaluate("""() => {
        const chart = window.siprocCharts['departamento'];
        const labels = chart.data.labels;
        const bar = chart.getDatasetMeta(0).data[labels.indexOf('Cortés')];
        return {x: bar.getCenterPoint().x, y: bar.getCenterPoint().y};
    }""")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_url("**departamento=05**")
    assert "Municipios de Cortés" in page.locator("#h-municipio").inner_text()
    page.locator("#municipio summary").click()
    assert "San Pedro Sula" in page.locator("[data-testid=table-municipio]").inner_text()
    page.locator("#municipio").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "62-municipios.png")

    page.click("text=Informe mensual")
    page.fill("#f-mes", "2026-02")
    page.click("form.dashboard-filters button")
    assert "del 01/02/2026 al 28/02/2026" in page.locator("[data-testid=report-scope]").inner_text()
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible() and not page.locator("form.dashboard-filters").is_visible()
    assert page.locator("[data-testid=report-summary]").is_visible()
    page.screenshot(path=ARTIFACTS / "63-informe-impresion.png", full_page=True)
    assert_clean_console(page)
