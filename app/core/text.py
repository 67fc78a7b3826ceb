"""Text helpers shared by matching and search."""
import unicodedata


def normalize(text: str | None) -> str:
    """Lower-case, accent-free, single-spaced text for matching names."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


_KEPT_IN_TEXT = frozenset("\n\t")
_FILENAME_UNSAFE = frozenset('/\\"')  # path separators, and the quote that ends a Content-Disposition value


def strip_controls(text: str | None, keep: frozenset[str] | str = _KEPT_IN_TEXT) -> str:
    """The text without control and format characters (Unicode categories Cc and Cf): NUL, escapes, and the
    invisible bidirectional marks and overrides (U+202A–202E, U+2066–2069, U+200E/U+200F...) that make
    "factura\u202efdp.exe" read as "facturaexe.pdf". Characters in `keep` (new line and tab) stay; a carriage
    return becomes a new line first."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")  # line ends as a browser's textarea sends them
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf"))


def clean_filename(name: str | None, limit: int = 200) -> str:
    """A file name fit to store and to send: last path component, no control/format characters, no quotes or
    path separators, single-spaced and at most `limit` characters (the extension kept). "" when nothing is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = strip_controls(base, keep="")
    base = "".join(" " if ch in _FILENAME_UNSAFE else ch for ch in base)
    base = " ".join(base.split()).strip(" .")
    if len(base) > limit:
        stem, dot, extension = base.rpartition(".")
        base = (stem[: limit - len(extension) - 1] + dot + extension) if dot and len(extension) < 10 else base[:limit]
    return base
