"""Reference catalogues (offices, municipalities, institutions, categories), their loader and admin pages."""


def init_app(app):
    from . import models  # noqa: F401  (register tables with the metadata)
    from .views import bp

    app.register_blueprint(bp)
