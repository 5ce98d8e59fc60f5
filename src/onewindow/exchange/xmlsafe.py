"""Parsing XML that arrives from outside: from partners, traders and files.

Everything a partner sends is parsed here and nowhere else. The size is checked before the
parser sees a byte; the parser never expands entities, reads a DTD or touches the network; and
any document type declaration is refused outright, because our documents never need one and
every entity attack (billion laughs, quadratic blow-up, XXE over file:// or http://) needs one.
"""

from __future__ import annotations

from lxml import etree

from onewindow.kit.errors import invalid

MAX_BYTES = 2 * 1024 * 1024
_PATH = "document"
# Byte markers of a DTD in the encodings a partner may use. The parse result is checked as
# well, so this only spares us parsing something we are going to refuse anyway.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


class _Nothing(etree.Resolver):
    """Answers every request for an external DTD or entity with nothing. The parser options
    already forbid loading them; this holds even if an option stops meaning what it says
    (with lxml 6.1, `collect_ids=False` makes libxml2 load external DTDs again)."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        return self.resolve_string("", context)


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
    )
    parser.resolvers.add(_Nothing())
    return parser


def parse(data: bytes, *, max_bytes: int = MAX_BYTES) -> etree._Element:
    """The root element of `data`; InvalidInput (too_large, malformed_xml, forbidden_dtd)
    if it is too big, not well-formed or declares a document type."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise invalid(_PATH, "malformed_xml", "the document must be bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise invalid(
            _PATH, "too_large", f"the document has {len(data)} bytes; at most {max_bytes} allowed"
        )
    if any(marker in data for marker in _DTD_MARKERS):
        raise _forbidden()
    if not data.strip():
        raise invalid(_PATH, "malformed_xml", "the document is empty")
    try:
        # A fresh parser per call: lxml parsers keep state and are not thread-safe.
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise invalid(_PATH, "malformed_xml", f"not well-formed XML: {exc}") from exc
    except ValueError as exc:  # e.g. an encoding lxml does not know
        raise invalid(_PATH, "malformed_xml", f"not readable XML: {exc}") from exc
    if root is None:
        raise invalid(_PATH, "malformed_xml", "the document has no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _forbidden()
    if next(root.iter(etree.Entity), None) is not None:
        raise _forbidden()
    return root


def _forbidden() -> Exception:
    return invalid(_PATH, "forbidden_dtd", "document type and entity declarations are not allowed")
