"""Record ids typed into forms and URLs."""
import re

_ID = re.compile(r"^[0-9]{1,18}$")  # ASCII digits that fit a 64-bit integer column


def parse_id(value) -> int | None:
    """A positive database id from user input, or None (never an integer the database cannot hold)."""
    text = str(value).strip() if value is not None else ""
    return int(text) if _ID.match(text) and int(text) > 0 else None
