"""Tariffs published between partners: the versions this node sent, and those received

`tariff_publications` keeps each version of this node's schedule and rates it published;
`tariff_partner_versions` each version a partner published to it, with its lines
(`tariff_partner_lines`) and official exchange rates (`tariff_partner_rates`).

Revision ID: tariff_0002
Revises: tariff_0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "tariff_0002"
down_revision = "tariff_0001"
branch_labels = None
depends_on = None

RATE = sa.Numeric(precision=9, scale=4)
EXCHANGE_RATE = sa.Numeric(precision=18, scale=6)


def upgrade() -> None:
    op.create_table(
        "tariff_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("rate_count", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("receivers", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_publications")),
        sa.UniqueConstraint("version", name=op.f("uq_tariff_publications_version")),
    )
    op.create_table(
        "tariff_partner_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("rate_count", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_partner_versions")),
        sa.UniqueConstraint("country", "version", name=op.f("uq_tariff_partner_versions_country")),
    )
    op.create_index(
        "ix_tariff_partner_versions_country_effective",
        "tariff_partner_versions",
        ["country", "effective_date"],
    )
    op.create_table(
        "tariff_partner_lines",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("unit", sa.String(length=3), nullable=False),
        sa.Column("mfn_rate", RATE, nullable=False),
        sa.Column("atiga_rate", RATE, nullable=True),
        sa.Column("vat_rate", RATE, nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["tariff_partner_versions.id"],
            name=op.f("fk_tariff_partner_lines_schedule_id_tariff_partner_versions"),
        ),
        sa.PrimaryKeyConstraint("schedule_id", "code", name=op.f("pk_tariff_partner_lines")),
    )
    op.create_table(
        "tariff_partner_rates",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", EXCHANGE_RATE, nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["tariff_partner_versions.id"],
            name=op.f("fk_tariff_partner_rates_schedule_id_tariff_partner_versions"),
        ),
        sa.PrimaryKeyConstraint("schedule_id", "currency", name=op.f("pk_tariff_partner_rates")),
    )


def downgrade() -> None:
    op.drop_table("tariff_partner_rates")
    op.drop_table("tariff_partner_lines")
    op.drop_index(
        "ix_tariff_partner_versions_country_effective", table_name="tariff_partner_versions"
    )
    op.drop_table("tariff_partner_versions")
    op.drop_table("tariff_publications")
