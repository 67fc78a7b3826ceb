"""Headless Chromium against the real app: the statistics dashboard, its drill-down and the printable report."""
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.reference.models import Office
from tests.browser import test_smoke
from tests.browser.test_smoke import ARTIFACTS, page  # noqa: F401  (pytest fixture)
from tests.conftest import PASSWORD, make_app
from tests.stats.test_indicators import _case, utc

pytestmark = test_smoke.pytestmark


@pytest.fixture
def stats_server(template_db, tmp_path):
    shutil.copyfile(template_db, tmp_path / "live.db")
    app = make_app(tmp_path / "live.db", tmp_path, WTF_CSRF_ENABLED=True, SERVER_NAME=None, TESTING=False)
    with app.app_context():
        offices = {o.code: o for o in db.session.scalars(db.select(Office))}
        _case(1, offices["TAP"], "DET", "F", 30, utc(2026, 1, 10, 15), utc(2026, 1, 20, 15), "08", "0801")
        _case(2, offices["TAP"], "NNA", "M", 15, utc(2026, 2, 1, 15), None, "05", "0501", alone=True)
        _case(3, offices["TAP"], "NNA", "F", 8, utc(2026, 2, 15, 15), None, "05", "0502")
        _case(4, offices["HOU"], "REP", "M", 61, utc(2026, 3, 5, 15), utc(2026, 3, 25, 15), "08", "0801")
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_analyst_reads_the_dashboard_drills_down_and_prints_the_report(stats_server, page):  # noqa: F811
    page.goto(stats_server + "/login")
    page.fill("#username", "analista")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
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
    assert page.errors == []
