"""Imports every domain's tables so that metadata (migrations, tests) sees them all."""

from onewindow.declarations import models as declarations_models
from onewindow.exchange import models as exchange_models
from onewindow.kit import audit, auth
from onewindow.ledger import models as ledger_models
from onewindow.origin import models as origin_models
from onewindow.risk import models as risk_models
from onewindow.tariff import models as tariff_models

TABLE_MODULES = (
    audit,
    auth,
    declarations_models,
    exchange_models,
    ledger_models,
    origin_models,
    risk_models,
    tariff_models,
)


def load_all() -> None:
    """Nothing to do at call time: importing this module registered every table."""
