"""Transit (ACTS): guarantees, movements declared and released at departure."""

from onewindow.transit.schemas import GuaranteeCreate, GuaranteeRead, MovementCreate, MovementRead
from onewindow.transit.service import Context, decide_release, declare, register_guarantee

__all__ = [
    "Context",
    "GuaranteeCreate",
    "GuaranteeRead",
    "MovementCreate",
    "MovementRead",
    "decide_release",
    "declare",
    "register_guarantee",
]
