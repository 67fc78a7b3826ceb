"""Reference catalogues (offices, municipalities, institutions, categories) and their loader."""


def init_app(app):
    from . import models  # noqa: F401  (register tables with the metadata)
