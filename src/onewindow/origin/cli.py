"""`onewindow origin`: certificates of origin on record at this node."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import typer
from pydantic import ValidationError

from onewindow.cli.output import console, emit_json, fail, handled
from onewindow.errors import FieldError, InvalidInput, NotFound
from onewindow.node import Node
from onewindow.origin import CertificateCreate, CertificateRead, get_certificate, record_certificate

app = typer.Typer(help="Certificates of origin (ATIGA Form D).", no_args_is_help=True)


@app.command()
def record(file: Path, json_output: bool = typer.Option(False, "--json")) -> None:
    """Record a certificate of origin by hand from a JSON file."""
    try:
        raw = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    with handled(json_output):
        try:
            data = CertificateCreate.model_validate(raw)
        except ValidationError as exc:
            raise InvalidInput(
                [
                    FieldError(".".join(map(str, e["loc"])), e["type"], e["msg"])
                    for e in exc.errors()
                ]
            ) from exc
        node = Node.open()
        with node.transaction() as session:
            cert = record_certificate(session, data, datetime.now(UTC))
            read = CertificateRead.model_validate(cert)
    if json_output:
        emit_json(read)
    else:
        console.print(
            f"recorded certificate {read.reference} for importer {read.importer_id}, "
            f"valid {read.issue_date} to {read.valid_until}"
        )


@app.command()
def show(reference: str, json_output: bool = typer.Option(False, "--json")) -> None:
    """Print a certificate of origin on record, with the quantities used."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            cert = get_certificate(session, reference)
            if cert is None:
                raise NotFound(f"certificate {reference} is not on record")
            data = CertificateRead.model_validate(cert).model_dump(mode="json")
            data["items"] = [
                {
                    "item": i.item_number,
                    "hs_code": i.hs_code,
                    "criterion": i.origin_criterion,
                    "quantity": str(i.quantity),
                    "used": str(i.used_quantity),
                    "unit": i.unit,
                }
                for i in cert.items
            ]
    if json_output:
        emit_json(data)
        return
    console.print(data)
