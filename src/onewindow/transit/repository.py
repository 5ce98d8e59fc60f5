"""Transit's statements built once: every declaration reads its guarantee, its balance and its
seals, and every officer's decision its movement; building a statement costs more than running
it."""

from __future__ import annotations

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onewindow.transit.models import Guarantee, Movement, Reservation, SealInUse, Sequence

GUARANTEE = select(Guarantee).where(Guarantee.grn == bindparam("grn"))
GUARANTEE_LOCKED = GUARANTEE.with_for_update()
_RESERVATIONS: Table = Reservation.__table__  # type: ignore[assignment]
HELD = select(func.coalesce(func.sum(_RESERVATIONS.c.amount), 0)).where(
    _RESERVATIONS.c.guarantee_id == bindparam("guarantee_id"), _RESERVATIONS.c.status == "held"
)
_SEALS: Table = SealInUse.__table__  # type: ignore[assignment]
SEALS_TAKEN = select(_SEALS.c.seal, _SEALS.c.mrn).where(
    _SEALS.c.seal.in_(bindparam("seals", expanding=True))
)
MOVEMENT = select(Movement).where(Movement.mrn == bindparam("mrn"))
MOVEMENT_LOCKED = MOVEMENT.with_for_update()

# The MRN and GRN sequences: created for a (kind, year), then advanced.
_SEQUENCES: Table = Sequence.__table__  # type: ignore[assignment]
NEW_SEQUENCE = {
    postgresql: make(_SEQUENCES)
    .values(kind=bindparam("the_kind"), year=bindparam("the_year"), last=0)
    .on_conflict_do_nothing()
    for postgresql, make in ((True, pg_insert), (False, sqlite_insert))
}
HOLD_SEQUENCE = (  # its last value, the row locked until the transaction ends
    _SEQUENCES.update()
    .where(_SEQUENCES.c.kind == bindparam("the_kind"), _SEQUENCES.c.year == bindparam("the_year"))
    .values(last=_SEQUENCES.c.last)
    .returning(_SEQUENCES.c.last)
)
NEXT_IN_SEQUENCE = (
    _SEQUENCES.update()
    .where(_SEQUENCES.c.kind == bindparam("the_kind"), _SEQUENCES.c.year == bindparam("the_year"))
    .values(last=_SEQUENCES.c.last + 1)
    .returning(_SEQUENCES.c.last)
)
