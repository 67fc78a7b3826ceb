"""The one permission policy of SIPROC: named predicates, and the deny-by-default check of every request.

Each view declares its rule beside its route (`@rule(...)`, app/core/access.py); the rule names a predicate of
this module. Endpoint predicates take the user; object predicates take the user and the record the view loaded
(`check(record)` applies the view's own `on=` predicate). Templates ask `can("endpoint", record)`; the menu is
what `can` allows. This module imports no domain: what only a domain knows (an emergency access, a pending
transfer) reaches `can_view_case` through the read grants the domain registers (`grant_case_read`).
"""
from collections.abc import Callable

from flask import abort, current_app, request
from flask_login import current_user

from ..core.access import AUTHENTICATED, PUBLIC, rule_of
from . import roles

PREDICATES: dict[str, Callable[..., bool]] = {}
_CASE_READ_GRANTS: dict[str, Callable[..., bool]] = {}


def predicate(func):
    """Name a predicate (by its function name) so that rules can use it."""
    PREDICATES[func.__name__] = func
    return func


def grant_case_read(name: str, grant: Callable[..., bool]) -> None:
    """A domain adds a reason why `user` may read `case` outside its office (idempotent per name)."""
    _CASE_READ_GRANTS[name] = grant


# --- who the user is -------------------------------------------------------------------------------------

def has_role(user, *role_list: roles.Role) -> bool:
    return user.role in {role.code for role in role_list}


@predicate
def is_admin(user) -> bool:
    return has_role(user, roles.ADMIN)


@predicate
def is_process_owner(user) -> bool:
    return has_role(user, roles.GESTOR)


@predicate
def oversees_offices(user) -> bool:
    """Supervisors (their office) and central users (every office): supervision, statistics, cases by step."""
    return has_role(user, roles.SUPERVISOR) or user.is_central


@predicate
def reads_process_views(user) -> bool:
    return is_process_owner(user) or oversees_offices(user)


@predicate
def can_export_cases(user) -> bool:
    """Case-level exports: supervisors (their office) and central analysts."""
    return has_role(user, roles.SUPERVISOR, roles.ANALISTA)


@predicate
def can_start_case(user) -> bool:
    """Officers and supervisors open cases in their own office."""
    return has_role(user, roles.OFICIAL, roles.SUPERVISOR)


def sees_office(user, office_id) -> bool:
    return user.is_central or user.office_id == office_id


def supervises_office(user, office_id) -> bool:
    return has_role(user, roles.SUPERVISOR) and user.office_id == office_id


# --- what the user may do with a record ------------------------------------------------------------------

@predicate
def can_view_case(user, case) -> bool:
    """The case's office and central users; and whoever a domain grant lets in (an emergency access, the
    supervisors of an office a transfer is pending to)."""
    return sees_office(user, case.office_id) or any(grant(user, case) for grant in _CASE_READ_GRANTS.values())


@predicate
def can_edit_case(user, case) -> bool:
    """Officers and supervisors of the case's office add notes, documents, referral updates, person data."""
    return has_role(user, roles.OFICIAL, roles.SUPERVISOR) and user.office_id == case.office_id


@predicate
def can_override_consent(user, case) -> bool:
    """Only a supervisor of the case's office may authorise referrals without consent."""
    return supervises_office(user, case.office_id)


@predicate
def can_change_course(user, case) -> bool:
    """Reopening a closed case and changing its category: a supervisor of the case's office only (central users
    oversee the network but do not run its cases)."""
    return supervises_office(user, case.office_id)


@predicate
def oversees_case(user, case) -> bool:
    """Least privilege for who-saw-what: supervisors of the case's office and central users. Officers of the
    office, a supervisor of another office, an emergency access or a pending transfer do not grant it."""
    return user.is_central or supervises_office(user, case.office_id)


@predicate
def can_decide_transfer(user, transfer) -> bool:
    """Only a supervisor of the receiving office accepts or refuses a transfer."""
    return supervises_office(user, transfer.to_office_id)


@predicate
def can_work_task(user, human_task) -> bool:
    """Supervisors work any task of their office; a claimed task is its assignee's; an offered one goes to
    users whose role matches its lane in its office (central users: any office)."""
    if supervises_office(user, human_task.office_id):
        return True
    if human_task.assignee_id is not None:
        return human_task.assignee_id == user.id
    return human_task.role == user.role and sees_office(user, human_task.office_id)


@predicate
def can_view_task(user, human_task) -> bool:
    return can_work_task(user, human_task) or sees_office(user, human_task.office_id)


# --- enforcement -----------------------------------------------------------------------------------------

def _rules(endpoint):
    view = current_app.view_functions.get(endpoint)
    if endpoint == "static":
        return PUBLIC, None
    return rule_of(view) if view is not None else (None, None)


def allows(user, endpoint: str, record=None) -> bool:
    """Whether `user` may reach `endpoint` (and, when given, act on `record` with its object rule)."""
    name, on = _rules(endpoint)
    if name is None:
        return False
    if name != PUBLIC and not getattr(user, "is_authenticated", False):
        return False
    if name not in (PUBLIC, AUTHENTICATED) and not PREDICATES[name](user):
        return False
    return record is None or on is None or PREDICATES[on](user, record)


def can(endpoint: str, record=None) -> bool:
    """Template helper: may the current user reach `endpoint` (on `record`)?"""
    return allows(current_user, endpoint, record)


def check_request():
    """before_request hook: deny by default, require login unless the endpoint is public."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404/405 itself
    name, _on = _rules(request.endpoint)
    if name is None:
        abort(403)
    if name == PUBLIC:
        return None
    if not current_user.is_authenticated:
        from ..extensions import login_manager

        return login_manager.unauthorized()
    if name != AUTHENTICATED and not PREDICATES[name](current_user):
        abort(403)
    return None


def check(record) -> None:
    """Abort with 403 unless the current view's object rule allows the current user to act on `record`."""
    _name, on = _rules(request.endpoint)
    if on is None:
        raise RuntimeError(f"{request.endpoint} declares no object rule")
    require(PREDICATES[on](current_user, record))


def require(allowed: bool):
    """Abort with 403 unless the object rule allowed the action."""
    if not allowed:
        abort(403)


def validate_rules(app) -> None:
    """Fail at start-up when a view names a predicate that does not exist (a typo would refuse everyone)."""
    for endpoint, view in app.view_functions.items():
        for name in rule_of(view):
            if name is not None and name not in (PUBLIC, AUTHENTICATED) and name not in PREDICATES:
                raise RuntimeError(f"{endpoint}: unknown access predicate {name!r}")
