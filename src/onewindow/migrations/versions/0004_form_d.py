"""e-Form D issuing, verification requests, ACDD pre-arrivals

Revision ID: 0004_form_d
Revises: 0003_exchange
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_form_d"
down_revision = "0003_exchange"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "certificate_sequences",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_certificate_sequences")),
    )
    op.create_table(
        "origin_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("requesting_country", sa.String(length=2), nullable=False),
        sa.Column("issuer_country", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answer", sa.String(length=500), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_origin_verifications")),
        sa.UniqueConstraint("request_id", name=op.f("uq_origin_verifications_request_id")),
    )
    with op.batch_alter_table("origin_verifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_origin_verifications_reference"), ["reference"], unique=False
        )

    op.create_table(
        "pre_arrivals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_declaration", sa.String(length=40), nullable=False),
        sa.Column("export_country", sa.String(length=2), nullable=False),
        sa.Column("exporter_id", sa.String(length=35), nullable=False),
        sa.Column("exporter_name", sa.String(length=200), nullable=False),
        sa.Column("consignee_name", sa.String(length=200), nullable=False),
        sa.Column("departure_date", sa.Date(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("import_declaration", sa.String(length=20), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pre_arrivals")),
        sa.UniqueConstraint(
            "export_country", "export_declaration", name=op.f("uq_pre_arrivals_export_country")
        ),
    )
    with op.batch_alter_table("pre_arrivals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pre_arrivals_consignee_name"), ["consignee_name"], unique=False
        )

    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("status_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("replaced_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("transmitted_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pre_arrival", sa.String(length=45), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_column("pre_arrival")

    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("transmitted_at")
        batch_op.drop_column("replaced_by")
        batch_op.drop_column("status_reason")
        batch_op.drop_column("version")
        batch_op.drop_column("document")

    with op.batch_alter_table("pre_arrivals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pre_arrivals_consignee_name"))

    op.drop_table("pre_arrivals")
    with op.batch_alter_table("origin_verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_origin_verifications_reference"))

    op.drop_table("origin_verifications")
    op.drop_table("certificate_sequences")
