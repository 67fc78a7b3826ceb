"""Hardened XML parsing for diagrams: no DTD, no entities, no network, bounded size."""
from lxml import etree

MAX_DIAGRAM_BYTES = 5 * 1024 * 1024


class UnsafeXML(ValueError):
    """The document is malformed or uses XML features we refuse (DOCTYPE, entities)."""


def parse_xml(data: bytes, filename: str = "diagrama"):
    """Parse untrusted XML bytes into an lxml tree, refusing DOCTYPEs and entities outright."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_DIAGRAM_BYTES:
        raise UnsafeXML(f"{filename}: el archivo supera el límite de {MAX_DIAGRAM_BYTES // (1024 * 1024)} MB")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXML(f"{filename}: XML mal formado ({exc.msg}, línea {exc.lineno})") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise UnsafeXML(f"{filename}: los documentos con DOCTYPE o entidades no se aceptan")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeXML(f"{filename}: los documentos con entidades no se aceptan")
    return tree
