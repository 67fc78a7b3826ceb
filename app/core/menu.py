"""The navigation menu: each domain adds its entries when it registers; the page shows those the policy allows.

base.html renders `menu_entries` through `can(entry.endpoint)`, so a menu link and the rule of its route can
never disagree; entries in a `group` form one drop-down (shown when any of them is allowed).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: object  # a lazy gettext string
    order: int
    group: object = None  # label of the drop-down the entry belongs to
    active: tuple[str, ...] = ()  # endpoints that mark it active; one ending in "." or "_" is a prefix
    unless: str | None = None  # hidden when the user may reach this endpoint (a fuller entry covers it)

    def is_active(self, endpoint: str | None) -> bool:
        if not endpoint:
            return False
        return any(endpoint.startswith(mark) if mark[-1] in "._" else endpoint == mark
                   for mark in self.active or (self.endpoint,))


def add(app, *entries: Entry) -> None:
    app.extensions.setdefault("siproc_menu", []).extend(entries)


def init_app(app) -> None:
    @app.context_processor
    def _menu():
        entries = sorted(app.extensions.get("siproc_menu", []), key=lambda entry: entry.order)
        groups: dict = {}
        for entry in entries:
            if entry.group is not None:
                groups.setdefault(str(entry.group), []).append(entry)
        return {"menu_entries": [e for e in entries if e.group is None], "menu_groups": groups}
