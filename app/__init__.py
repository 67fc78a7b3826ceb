"""SIPROC: Sistema Integrado de Protección Consular."""
from pathlib import Path

from flask import Flask

from .config import PROJECT_ROOT, load_config


def create_app(config=None):
    """Build the Flask application; no database work, network or scheduler start happens here."""
    instance_path = (config or {}).get("INSTANCE_PATH") or PROJECT_ROOT / "instance"
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    load_config(app, config)
    from .core.ids import IdConverter

    app.url_map.converters["int"] = IdConverter  # ids in URLs bounded before any route is added
    if app.config["TRUSTED_PROXIES"]:  # behind N reverse proxies: the client's address, for the login lockout
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from .core import crypto, database, web
    from .extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    database.init_app(app)
    crypto.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "es")
    login_manager.init_app(app)

    from . import audit, auth, cases, modeler, notifications, ops, reference, scheduler, stats, tasks, workflow
    from .core import menu

    for package in (audit, reference, auth, workflow, cases, tasks, notifications, scheduler, modeler, stats, ops):
        package.init_app(app)
    web.init_app(app)
    menu.init_app(app)
    auth.policy.validate_rules(app)  # every route has a rule naming a known predicate, or the app does not start

    from .cli import register_cli

    register_cli(app)
    return app
