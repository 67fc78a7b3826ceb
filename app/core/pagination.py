"""Offset pagination with a page number that is always valid."""
from dataclasses import dataclass

from ..extensions import db


@dataclass
class Page:
    items: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def parse_page(raw) -> int:
    """Page number from the URL; anything that is not a positive integer means page 1."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return number if number >= 1 else 1


def page_number(raw_page, total, size) -> int:
    """The page to show: the one asked for, or the last one when it is past the end."""
    return min(parse_page(raw_page), max(1, -(-total // size)))


def paginate(query, raw_page, size) -> Page:
    """Run a select for one page (one count query, one page query); a page past the end shows the last."""
    total = db.session.scalar(db.select(db.func.count()).select_from(query.order_by(None).subquery()))
    number = page_number(raw_page, total, size)
    page_query = query.limit(size).offset((number - 1) * size)
    if len(query.column_descriptions) > 1:
        items = db.session.execute(page_query).all()
    else:
        items = db.session.scalars(page_query).unique().all()
    return Page(items, number, size, total)
