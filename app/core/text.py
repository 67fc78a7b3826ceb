"""Text helpers shared by matching and search."""
import unicodedata


def normalize(text: str | None) -> str:
    """Lower-case, accent-free, single-spaced text for matching names."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())
