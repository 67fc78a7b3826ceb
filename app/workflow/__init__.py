"""The workflow engine: the only package that imports SpiffWorkflow."""


def init_app(app):
    from . import models  # noqa: F401  (register tables with the metadata)
