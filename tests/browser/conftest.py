"""Browser tests: Debian's Chromium driven by Playwright, against the real app (`live_server`) or a static test site.

Fixtures: `live_app` (an app on a copy of the template database, CSRF on, production cookie flags), `live_server`
(that app served on 127.0.0.1, a free port), `page` (a fresh Chromium page that collects console errors, script
errors and Content-Security-Policy violations; `browser_viewport` sets its size). Helpers: `serve`, `log_in`,
`assert_clean_console`, `security_policy`. Every browser module sets `pytestmark = BROWSER`.
"""
import contextlib
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, POSTGRESQL, make_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(bool(POSTGRESQL), reason="browser tests run in the SQLite pass (the UI is the same)"),
]

# Collects what the console does not always show: CSP violations of the current document.
CSP_LISTENER = """
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', e =>
        window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')));
"""


# ----------------------------------------------------------------------------- the app, served
@pytest.fixture
def live_app(template_db, tmp_path):
    """An app on its own copy of the template database, as in production: CSRF on, no SERVER_NAME, not TESTING."""
    shutil.copyfile(template_db, tmp_path / "live.db")
    return make_app(tmp_path / "live.db", tmp_path, WTF_CSRF_ENABLED=True, SERVER_NAME=None, TESTING=False)


@contextlib.contextmanager
def serve(app):
    """Serve the app on 127.0.0.1 (a free port, threaded) while the block runs; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def live_server(live_app):
    with serve(live_app) as base:
        yield base


# ----------------------------------------------------------------------------- the browser
@pytest.fixture
def browser_viewport():
    return {"width": 1280, "height": 900}


@pytest.fixture
def page(browser_viewport):
    """A new headless Chromium page (locale es-HN). page.errors collects console errors and uncaught script
    errors; window.__csp the CSP violations of the current document (see assert_clean_console)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport=browser_viewport, locale="es-HN")
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        page.add_init_script(CSP_LISTENER)
        page.errors = errors
        yield page
        browser.close()


def log_in(page, base, username, password=PASSWORD):
    """Log in through the login form, as a user types it."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def assert_clean_console(page, allowed=()):
    """No console error, no script error (except messages containing one of `allowed`), no CSP violation."""
    errors = [e for e in page.errors if not any(a in e for a in allowed)]
    assert errors == [], errors
    assert page.evaluate("window.__csp") == []


def security_policy() -> str:
    """The Content-Security-Policy of app/core/web.py, plus font-src data: (bpmn-font is embedded as data:)."""
    source = (ROOT / "app" / "core" / "web.py").read_text(encoding="utf-8")
    match = re.search(r'"Content-Security-Policy",\s*((?:"[^"]*"\s*)+)', source)
    assert match, "Content-Security-Policy not found in app/core/web.py"
    policy = "".join(re.findall(r'"([^"]*)"', match.group(1)))
    if "font-src" not in policy:
        policy = policy.rstrip("; ") + "; font-src 'self' data:"
    return policy
