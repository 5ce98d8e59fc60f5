"""What the portals' administration forms take, checked as the API checks its bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from onewindow.kit.auth import Role
from onewindow.kit.fields import PartyId, Text60


class UserCreate(BaseModel):
    """A new user of the node: `onewindow user add`'s arguments."""

    model_config = ConfigDict(extra="forbid")

    username: Text60
    role: Role
    party_id: PartyId | None = None  # for traders: the party they act for (auth checks it)
