"""HTML to PDF with WeasyPrint, fetching nothing: the documents SIPROC hands to people outside it (the referral
letter, the printable case file) are made here, from autoescaped templates, with every URL refused."""
import logging

logging.getLogger("fontTools").setLevel(logging.WARNING)  # WeasyPrint's font subsetting logs every table at DEBUG


def refuse_url(url):
    """WeasyPrint's url_fetcher: SIPROC's documents have no external resources, so every URL is refused (an image,
    a stylesheet or a file that user text smuggled in would otherwise be fetched by the server)."""
    raise ValueError(f"external resources are not allowed in SIPROC documents: {url[:80]!r}")


def html_to_pdf(html: str, css: str | None = None) -> bytes:
    """The PDF of `html` (and `css`, a stylesheet read by the caller); nothing is fetched."""
    import weasyprint  # loads pango: only when a document is made

    stylesheets = [weasyprint.CSS(string=css, url_fetcher=refuse_url)] if css else None
    return weasyprint.HTML(string=html, base_url=None, url_fetcher=refuse_url).write_pdf(stylesheets=stylesheets)
