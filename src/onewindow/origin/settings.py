"""The origin domain's settings: box 12 of the Form D certificates this node issues."""

from __future__ import annotations

from onewindow.kit.config import Section


class OriginSettings(Section):
    issuing_authority: str = "Issuing authority for certificates of origin"
    issuing_place: str = "-"
