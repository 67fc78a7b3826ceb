"""The case file: persons, cases, timeline, and the domain actions bound to forms."""


def init_app(app):
    from ..workflow.signals import instance_advanced
    from . import actions, identity, models  # noqa: F401  (register actions, field checks and tables)
    from .retention_views import bp as retention_bp
    from .services import follow_workflow
    from .transfer_views import bp as transfers_bp
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(transfers_bp)
    app.register_blueprint(retention_bp)
    instance_advanced.connect(follow_workflow, weak=False)
