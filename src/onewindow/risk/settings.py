"""The risk domain's settings: the lanes' target shares (ONEWINDOW_RED_TARGET, ...)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

from onewindow.kit.config import Section


class RiskSettings(Section):
    # Selectivity: share of declarations sent to each control lane, and the share of
    # inspections that are picked at random (exploration keeps the risk model honest).
    red_target: Decimal = Field(Decimal("0.05"), ge=0, le=1)
    yellow_target: Decimal = Field(Decimal("0.15"), ge=0, le=1)
    random_share: Decimal = Field(Decimal("0.10"), ge=0, le=1)

    @model_validator(mode="after")
    def _lanes(self) -> RiskSettings:
        if self.red_target + self.yellow_target > 1:
            raise ValueError(
                f"red_target + yellow_target is {self.red_target + self.yellow_target}: "
                "the lanes' shares must add up to at most 1"
            )
        return self
