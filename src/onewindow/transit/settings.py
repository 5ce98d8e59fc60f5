"""The transit domain's settings."""

from __future__ import annotations

from pydantic import Field

from onewindow.kit.config import Section


class TransitSettings(Section):
    # Days a movement released here is given to reach its office of destination (the time
    # limit); after it, an enquiry starts.
    transit_days: int = Field(8, ge=1, le=90)
    # Days an enquiry runs before the guarantee may be called (recovery).
    enquiry_days: int = Field(28, ge=1, le=365)
