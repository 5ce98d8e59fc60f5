"""Hostile XML: entity attacks, external entities, oversized, deep and malformed input."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from onewindow.exchange import xmlsafe
from onewindow.kit.errors import InvalidInput

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""

QUADRATIC = b'<!DOCTYPE a [<!ENTITY x "' + b"A" * 50_000 + b'">]><a>' + b"&x;" * 5_000 + b"</a>"


def xxe_file(path: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{path}">]><a>&x;</a>'
    ).encode()


def code(data: bytes, **options: int) -> str:
    with pytest.raises(InvalidInput) as exc:
        xmlsafe.parse(data, **options)
    assert len(exc.value.errors) == 1
    return exc.value.errors[0].code


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-TOKEN")
    return path


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def connected(server: socket.socket) -> bool:
    time.sleep(0.05)
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def test_plain_document_parses() -> None:
    root = xmlsafe.parse(b'<?xml version="1.0"?><a xmlns="urn:x"><b>text</b></a>')
    assert root.tag == "{urn:x}a"
    assert root[0].text == "text"


def test_utf16_document_parses() -> None:
    root = xmlsafe.parse('<?xml version="1.0" encoding="UTF-16"?><a>é</a>'.encode("utf-16"))
    assert root.text == "é"


def test_billion_laughs_is_refused_quickly() -> None:
    start = time.perf_counter()
    assert code(BILLION_LAUGHS) == "forbidden_dtd"
    assert time.perf_counter() - start < 1


def test_quadratic_blowup_is_refused() -> None:
    assert code(QUADRATIC) == "forbidden_dtd"


def test_external_file_entity_is_refused(secret: Path) -> None:
    assert code(xxe_file(secret)) == "forbidden_dtd"


def test_external_http_entity_and_dtd_are_refused(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}/evil.dtd"
    attacks = [
        f'<!DOCTYPE a [<!ENTITY x SYSTEM "{url}">]><a>&x;</a>',
        f'<!DOCTYPE a [<!ENTITY % p SYSTEM "{url}"> %p;]><a/>',
        f'<!DOCTYPE a SYSTEM "{url}"><a/>',
    ]
    for attack in attacks:
        assert code(attack.encode()) == "forbidden_dtd"
    assert not connected(listener)


def test_parser_alone_neither_expands_nor_fetches(
    secret: Path, listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the byte pre-check, the parser settings and the DOCTYPE check still hold."""
    monkeypatch.setattr(xmlsafe, "_DTD_MARKERS", ())
    port = listener.getsockname()[1]
    # libxml2's own amplification limit may stop the laughs first; refused either way.
    assert code(BILLION_LAUGHS) in {"forbidden_dtd", "malformed_xml"}
    assert code(QUADRATIC) in {"forbidden_dtd", "malformed_xml"}
    assert code(xxe_file(secret)) == "forbidden_dtd"
    external = f'<!DOCTYPE a SYSTEM "http://127.0.0.1:{port}/x.dtd"><a/>'.encode()
    assert code(external) == "forbidden_dtd"
    # What the parser itself makes of them: entity references left unexpanded, nothing read.
    for attack in (xxe_file(secret), external):
        text = etree.tostring(etree.fromstring(attack, parser=xmlsafe._parser()))
        assert b"TOP-SECRET" not in text
    assert not connected(listener)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_doctype_in_other_encodings_is_refused(encoding: str, secret: Path) -> None:
    attack = f'<?xml version="1.0" encoding="{encoding.upper()}"?>' + xxe_file(secret).decode()
    attack = attack.replace('<?xml version="1.0"?>', "")
    assert code(attack.encode(encoding)) == "forbidden_dtd"


def test_size_is_checked_before_parsing() -> None:
    limit = xmlsafe.MAX_BYTES
    filler = b"<a>" + b"x" * (limit - 7) + b"</a>"
    assert len(filler) == limit
    assert xmlsafe.parse(filler).tag == "a"
    assert code(filler + b" ") == "too_large"
    # Over the limit, even garbage is refused as too large: the parser never sees it.
    assert code(b"\x00" * (limit + 1)) == "too_large"
    assert code(b"<a>12345</a>", max_bytes=10) == "too_large"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"hello",
        b"<a><b></a>",
        b"<a>&undefined;</a>",
        b"<a>\x00</a>",
        b"<a/><b/>",
        b"<a",
        "<?xml version='1.0' encoding='cp500'?><a/>".encode("cp500"),
        b"<!doctype a><a/>",
    ],
    ids=lambda d: repr(d[:20]),
)
def test_malformed_is_refused(data: bytes) -> None:
    assert code(data) == "malformed_xml"


def test_deep_nesting_is_refused() -> None:
    assert code(b"<a>" * 10_000 + b"</a>" * 10_000) == "malformed_xml"


def test_non_bytes_are_refused() -> None:
    assert code("<a/>") == "malformed_xml"  # type: ignore[arg-type]


def test_xinclude_is_not_processed(secret: Path) -> None:
    data = (
        '<a xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="file://{secret}" parse="text"/></a>'
    ).encode()
    root = xmlsafe.parse(data)
    assert b"TOP-SECRET" not in etree.tostring(root)


def test_error_carries_a_problem_body() -> None:
    with pytest.raises(InvalidInput) as exc:
        xmlsafe.parse(BILLION_LAUGHS)
    problem = exc.value.problem()
    assert problem["status"] == 422
    assert problem["errors"] == [
        {
            "path": "document",
            "code": "forbidden_dtd",
            "message": "document type and entity declarations are not allowed",
        }
    ]


def test_external_dtd_file_is_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY x "TOP-SECRET-TOKEN">')
    doc = f'<!DOCTYPE a SYSTEM "file://{dtd}"><a>&x;</a>'.encode()
    monkeypatch.setattr(xmlsafe, "_DTD_MARKERS", ())
    assert code(doc) == "forbidden_dtd"
    tree = etree.fromstring(doc, parser=xmlsafe._parser())
    assert tree.getroottree().docinfo.externalDTD is None
    assert b"TOP-SECRET" not in etree.tostring(tree)


def test_resolver_answers_nothing_even_if_options_let_the_dtd_through(tmp_path: Path) -> None:
    """lxml 6.1 with collect_ids=False loads external DTDs despite load_dtd=False; the
    resolver we install must still keep the file's content out."""
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY x "TOP-SECRET-TOKEN">')
    doc = f'<!DOCTYPE a SYSTEM "file://{dtd}"><a/>'.encode()
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, collect_ids=False)
    parser.resolvers.add(xmlsafe._Nothing())
    loaded = etree.fromstring(doc, parser=parser).getroottree().docinfo.externalDTD
    assert loaded is None or list(loaded.entities()) == []
