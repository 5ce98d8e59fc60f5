"""The declarations domain's settings (ONEWINDOW_MAX_ITEMS)."""

from __future__ import annotations

from pydantic import Field

from onewindow.kit.config import Section


class DeclarationsSettings(Section):
    max_items: int = Field(999, ge=1, description="Items a declaration may have at most")
