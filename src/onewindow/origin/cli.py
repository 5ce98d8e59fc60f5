"""`onewindow origin`: certificates of origin on record at this node."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import typer
from pydantic import ValidationError
from rich.table import Column, Table
from sqlalchemy import select

from onewindow.kit.cli import AS, acting, console, emit_json, fail, handled, read_error
from onewindow.kit.errors import FieldError, InvalidInput, NotFound
from onewindow.kit.node import Node
from onewindow.origin import (
    CertificateCreate,
    CertificateRead,
    get_certificate,
    issuing,
    receiving,
    record_certificate,
)
from onewindow.origin.models import Certificate, VerificationRequest
from onewindow.origin.settings import OriginSettings

app = typer.Typer(help="Certificates of origin (ATIGA Form D).", no_args_is_help=True)


@app.command()
def record(file: Path, json_output: bool = typer.Option(False, "--json")) -> None:
    """Record a certificate of origin by hand from a JSON file."""
    try:
        raw = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"cannot read {file}: {read_error(exc)}")
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
                    "quantity": _plain(i.quantity),
                    "used": _plain(i.used_quantity),
                    "unit": i.unit,
                }
                for i in cert.items
            ]
    if json_output:
        emit_json(data)
        return
    fields = Table(title=f"Certificate of origin {data['reference']}", show_header=False)
    for key, value in data.items():
        if key != "items":
            fields.add_row(key.replace("_", " "), "" if value is None else str(value))
    console.print(fields)
    items = Table("item", "HS", "criterion", "quantity", "used", "unit")
    for i in data["items"]:
        items.add_row(*(str(i[k]) for k in ("item", "hs_code", "criterion", "quantity", "used")),
                      i["unit"])  # fmt: skip
    console.print(items)


JSON = typer.Option(False, "--json", help="Print one JSON document only")


def _load(file: Path) -> Any:
    try:
        return orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"cannot read {file}: {read_error(exc)}")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _summary(cert: Certificate) -> dict[str, Any]:
    return {
        "reference": cert.reference,
        "status": cert.status,
        "source": cert.source,
        "exporting_country": cert.exporting_country,
        "importing_country": cert.importing_country,
        "exporter": cert.exporter_name,
        "importer": cert.importer_name,
        "issue_date": cert.issue_date.isoformat(),
        "valid_until": cert.valid_until.isoformat(),
        "reason": cert.status_reason,
        "replaced_by": cert.replaced_by,
        "items": [
            {
                "item": i.item_number,
                "hs_code": i.hs_code,
                "criterion": i.origin_criterion,
                "quantity": _plain(i.quantity),
                "used": _plain(i.used_quantity),
                "unit": i.unit,
            }
            for i in cert.items
        ],
    }


def _print(data: dict[str, Any], json_output: bool) -> None:
    if json_output:
        emit_json(data)
        return
    console.print(
        f"[bold]{data['reference']}[/] status {data['status']}, source {data['source']}: "
        f"{data['exporter']} ({data['exporting_country']}) to {data['importer']} "
        f"({data['importing_country']}), valid {data['issue_date']} to {data['valid_until']}"
    )
    if data.get("reason"):
        console.print(f"reason: {data['reason']}")
    table = Table("item", "HS", "criterion", "quantity", "used", "unit")
    for i in data["items"]:
        table.add_row(
            str(i["item"]), i["hs_code"], i["criterion"], i["quantity"], i["used"], i["unit"]
        )
    console.print(table)


@app.command()
def issue(
    file: Path,
    as_user: str | None = AS,
    json_output: bool = JSON,
    dates_from_today: bool = typer.Option(
        False,
        "--dates-from-today",
        help="Move every date of the application by the same number of days, so that the "
        "goods leave today (the sample application, rehearsals)",
    ),
) -> None:
    """Issue a Form D from an exporter's application (JSON: boxes 1 to 11 and 13)."""
    application = _load(file)
    if dates_from_today:
        application = shift_dates(application, datetime.now(UTC).date())
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            cert = issuing.issue(
                session,
                acting(session, as_user),
                application,
                issuer=issuing.Issuer.of(node.settings),
                now=node.clock.now(),
            )
            data = _summary(cert)
    _print(data, json_output)


def shift_dates(application: Any, today: date) -> Any:
    """The application with its dates (`date` and `*_date` fields) moved together so that the
    departure date is `today`: the intervals between them, which the rules check, are kept."""
    try:
        departure = date.fromisoformat(application["transport"]["departure_date"])
    except (KeyError, TypeError, ValueError):
        fail("--dates-from-today needs a transport.departure_date (YYYY-MM-DD)")
        raise
    shift = today - departure

    def moved(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: moved(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [moved(v) for v in value]
        if isinstance(value, str) and (key == "date" or key.endswith("_date")):
            try:
                return (date.fromisoformat(value) + shift).isoformat()
            except ValueError:
                return value  # left for the validation to name
        return value

    return moved(application)


@app.command()
def transmit(reference: str, as_user: str | None = AS, json_output: bool = JSON) -> None:
    """Send an issued Form D to the importing country's node (the exporter authorises it)."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            cert = issuing.transmit(
                session, acting(session, as_user), reference, now=node.clock.now()
            )
            data = _summary(cert)
    _print(data, json_output)


@app.command()
def cancel(
    reference: str,
    reason: str = typer.Option(..., help="Why it is withdrawn"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Cancel a Form D issued here; the importing country's node is told."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            cert = issuing.cancel(
                session, acting(session, as_user), reference, reason, now=node.clock.now()
            )
            data = _summary(cert)
    _print(data, json_output)


@app.command()
def replace(reference: str, file: Path, as_user: str | None = AS, json_output: bool = JSON) -> None:
    """Replace a Form D issued here by a new one from a corrected application."""
    application = _load(file)
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            cert = issuing.replace(
                session,
                acting(session, as_user),
                reference,
                application,
                issuer=issuing.Issuer.of(node.settings),
                now=node.clock.now(),
            )
            data = _summary(cert)
    _print(data, json_output)


@app.command("list")
def list_(
    source: str | None = typer.Option(None, help="issued, exchange or recorded"),
    json_output: bool = JSON,
) -> None:
    """Certificates at this node, newest first: issued here or received from partners."""
    node = Node.open()
    with node.transaction() as session:
        rows = [_summary(c) for c in issuing.certificates(session, source)]
    if json_output:
        emit_json(rows)
        return
    table = Table("reference", "source", "status", "from", "to", "importer", "valid until")
    for r in rows:
        table.add_row(
            r["reference"],
            r["source"],
            r["status"],
            r["exporting_country"],
            r["importing_country"],
            r["importer"],
            r["valid_until"],
        )
    console.print(table)


@app.command("verify-request")
def verify_request(
    reference: str,
    reason: str = typer.Option(...),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Ask the issuing country to verify the origin of a certificate received here."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            request = receiving.request_verification(
                session,
                acting(session, as_user),
                reference,
                reason,
                country=node.settings.country,
                now=node.clock.now(),
            )
            data = {
                "request_id": request.request_id,
                "reference": reference,
                "status": request.status,
            }
    emit_json(data) if json_output else console.print(
        f"verification request {data['request_id']} sent"
    )


@app.command("verify-answer")
def verify_answer(
    request_id: str,
    result: str = typer.Argument(..., help="confirmed, partially_confirmed or not_confirmed"),
    note: str = typer.Option(...),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Answer a verification request about a certificate issued here."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            request = receiving.answer_verification(
                session,
                acting(session, as_user),
                request_id,
                result,
                note,
                authority=OriginSettings.of(node.settings).issuing_authority,
                now=node.clock.now(),
            )
            data = {"request_id": request_id, "status": request.status}
    emit_json(data) if json_output else console.print(f"answered {request_id}: {data['status']}")


@app.command()
def verifications(json_output: bool = JSON) -> None:
    """Verification requests sent or received, with their answers."""
    node = Node.open()
    with node.transaction() as session:
        rows = [
            {
                "request_id": v.request_id,
                "reference": v.reference,
                "from": v.requesting_country,
                "to": v.issuer_country,
                "status": v.status,
                "reason": v.reason,
                "answer": v.answer,
            }
            for v in session.scalars(select(VerificationRequest).order_by(VerificationRequest.id))
        ]
    if json_output:
        emit_json(rows)
        return
    # The whole request id, never cut: it is what `origin verify-answer` takes.
    request = Column(
        "request", no_wrap=True, min_width=max((len(str(r["request_id"])) for r in rows), default=7)
    )
    table = Table(request, "reference", "from", "to", "status", "answer")
    for r in rows:
        table.add_row(
            str(r["request_id"]),
            r["reference"],
            r["from"],
            r["to"],
            r["status"],
            r["answer"] or "",
        )
    console.print(table)
