"""The entries of every national list in one table, each version with its validity dates.

One table, not one per list: an administration keeps dozens of small lists (offices, kinds of
package, documents, procedures, warehouses...) that a portal shows the same way, as a code and
a description with a few attributes; a new list is then a schema in code, not a migration.
Entries are closed, never deleted, when an edition drops or changes them: a declaration lodged
last year still finds the office it named, as it was on its date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base


class ReferenceEntry(Base):
    __tablename__ = "reference_entries"
    # Also the index by which every look-up (a list, on a date) goes.
    __table_args__ = (UniqueConstraint("list_name", "code", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_name: Mapped[str] = mapped_column(String(30))
    code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(300))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
