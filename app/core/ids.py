"""Record ids typed into forms and URLs."""
import re

from werkzeug.routing import IntegerConverter

_ID = re.compile(r"^[0-9]{1,18}$")  # ASCII digits that fit a 64-bit integer column


def parse_id(value) -> int | None:
    """A positive database id from user input, or None (never an integer the database cannot hold)."""
    text = str(value).strip() if value is not None else ""
    return int(text) if _ID.match(text) and int(text) > 0 else None


MAX_ID = 10**18 - 1  # what parse_id accepts: 18 digits


class IdConverter(IntegerConverter):
    """The `<int:...>` of every URL, bounded: a number past MAX_ID does not match the route (404), so an id
    from the path never reaches the database as an integer it cannot hold (an OverflowError, a 500)."""

    def __init__(self, map, *args, **kwargs) -> None:
        super().__init__(map, *args, **kwargs)
        self.max = MAX_ID if self.max is None else min(self.max, MAX_ID)
