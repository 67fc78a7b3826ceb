"""Notifications: reminders and deadline notices, in the app (the bell) and by e-mail."""


def init_app(app):
    from ..workflow.signals import instance_advanced
    from . import models  # noqa: F401  (register the table)
    from .rules import on_instance_advanced
    from .views import bp

    app.register_blueprint(bp)
    instance_advanced.connect(on_instance_advanced, weak=False)
