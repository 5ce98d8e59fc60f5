"""The exchange domain's branch point: its new migrations go in this folder, after this one

Empty: the base chain (0001_core … 0011_ledger_checks, frozen) made the exchange tables;
the domain's own branch starts here, so that its next migration has a parent. The next one
has `down_revision` = this branch's newest revision, `branch_labels` = None, and
`depends_on` = the revision (or branch label) of any other domain whose tables it references.

Revision ID: exchange_0001
Revises: 0011_ledger_checks
Create Date: 2026-12-02
"""

revision = "exchange_0001"
down_revision = "0011_ledger_checks"
branch_labels = ("exchange",)
# None: no exchange table references another domain's.
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
