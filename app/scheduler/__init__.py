"""The scheduler: timer sweeps, deadline notices and e-mail, one sweep at a time per database."""


def init_app(app):
    from . import models  # noqa: F401  (register the tables)
    from .views import bp

    app.register_blueprint(bp)
