"""Risk: rule profiles, learned scoring and lane selection with target rates."""

from onewindow.risk.models import RiskProfile
from onewindow.risk.selectivity import ScoreWindow, Selection, Targets
from onewindow.risk.service import (
    Assessment,
    NoModel,
    Scorer,
    Selectivity,
    Subject,
    SubjectItem,
    create_profile,
    list_profiles,
)

__all__ = [
    "Assessment",
    "NoModel",
    "RiskProfile",
    "ScoreWindow",
    "Scorer",
    "Selection",
    "Selectivity",
    "Subject",
    "SubjectItem",
    "Targets",
    "create_profile",
    "list_profiles",
]
