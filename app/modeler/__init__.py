"""Process owners: edit, validate and publish diagrams and forms in the browser; see cases on diagrams."""


def init_app(app):
    from . import models  # noqa: F401  (register the tables)
    from .form_views import bp as forms_bp
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(forms_bp)
