"""The case file: persons, cases, timeline, and the domain actions bound to forms."""


def init_app(app):
    from ..workflow.signals import instance_advanced
    from . import actions, models  # noqa: F401  (register actions and tables)
    from .services import follow_workflow
    from .views import bp

    app.register_blueprint(bp)
    instance_advanced.connect(follow_workflow, weak=False)
