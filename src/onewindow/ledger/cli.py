"""`onewindow ledger`: the node's tree head, inclusion and consistency proofs."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from onewindow.kit import certificates, keys
from onewindow.kit.cli import (
    AS,
    EXIT_FAILED,
    acting,
    console,
    emit_json,
    err_console,
    fail,
    handled,
)
from onewindow.kit.clock import SystemClock
from onewindow.kit.config import Settings, get_settings
from onewindow.kit.errors import ConfigurationError, invalid
from onewindow.kit.node import Node
from onewindow.ledger import alarms, selfcheck, service, tasks, verify, witness
from onewindow.ledger.encoding import LeafEntry, ledger_origin
from onewindow.ledger.remote import HttpFetcher
from onewindow.ledger.schemas import (
    AlarmRead,
    CheckRead,
    ConsistencyRead,
    EntryRead,
    InclusionRead,
    SelfCheckRead,
    SignedHeadRead,
)

app = typer.Typer(
    help="The append-only ledger of documents: heads and proofs.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="Print one JSON document only")
KEY = typer.Option(
    None,
    "--key",
    help="The node's Ed25519 key (PEM), which must exist "
    "[default: the key_file setting, ONEWINDOW_KEY_FILE, created on first use]",
)


def _key(node: Node, key_path: Path | None) -> keys.NodeKey:
    """A key named with --key must exist: creating one would sign with a key that no
    certificate names and no partner trusts."""
    if key_path is None:
        return keys.load_or_create_key(node.settings.key_file)
    if not key_path.is_file():
        raise invalid("--key", "not_found", f"{key_path}: no such key file")
    return keys.load_key(key_path)


def _signer(node: Node, key_path: Path | None) -> service.HeadSigner:
    key = _key(node, key_path)
    return service.HeadSigner(key, ledger_origin(node.settings.country), node.clock)


def _line(text: str) -> None:
    # Hashes and signatures are copied by hand: never wrapped, never coloured.
    console.print(text, soft_wrap=True, highlight=False)


def _print_head(head: SignedHeadRead) -> None:
    console.print(f"[bold]{head.origin}[/]  size [bold]{head.tree_size}[/]")
    _line(f"root       {head.root_hash}")
    _line(f"signed     {head.signed_at.isoformat()} by key {head.key_id}")
    _line(f"signature  {head.signature}")


@app.command()
def head(json_output: bool = JSON, key: Path | None = KEY) -> None:
    """The current tree head, signed (signed anew only when the log has grown)."""
    with handled(json_output):
        node = Node.open()
        signer = _signer(node, key)
        with tasks.damage_recorded(node) as session:
            out = SignedHeadRead.of(service.current_signed_head(session, signer), signer.key)
    if json_output:
        emit_json(out)
    else:
        _print_head(out)


@app.command()
def prove(
    document_id: str = typer.Argument(..., help="The document's identifier"),
    document_type: str | None = typer.Option(None, "--type", help="Only entries of this type"),
    all_entries: bool = typer.Option(False, "--all", help="Every entry, not just the latest"),
    json_output: bool = JSON,
    key: Path | None = KEY,
) -> None:
    """Prove that the document's entry is in the log, under a signed tree head."""
    with handled(json_output):
        node = Node.open()
        signer = _signer(node, key)
        with tasks.damage_recorded(node) as session:
            sth = service.current_signed_head(session, signer)
            signed = SignedHeadRead.of(sth, signer.key)
            if all_entries:
                found = service.prove_all(session, document_id, sth.tree_size, document_type)
            else:
                found = [service.prove(session, document_id, sth.tree_size, document_type)]
            proofs = [InclusionRead.of(inclusion, signed) for inclusion in found]
    if json_output:
        emit_json(proofs if all_entries else proofs[0])
        return
    for p in proofs:
        e = p.entry
        _line(
            f"{e.document_type} {e.document_id} v{e.version} {e.kind} by {e.issuer_country} "
            f"at {e.logged_at.isoformat()}: leaf {p.leaf_index} of {p.tree_size}"
        )
        _line(f"leaf data  {p.leaf_data}")
        for n, step in enumerate(p.proof):
            _line(f"proof[{n}]   {step}")
    _print_head(signed)


@app.command()
def consistency(
    old: int = typer.Argument(..., min=0, help="The older tree size"),
    new: int = typer.Argument(..., min=0, help="The newer tree size"),
    json_output: bool = JSON,
) -> None:
    """Prove that the log at size OLD is a prefix of the log at size NEW."""
    with handled(json_output):
        node = Node.open()
        with tasks.damage_recorded(node) as session:
            out = ConsistencyRead.of(service.consistency(session, old, new))
    if json_output:
        emit_json(out)
        return
    table = Table("size", "root")
    table.add_row(str(out.old_size), out.old_root)
    table.add_row(str(out.new_size), out.new_root)
    console.print(table)
    for n, step in enumerate(out.proof):
        _line(f"proof[{n}]  {step}")


@app.command()
def check(
    tail: int | None = typer.Option(
        None, "--tail", min=0, help="Only the last N entries [default: every entry]"
    ),
    json_output: bool = JSON,
    key: Path | None = KEY,
) -> None:
    """Recompute every entry's leaf hash, every stored subtree and the root at each signed
    head, and compare; exit 1 naming the first bad entry. A full check that passes clears an
    earlier failure (new heads are signed again)."""
    with handled(json_output):
        node = Node.open()
        signer = _signer(node, key)
        with node.transaction() as session, _progress() as bar:
            task = bar.add_task("checking the ledger", total=None)
            found = selfcheck.check(
                session,
                tail=tail,
                public_key=signer.key.public_key,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
            row = selfcheck.record(session, found, node.clock.now(), "cli")
            out = SelfCheckRead.of(found, row.checked_at)
    if json_output:
        emit_json(out)
    elif out.status == "ok":
        what = (
            f"all {out.tree_size} entries"
            if out.scope == "full"
            else f"the last {out.entries} entries ({out.from_index}-{out.tree_size - 1})"
        )
        _line(f"ledger ok: {what} recomputed, {out.heads} signed head(s) compared")
    else:
        console.print(f"[bold red]ledger FAILED[/] at entry {out.first_bad_entry}")
        _line(escape(out.problem or ""))
    if out.status != "ok":
        raise typer.Exit(EXIT_FAILED)


def _progress() -> Progress:
    # On stderr, and only on a terminal: --json and pipes get the result alone.
    return Progress(console=err_console, transient=True, disable=not err_console.is_terminal)


@app.command("append-demo")
def append_demo(
    count: int = typer.Option(10, min=1, max=service.MAX_BATCH, help="How many entries"),
    json_output: bool = JSON,
) -> None:
    """Log COUNT made-up documents, to try the ledger out on a scratch node."""
    with handled(json_output):
        node = Node.open()
        now = node.clock.now()
        with node.transaction() as session:
            start = service.tree_size(session)
            entries = [
                LeafEntry(
                    document_type="demo",
                    document_id=f"DEMO-{start + i:08d}",
                    version=1,
                    issuer_country=node.settings.country,
                    document_sha256=hashlib.sha256(os.urandom(32)).hexdigest(),
                    logged_at=now,
                    kind="issued",
                )
                for i in range(count)
            ]
            added = service.append_many(session, entries)
            current = service.head(session)
    result = {
        "appended": len(added),
        "first_index": added.start,
        "tree_size": current.tree_size,
        "root_hash": current.root_hash.hex(),
    }
    if json_output:
        emit_json(result)
    else:
        _line(
            f"appended {len(added)} entries (DEMO-{added.start:08d}...); "
            f"size {current.tree_size}, root {current.root_hash.hex()}"
        )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
        raise  # fail() exits; this keeps type checkers informed


@app.command()
def issue(
    file: Path = typer.Argument(..., help="The document's canonical bytes"),
    document_type: str = typer.Option(..., "--type", help="The document type, e.g. FORM_D"),
    document_id: str = typer.Option(..., "--id", help="The document's identifier"),
    version: int = typer.Option(1, min=1, help="The document's version"),
    media_type: str = typer.Option("application/octet-stream", help="What the bytes are"),
    endpoint: str | None = typer.Option(
        None, help="This node's public URL [default: http://HOST:PORT from the settings]"
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write it here, not to stdout"),
    key: Path | None = KEY,
    json_output: bool = JSON,
) -> None:
    """Log FILE as issued by this node and write it as a verifiable document (JSON)."""
    with handled(json_output):
        node = Node.open()
        settings = node.settings
        if settings.cert_file is None:
            raise ConfigurationError("issuing needs this node's certificate: set cert_file")
        body, certificate = _read(file), _read(settings.cert_file)
        signing = _key(node, key)
        with node.transaction() as session:
            doc = verify.make_verifiable(
                body,
                document_type=document_type,
                document_id=document_id,
                version=version,
                issuer_country=settings.country,
                issuer_endpoint=endpoint or f"http://{settings.host}:{settings.port}",
                key=signing,
                certificate_pem=certificate,
                media_type=media_type,
                session=session,
                logged_at=node.clock.now(),
            )
    text = doc.model_dump_json(indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)  # the document is JSON already, with --json or without
        return
    out.write_text(text)
    if json_output:
        emit_json({"document_id": document_id, "version": version, "out": str(out)})


@app.command()
def revoke(
    document_id: str = typer.Argument(..., help="A document this node issued"),
    document_type: str | None = typer.Option(None, "--type", help="Only entries of this type"),
    json_output: bool = JSON,
) -> None:
    """Log the revocation of a document this node issued. Final: it no longer verifies."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            entry = service.revoke(
                session, document_id, document_type, node.settings.country, node.clock.now()
            )
            out = EntryRead.of(entry)
    if json_output:
        emit_json(out)
    else:
        what = f"{out.document_type} {out.document_id} v{out.version}"
        _line(f"revoked {what}: leaf {out.leaf_index} of the log")


@app.command("witness")
def witness_command(
    once: bool = typer.Option(False, "--once", help="One round, then exit (1 on an alarm)"),
    interval: float = typer.Option(tasks.DEFAULT_INTERVAL, min=1, help="Seconds between rounds"),
    json_output: bool = JSON,
    key: Path | None = KEY,
) -> None:
    """Witness the partners' logs: check each one's signed head, cosign those that hold up."""
    with handled(json_output):
        node = Node.open()
        signing = _key(node, key)
        if not once:
            partners = len(node.settings.partners)
            console.print(f"witnessing {partners} partner(s) every {interval:g} s; Ctrl-C stops")
            tasks.run_witness(node, interval, key=signing)
            return
        with HttpFetcher() as fetcher:
            outcomes = tasks.witness_round(node, fetcher, signing)
    rows = [
        {
            "partner": o.partner,
            "status": o.status,
            "tree_size": o.head.tree_size if o.head else None,
            "root_hash": o.head.root_hash.hex() if o.head else None,
            "detail": o.detail,
        }
        for o in outcomes
    ]
    if json_output:
        emit_json(rows)
    else:
        table = Table("partner", "status", "size", "detail", title="witness round")
        for row in rows:
            status = "[bold red]ALARM[/]" if row["status"] == "alarm" else str(row["status"])
            size = "" if row["tree_size"] is None else str(row["tree_size"])
            table.add_row(str(row["partner"]), status, size, escape(str(row["detail"])))
        console.print(table)
    if witness.alarms(outcomes):
        raise typer.Exit(EXIT_FAILED)


PARTNER = typer.Option(None, "--partner", help="Only this partner (ISO 3166 alpha-2)")


def _print_alarms(rows: list[AlarmRead], title: str) -> None:
    table = Table("id", "partner", "size", "seen", "alarm", "acknowledged", title=title)
    for a in rows:
        ack = (
            escape(f"{a.acknowledged_by}\n{a.acknowledgement}")
            if a.acknowledged_at
            else "[bold red]open[/]"
        )
        seen = f"{a.seen_at:%Y-%m-%d %H:%M:%S}Z"
        table.add_row(str(a.id), a.partner, str(a.tree_size), seen, escape(a.detail), ack)
    console.print(table, soft_wrap=True)


@app.command("alarms")
def alarms_command(
    partner: str | None = PARTNER,
    open_only: bool = typer.Option(False, "--open", help="Only alarms not yet acknowledged"),
    json_output: bool = JSON,
) -> None:
    """Alarms raised by witnessing partners' logs, newest first, and who acknowledged them."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            rows = [AlarmRead.of(r) for r in alarms.list_alarms(session, partner, open_only)]
    if json_output:
        emit_json(rows)
    else:
        _print_alarms(rows, "alarms")


@app.command()
def acknowledge(
    partner: str = typer.Argument(..., help="The partner whose open alarms were looked into"),
    note: str = typer.Option(..., "--note", help="What was found (kept with the alarms)"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Acknowledge a partner's open alarms (supervisor or administrator). The alarms stay on
    record; the partner's witness status leaves ALARM until a new one comes in."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            done = alarms.acknowledge(session, actor, partner, note, node.clock.now())
            rows = [AlarmRead.of(r) for r in done]
    if json_output:
        emit_json(rows)
    else:
        _print_alarms(rows, f"acknowledged {len(rows)} alarm(s) of {partner}")


@app.command()
def witnesses(json_output: bool = JSON) -> None:
    """The partners' logs this node witnesses: the last head it cosigned, and any ALARM."""
    with handled(json_output):
        node = Node.open()
        endpoints = {country: p.endpoint for country, p in node.settings.partners.items()}
        with node.transaction() as session:
            out = [witness.to_read(s) for s in witness.witness_status(session, endpoints)]
    if json_output:
        emit_json(out)
        return
    table = Table("partner", "last size", "root", "time", "status", "detail")
    for w in out:
        status = "[bold red]ALARM[/]" if w.status == "ALARM" else w.status
        seen = f"{w.seen_at:%Y-%m-%d %H:%M:%S}Z" if w.seen_at else ""
        size = "" if w.tree_size is None else str(w.tree_size)
        table.add_row(w.partner, size, w.root_hash or "", seen, status, escape(w.detail))
    console.print(table, soft_wrap=True)


def _trusted_endpoint(settings: Settings, country: str) -> str | None:
    """Where the issuer's log is asked: a configured partner, or this node itself. Never the
    endpoint a document names: a forged one names its forger's server."""
    if country == settings.country:
        return f"http://{settings.host}:{settings.port}"
    partner = settings.partners.get(country)
    return partner.endpoint if partner else None


def verify_command(
    file: Path = typer.Argument(..., help="A verifiable document (JSON) as a node issues it"),
    ca: Path | None = typer.Option(
        None, "--ca", help="The federation root certificate [default: the ca_file setting]"
    ),
    endpoint: str | None = typer.Option(
        None,
        help="Ask the issuer's log here [default: the partner's configured endpoint, or this "
        "node's own API for its own documents; never the address the document names]",
    ),
    json_output: bool = JSON,
) -> None:
    """Verify a document: the issuer's certificate and signature, that it was not altered,
    that it is in the issuer's log under a head the issuer signed, and not revoked."""
    with handled(json_output):
        raw = _read(file)
        settings = get_settings()
        ca_path = ca or settings.ca_file
        root = certificates.read_ca(ca_path) if ca_path else None
        doc, parsed = verify.parse_verifiable(raw)
        checks = [parsed]
        if doc is not None:
            where = endpoint or _trusted_endpoint(settings, doc.issuer_country)
            with HttpFetcher() as fetcher:
                checks += verify.check_document(
                    doc, ca=root, fetcher=fetcher, now=SystemClock().now(), endpoint=where
                )
    if json_output:
        emit_json([CheckRead(check=c.check, ok=c.ok, detail=c.detail) for c in checks])
    else:
        table = Table("check", "result", "detail", title=f"verify {file.name}")
        for c in checks:
            result = "[green]ok[/]" if c.ok else "[bold red]FAILED[/]"
            table.add_row(verify.LABELS.get(c.check, c.check), result, escape(c.detail))
        console.print(table)
    if not verify.passed(checks):
        raise typer.Exit(EXIT_FAILED)
