"""Errors that carry a message for the user (Spanish, already translated)."""


class DomainError(Exception):
    """A refused action; the message is shown to the user and nothing is saved."""

    status_code = 400
    flash_category = "danger"
    keeps_changes = False  # True: what was flushed before the refusal is committed (e.g. a failed check that counts)

    def __init__(self, message, field_errors=None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class NotAllowed(DomainError):
    status_code = 403


class Conflict(DomainError):
    """Someone else changed the same record first."""

    status_code = 409


class InvalidForm(DomainError):
    """The submitted form has errors on its fields (shown beside them); nothing was saved."""

    status_code = 422
