"""exchange: the issuer bound to each Form D reference, filled from the Form D received so far

Revision ID: 0010_exchange_issuers
Revises: 0009_users_tokens
Create Date: 2026-12-01

Each reference goes to the sender of the earliest Form D under it that was applied (processed,
or stored for want of a handler). Should a node already hold two senders' Form D under one
reference (the hole this closes), the first keeps it, as it would have from now on.
"""

import sqlalchemy as sa
from alembic import op
from lxml import etree

revision = "0010_exchange_issuers"
down_revision = "0009_users_tokens"
branch_labels = None
depends_on = None

_REFERENCE = (
    "{urn:onewindow:xsd:envelope:1}Content/{urn:onewindow:xsd:form-d:1}FormD"
    "/{urn:onewindow:xsd:form-d:1}ReferenceID"
)
# The envelopes were verified when they came in; parsed again as safely as then.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def upgrade() -> None:
    issuers = op.create_table(
        "exchange_issuers",
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=2), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("document_type", "reference", name=op.f("pk_exchange_issuers")),
    )
    incoming = sa.table(
        "exchange_incoming",
        sa.column("message_id", sa.String),
        sa.column("sender", sa.String),
        sa.column("document_type", sa.String),
        sa.column("status", sa.String),
        sa.column("received_at", sa.DateTime(timezone=True)),
        sa.column("envelope", sa.LargeBinary),
    )
    query = (
        sa.select(incoming.c.message_id, incoming.c.sender, incoming.c.received_at,
                  incoming.c.envelope)
        .where(incoming.c.document_type == "FORM_D",
               incoming.c.status.in_(("processed", "received")))
        .order_by(incoming.c.received_at, incoming.c.message_id)
    )  # fmt: skip
    rows: dict[str, dict[str, object]] = {}
    for message_id, sender, received_at, envelope in op.get_bind().execute(query):
        reference = (etree.fromstring(envelope, _PARSER).findtext(_REFERENCE) or "").strip()
        if reference and reference not in rows:
            rows[reference] = {"document_type": "FORM_D", "reference": reference,
                               "issuer": sender, "message_id": message_id,
                               "bound_at": received_at}  # fmt: skip
    if rows:
        op.bulk_insert(issuers, list(rows.values()))


def downgrade() -> None:
    op.drop_table("exchange_issuers")
