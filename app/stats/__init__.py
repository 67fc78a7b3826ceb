"""Statistics: the case_facts projection, the indicator catalogue, the dashboard, reports and exports."""


def init_app(app):
    from . import facts  # noqa: F401  (register the table and the session hooks)
    from .views import bp

    app.register_blueprint(bp)
