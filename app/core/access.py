"""Access rules declared beside each route: `@rule("is_admin")` under `@bp.route(...)`.

A rule names who may reach the view: PUBLIC, AUTHENTICATED or a predicate of the user named in
app/auth/policy.py; `on=` names the object predicate (user, record) the view applies with `policy.check(record)`
once it has loaded the record. The policy enforces them, deny by default: a view without a rule is refused,
and the application does not start when a rule names an unknown predicate.
"""
PUBLIC = "public"
AUTHENTICATED = "authenticated"


def rule(name: str, *, on: str | None = None):
    """Declare the access rule of a view (it returns the view unchanged)."""
    def mark(view):
        view.access_rule, view.access_object_rule = name, on
        return view
    return mark


def rule_of(view) -> tuple[str | None, str | None]:
    """(rule, object rule) declared on a view function; (None, None) when it has none."""
    return getattr(view, "access_rule", None), getattr(view, "access_object_rule", None)
