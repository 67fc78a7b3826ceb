"""The task inbox: officers' pending user tasks, each a form."""


def init_app(app):
    from .views import bp

    app.register_blueprint(bp)
