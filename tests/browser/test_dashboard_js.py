"""Headless Chromium: the dashboard charts script (app/static/js/dashboard.js with the vendored Chart.js) on its own.

No Flask app: a tiny threaded http.server serves a copy of app/static plus test pages that follow the page
contract of the dashboard (#dashboard-data JSON, <canvas data-chart> inside .chart-box, a table with the
numbers next to each chart) under the application's Content-Security-Policy. Any console error, script error
or CSP violation fails the test.
"""
import functools
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, BROWSER, assert_clean_console, security_policy

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "app" / "static"

pytestmark = BROWSER + [
    pytest.mark.skipif(not (STATIC / "vendor" / "chartjs").is_dir(),
                       reason="Chart.js is not installed in app/static/vendor (run make install)"),
]

MONTHS = ["ago 2025", "sep 2025", "oct 2025", "nov 2025", "dic 2025", "ene 2026"]
DEPARTMENTS = [("08", "Francisco Morazán", 1534), ("05", "Cortés", 1210), ("18", "Yoro", 402),
               ("15", "Olancho", 277), ("06", "Choluteca", 190), ("01", "Atlántida", 95), ("03", "Comayagua", 0)]
SPECS = [
    {"id": "casos-por-mes", "type": "bar", "title": "Casos registrados por mes", "labels": MONTHS,
     "datasets": [{"label": "Casos", "data": [12, 0, 7, 1500, 33, 21]}], "unit": "casos"},
    {"id": "casos-por-departamento", "type": "hbar", "title": "Casos por departamento de origen",
     "labels": [name for _, name, _ in DEPARTMENTS],
     "datasets": [{"label": "Casos", "data": [n for _, _, n in DEPARTMENTS]}], "unit": "casos",
     "link": {"param": "departamento", "values": [code for code, _, _ in DEPARTMENTS]}},
    {"id": "casos-por-categoria", "type": "doughnut", "title": "Casos por categoría",
     "labels": ["Detenidos", "Deportados", "NNA no acompañados", "Fallecidos", "Víctimas de trata"],
     "datasets": [{"label": "Casos", "data": [1234, 845, 310, 42, 17]}], "unit": "casos"},
    {"id": "casos-por-estado", "type": "stacked", "title": "Casos abiertos y cerrados por mes", "labels": MONTHS,
     "datasets": [{"label": "Abiertos", "data": [5, 3, 7, 2, 4, 6]},
                  {"label": "Cerrados", "data": [1, 2, 0, 4, 3, 1]}]},
    {"id": "sin-lienzo", "type": "line", "title": "Spec without a canvas", "labels": ["a"],
     "datasets": [{"label": "x", "data": [1]}]},
]


def table(spec) -> str:
    head = "".join(f"<th scope='col'>{d['label']}</th>" for d in spec["datasets"])
    rows = "".join(
        f"<tr><th scope='row'>{label}</th>" + "".join(f"<td>{d['data'][i]}</td>" for d in spec["datasets"]) + "</tr>"
        for i, label in enumerate(spec["labels"]))
    return (f"<table class='table table-sm'><caption>{spec['title']}</caption>"
            f"<thead><tr><th scope='col'>Período</th>{head}</tr></thead><tbody>{rows}</tbody></table>")


def chart_card(spec, tall=False) -> str:
    return f"""<div class="col-lg-6"><section class="card"><div class="card-body">
  <div class="chart-box{' tall' if tall else ''}">
    <canvas data-chart="{spec['id']}" role="img" aria-label="{spec['title']}"></canvas>
  </div>
  <details class="mt-2"><summary>Ver los datos</summary>{table(spec)}</details>
</div></section></div>"""


def dashboard_page(with_data=True, with_chartjs=True) -> str:
    data = (f'<script type="application/json" id="dashboard-data">{json.dumps({"charts": SPECS}, ensure_ascii=False)}'
            "</script>") if with_data else ""
    chartjs = '<script src="/static/vendor/chartjs/chart.umd.min.js"></script>' if with_chartjs else ""
    by_id = {spec["id"]: spec for spec in SPECS}
    return f"""<!doctype html>
<html lang="es">
<head>
  <meta charset="utf-8">
  <title>Estadísticas</title>
  <link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css">
  <link rel="stylesheet" href="/static/css/app.css">
  <link rel="stylesheet" href="/static/css/dashboard.css">
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<nav class="navbar navbar-dark bg-dark"><div class="container-xl"><span class="navbar-brand">SIPROC</span></div></nav>
<main class="container-xl py-3">
  <h1 class="h4">Estadísticas</h1>
  <form class="dashboard-filters mb-3" method="get"><label>Año <input name="anio" value="2026"></label></form>
  <div class="row g-3 mb-3">
    <div class="col"><div class="kpi">3,648</div><div class="kpi-label">Casos registrados</div></div>
    <div class="col"><div class="kpi">412</div><div class="kpi-label">Casos abiertos</div></div>
  </div>
  <div class="row g-3">
    {chart_card(by_id["casos-por-mes"])}
    {chart_card(by_id["casos-por-estado"])}
    {chart_card(by_id["casos-por-departamento"], tall=True)}
    {chart_card(by_id["casos-por-categoria"], tall=True)}
    <div class="col-12"><div class="chart-box">
      <canvas data-chart="sin-spec" role="img" aria-label="x"></canvas>
    </div></div>
  </div>
</main>
{data}
{chartjs}
<script src="/static/js/dashboard.js"></script>
</body>
</html>
"""


class StaticSite(http.server.SimpleHTTPRequestHandler):
    policy = ""

    def end_headers(self):
        self.send_header("Content-Security-Policy", self.policy)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboard")
    shutil.copytree(STATIC, root / "static")
    (root / "dashboard.html").write_text(dashboard_page(), encoding="utf-8")
    (root / "sin-datos.html").write_text(dashboard_page(with_data=False), encoding="utf-8")
    (root / "sin-chartjs.html").write_text(dashboard_page(with_chartjs=False), encoding="utf-8")
    handler = type("Handler", (StaticSite,), {"policy": security_policy()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()




@pytest.fixture
def browser_viewport():
    """The page size these charts were laid out and measured at."""
    return {"width": 1440, "height": 950}


def es_hn(page, value):
    return page.evaluate("v => new Intl.NumberFormat('es-HN').format(v)", value)


def test_dashboard_draws_every_chart_under_csp(site, page):
    page.goto(site + "/dashboard.html?anio=2026")
    page.wait_for_function("() => window.siprocCharts && Object.keys(window.siprocCharts).length === 4")
    charts = page.evaluate("""() => Object.fromEntries(Object.entries(window.siprocCharts).map(([id, c]) => [id, {
        type: c.config.type, indexAxis: c.options.indexAxis, canvas: c.canvas.dataset.chart,
        width: c.canvas.getBoundingClientRect().width, height: c.canvas.getBoundingClientRect().height,
        legend: c.options.plugins.legend.display, animation: c.options.animation,
        stacked: c.options.scales && c.options.scales.y
            ? [c.options.scales.x.stacked, c.options.scales.y.stacked] : null,
        colours: c.data.datasets.map(d => d.backgroundColor)}]))""")
    assert sorted(charts) == ["casos-por-categoria", "casos-por-departamento", "casos-por-estado", "casos-por-mes"]
    for chart_id, chart in charts.items():
        assert chart["canvas"] == chart_id
        assert chart["width"] > 0 and chart["height"] > 0, chart_id
        assert chart["animation"] is False
    assert charts["casos-por-mes"]["type"] == "bar" and charts["casos-por-mes"]["legend"] is False
    assert charts["casos-por-departamento"]["indexAxis"] == "y" and charts["casos-por-departamento"]["legend"] is False
    assert charts["casos-por-estado"]["stacked"] == [True, True] and charts["casos-por-estado"]["legend"] is True
    assert charts["casos-por-estado"]["colours"][0] != charts["casos-por-estado"]["colours"][1]
    assert charts["casos-por-categoria"]["type"] == "doughnut" and charts["casos-por-categoria"]["legend"] is True
    assert len(set(charts["casos-por-categoria"]["colours"][0])) == 5  # one colour per label
    # The container's CSS height: 260px, 420px for .tall.
    assert round(charts["casos-por-mes"]["height"]) == 260
    assert round(charts["casos-por-departamento"]["height"]) == 420
    # The canvas without a spec and the spec without a canvas are left alone.
    assert page.evaluate("Chart.getChart(document.querySelector('canvas[data-chart=\"sin-spec\"]')) === undefined")

    # Spanish (Honduras) number formatting and integer ticks.
    ticks = page.evaluate("window.siprocCharts['casos-por-mes'].scales.y.ticks.map(t => t.label)")
    assert es_hn(page, 1500) in ticks or es_hn(page, 1600) in ticks, ticks
    stacked_ticks = page.evaluate("window.siprocCharts['casos-por-estado'].scales.y.ticks.map(t => t.value)")
    assert stacked_ticks and all(float(v).is_integer() for v in stacked_ticks), stacked_ticks
    hbar_ticks = page.evaluate("window.siprocCharts['casos-por-departamento'].scales.x.ticks.map(t => t.value)")
    assert all(float(v).is_integer() for v in hbar_ticks), hbar_ticks

    # Tooltip of the first doughnut segment: label, formatted number, unit.
    point = page.evaluate("""() => {
        const c = window.siprocCharts['casos-por-categoria'], p = c.getDatasetMeta(0).data[0].tooltipPosition();
        const r = c.canvas.getBoundingClientRect();
        return {x: r.left + p.x, y: r.top + p.y};
    }""")
    page.mouse.move(point["x"], point["y"])
    page.wait_for_function("() => (window.siprocCharts['casos-por-categoria'].tooltip.body || []).length > 0")
    lines = page.evaluate("window.siprocCharts['casos-por-categoria'].tooltip.body[0].lines")
    assert lines == [f"Detenidos: {es_hn(page, 1234)} casos"]

    page.mouse.move(5, 5)
    page.screenshot(path=ARTIFACTS / "60-graficos.png", full_page=True)

    # Printing: every chart is resized before and after; navigation and filters are not printed.
    page.evaluate("""() => {
        window.__resized = {};
        Object.entries(window.siprocCharts).forEach(([id, c]) => {
            const resize = c.resize.bind(c);
            c.resize = (...args) => { window.__resized[id] = (window.__resized[id] || 0) + 1; return resize(...args); };
        });
    }""")
    page.emulate_media(media="print")
    page.evaluate("""() => {
        window.dispatchEvent(new Event('beforeprint'));
        window.dispatchEvent(new Event('afterprint'));
    }""")
    assert page.evaluate("window.__resized") == {chart_id: 2 for chart_id in charts}
    assert not page.locator("nav").is_visible() and not page.locator("form.dashboard-filters").is_visible()
    page.emulate_media(media="screen")
    assert_clean_console(page)


def test_linked_bar_drills_down(site, page):
    page.goto(site + "/dashboard.html?anio=2026")
    page.wait_for_function("() => window.siprocCharts && window.siprocCharts['casos-por-departamento']")
    point = page.evaluate("""() => {
        const c = window.siprocCharts['casos-por-departamento'], p = c.getDatasetMeta(0).data[0].getCenterPoint();
        return {x: p.x, y: p.y};
    }""")
    box = page.locator("canvas[data-chart='casos-por-departamento']").bounding_box()
    x, y = box["x"] + point["x"], box["y"] + point["y"]
    page.mouse.move(x, y)
    page.wait_for_function("() => window.siprocCharts['casos-por-departamento'].canvas.style.cursor === 'pointer'")
    # Charts without a link keep the default cursor.
    assert page.evaluate("window.siprocCharts['casos-por-mes'].canvas.style.cursor") in ("", "default")
    assert_clean_console(page)
    with page.expect_navigation():
        page.mouse.click(x, y)
    assert page.url == site + "/dashboard.html?anio=2026&departamento=08"
    page.wait_for_function("() => window.siprocCharts && Object.keys(window.siprocCharts).length === 4")
    assert_clean_console(page)


def test_page_without_data_does_nothing(site, page):
    page.goto(site + "/sin-datos.html")
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.evaluate("Object.keys(window.siprocCharts || {}).length") == 0
    assert page.evaluate("document.body.classList.contains('charts-unavailable')") is False
    assert_clean_console(page)
    # The CSP watch does see violations: an inline <style> element is refused.
    page.evaluate("""() => {
        const style = document.createElement('style');
        style.textContent = 'body { color: red; }';
        document.head.append(style);
    }""")
    page.wait_for_function("() => window.__csp.length > 0")
    assert page.evaluate("window.__csp")[0].startswith("style-src")


def test_page_without_chartjs_keeps_the_tables(site, page):
    page.goto(site + "/sin-chartjs.html")
    page.wait_for_selector("body.charts-unavailable", state="attached")
    assert page.evaluate("Object.keys(window.siprocCharts).length") == 0
    assert not page.locator(".chart-box").first.is_visible()
    page.locator("details summary").first.click()
    assert page.locator("table").first.is_visible()
    assert_clean_console(page)
