"""core: users, audit, tariff, origin, risk profiles, declarations

Revision ID: 0001_core
Revises: (none)
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=60), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=True),
        sa.Column("to_status", sa.String(length=30), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_entity_id"), ["entity_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("scheme", sa.String(length=10), nullable=False),
        sa.Column("exporting_country", sa.String(length=2), nullable=False),
        sa.Column("importing_country", sa.String(length=2), nullable=False),
        sa.Column("exporter_name", sa.String(length=200), nullable=False),
        sa.Column("importer_id", sa.String(length=35), nullable=False),
        sa.Column("importer_name", sa.String(length=200), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("reference", name=op.f("uq_certificates_reference")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificates_importer_id"), ["importer_id"], unique=False
        )

    op.create_table(
        "declaration_sequences",
        sa.Column("office", sa.String(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("office", "year", name=op.f("pk_declaration_sequences")),
    )
    op.create_table(
        "declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("office", sa.String(length=5), nullable=False),
        sa.Column("declarant_id", sa.String(length=35), nullable=False),
        sa.Column("importer_id", sa.String(length=35), nullable=True),
        sa.Column("importer_name", sa.String(length=200), nullable=False),
        sa.Column("exporter_name", sa.String(length=200), nullable=False),
        sa.Column("country_of_export", sa.String(length=2), nullable=False),
        sa.Column("country_of_destination", sa.String(length=2), nullable=True),
        sa.Column("goods_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exchange_rate", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("national_currency", sa.String(length=3), nullable=False),
        sa.Column("total_value", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("total_duty", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("total_vat", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("total_due", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("risk_reasons", sa.JSON(), nullable=False),
        sa.Column("random_pick", sa.Boolean(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("payment_method", sa.String(length=10), nullable=True),
        sa.Column("payment_reference", sa.String(length=60), nullable=True),
        sa.Column("lodged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint("number", name=op.f("uq_declarations_number")),
    )
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_declarations_channel"), ["channel"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_declarations_declarant_id"), ["declarant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_declarations_importer_id"), ["importer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_declarations_lodged_at"), ["lodged_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_declarations_office"), ["office"], unique=False)
        batch_op.create_index(batch_op.f("ix_declarations_status"), ["status"], unique=False)

    op.create_table(
        "exchange_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint("currency", "valid_from", name=op.f("uq_exchange_rates_currency")),
    )
    with op.batch_alter_table("exchange_rates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_rates_currency"), ["currency"], unique=False)

    op.create_table(
        "risk_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("lane", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("hs_prefix", sa.String(length=8), nullable=True),
        sa.Column("origin", sa.String(length=2), nullable=True),
        sa.Column("importer_id", sa.String(length=35), nullable=True),
        sa.Column("office", sa.String(length=5), nullable=True),
        sa.Column("min_value_per_kg", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("max_value_per_kg", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_profiles")),
        sa.UniqueConstraint("name", name=op.f("uq_risk_profiles_name")),
    )
    op.create_table(
        "tariff_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=3), nullable=False),
        sa.Column("mfn_rate", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("atiga_rate", sa.Numeric(precision=9, scale=4), nullable=True),
        sa.Column("vat_rate", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_lines")),
        sa.UniqueConstraint("code", "valid_from", name=op.f("uq_tariff_lines_code")),
    )
    with op.batch_alter_table("tariff_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tariff_lines_code"), ["code"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "TRADER",
                "OFFICER",
                "SUPERVISOR",
                "ADMINISTRATOR",
                name="role",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("party_id", sa.String(length=35), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "certificate_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("item_number", sa.Integer(), nullable=False),
        sa.Column("hs_code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("origin_criterion", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=3), nullable=False),
        sa.Column("used_quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_items_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_items")),
        sa.UniqueConstraint(
            "certificate_id", "item_number", name=op.f("uq_certificate_items_certificate_id")
        ),
    )
    with op.batch_alter_table("certificate_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_items_certificate_id"), ["certificate_id"], unique=False
        )

    op.create_table(
        "declaration_controls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("officer", sa.String(length=60), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_declaration_controls_declaration_id_declarations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_controls")),
    )
    with op.batch_alter_table("declaration_controls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_declaration_controls_declaration_id"), ["declaration_id"], unique=False
        )

    op.create_table(
        "declaration_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hs_code", sa.String(length=8), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=3), nullable=False),
        sa.Column("net_mass_kg", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("gross_mass_kg", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("customs_value", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("value_national", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("preference_certificate", sa.String(length=40), nullable=True),
        sa.Column("preference_granted", sa.Boolean(), nullable=True),
        sa.Column("preference_reason", sa.String(length=300), nullable=True),
        sa.Column("certificate_item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_declaration_items_declaration_id_declarations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_items")),
        sa.UniqueConstraint(
            "declaration_id", "seq", name=op.f("uq_declaration_items_declaration_id")
        ),
    )
    with op.batch_alter_table("declaration_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_declaration_items_declaration_id"), ["declaration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_declaration_items_hs_code"), ["hs_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_declaration_items_preference_certificate"),
            ["preference_certificate"],
            unique=False,
        )

    op.create_table(
        "declaration_taxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("item_seq", sa.Integer(), nullable=False),
        sa.Column("tax", sa.String(length=20), nullable=False),
        sa.Column("base", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("rate", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("rate_kind", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_declaration_taxes_declaration_id_declarations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_taxes")),
    )
    with op.batch_alter_table("declaration_taxes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_declaration_taxes_declaration_id"), ["declaration_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("declaration_taxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_taxes_declaration_id"))

    op.drop_table("declaration_taxes")
    with op.batch_alter_table("declaration_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_items_preference_certificate"))
        batch_op.drop_index(batch_op.f("ix_declaration_items_hs_code"))
        batch_op.drop_index(batch_op.f("ix_declaration_items_declaration_id"))

    op.drop_table("declaration_items")
    with op.batch_alter_table("declaration_controls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_controls_declaration_id"))

    op.drop_table("declaration_controls")
    with op.batch_alter_table("certificate_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_items_certificate_id"))

    op.drop_table("certificate_items")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("tariff_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tariff_lines_code"))

    op.drop_table("tariff_lines")
    op.drop_table("risk_profiles")
    with op.batch_alter_table("exchange_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_rates_currency"))

    op.drop_table("exchange_rates")
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declarations_status"))
        batch_op.drop_index(batch_op.f("ix_declarations_office"))
        batch_op.drop_index(batch_op.f("ix_declarations_lodged_at"))
        batch_op.drop_index(batch_op.f("ix_declarations_importer_id"))
        batch_op.drop_index(batch_op.f("ix_declarations_declarant_id"))
        batch_op.drop_index(batch_op.f("ix_declarations_channel"))

    op.drop_table("declarations")
    op.drop_table("declaration_sequences")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_importer_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
