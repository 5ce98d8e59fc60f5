"""`onewindow ledger`: the node's tree head, inclusion and consistency proofs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import typer
from rich.table import Table

from onewindow import keys
from onewindow.cli.output import console, emit_json, handled
from onewindow.ledger import service
from onewindow.ledger.encoding import LeafEntry, ledger_origin
from onewindow.ledger.schemas import ConsistencyRead, InclusionRead, SignedHeadRead
from onewindow.node import Node

app = typer.Typer(
    help="The append-only ledger of documents: heads and proofs.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="Print one JSON document only")
KEY = typer.Option(
    None,
    "--key",
    envvar="ONEWINDOW_SIGNING_KEY",
    help=f"The node's Ed25519 key (PEM), created if missing [default: {keys.DEFAULT_KEY_PATH}]",
)


def _signer(node: Node, key_path: Path | None) -> service.HeadSigner:
    key = keys.load_or_create_key(key_path)
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
        with node.transaction() as session:
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
        with node.transaction() as session:
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
        with node.transaction() as session:
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
