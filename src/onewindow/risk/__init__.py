"""Risk: rule profiles, learned scoring and lane selection with target rates.

The learned model's own modules (features, model, artifact, scoring) import LightGBM and are
not imported here, so that importing the package stays cheap for a node without a model.
"""

from onewindow.risk.models import RegisteredModel, RiskProfile
from onewindow.risk.selectivity import ScoreWindow, Selection, Targets
from onewindow.risk.service import (
    Assessment,
    Explaining,
    NoModel,
    Opinion,
    Scorer,
    Selectivity,
    Subject,
    SubjectItem,
    active_profiles,
    canonical_rows,
    create_profile,
    list_profiles,
    weighs_value,
)

__all__ = [
    "Assessment",
    "Explaining",
    "NoModel",
    "Opinion",
    "RegisteredModel",
    "RiskProfile",
    "ScoreWindow",
    "Scorer",
    "Selection",
    "Selectivity",
    "Subject",
    "SubjectItem",
    "Targets",
    "active_profiles",
    "canonical_rows",
    "create_profile",
    "list_profiles",
    "weighs_value",
]
