"""Risk assessment of lodged declarations: rule profiles, a model score, lane selection."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit import audit
from onewindow.kit.codes import is_country
from onewindow.kit.errors import Conflict, FieldError, InvalidInput, NotFound, Text
from onewindow.risk.columns import SCORING_COLUMNS
from onewindow.risk.models import RiskProfile
from onewindow.risk.selectivity import ScoreWindow, Selection, Targets
from onewindow.risk.selectivity import select as select_lane


@dataclass(frozen=True)
class SubjectItem:
    hs_code: str
    origin: str
    value_national: Decimal
    net_mass_kg: Decimal
    duty_rate: Decimal = Decimal(0)  # percent, as applied (MFN or preferential)
    duty_kind: str = ""  # MFN | ATIGA: the rate that was applied
    preference: str = ""  # the scheme claimed (ATIGA), "" when none


@dataclass(frozen=True)
class Subject:
    """What risk sees of a declaration (also the input of the learned model)."""

    type: str
    office: str
    importer_id: str | None
    declarant_id: str
    exporter_name: str
    country_of_export: str
    goods_date: Any
    items: tuple[SubjectItem, ...]
    pre_arrival: str | None = None  # the exporting country's ACDD matched to this import
    transport_mode: str = ""
    lodged: date | None = None  # None: the goods date stands in
    reference: str = ""  # the declaration number, once there is one


@dataclass(frozen=True)
class Assessment:
    lane: str
    score: float | None
    reasons: tuple[str, ...]
    random: bool


@dataclass(frozen=True)
class Opinion:
    """A model's view of one declaration: its score and why, in short readable reasons."""

    score: float
    reasons: tuple[str, ...] = ()


class Scorer(Protocol):
    """The seam for the learned model: a probability of irregularity per subject, or None."""

    def score(self, subjects: list[Subject]) -> list[float] | None: ...


@runtime_checkable
class Explaining(Protocol):
    """A scorer that also says why (the strongest model contributions), in the same pass."""

    def opinions(self, subjects: list[Subject]) -> list[Opinion] | None: ...


class NoModel:
    def score(self, subjects: list[Subject]) -> list[float] | None:
        return None


# Subject fields -> canonical frame columns (risk/frame.py), one row per item as in the KCS
# data. Live scoring and training on the node's own history both go through `canonical_rows`,
# so what the model learned from and what it is shown cannot drift apart.
def canonical_rows(subjects: Sequence[Subject]) -> tuple[list[int], dict[str, list[Any]]]:
    """The subjects' items as canonical columns, and for each row the index of its subject."""
    owner: list[int] = []
    columns: dict[str, list[Any]] = {name: [] for name in SCORING_COLUMNS}
    for index, s in enumerate(subjects):
        day = s.lodged if s.lodged is not None else s.goods_date
        for item in s.items:
            owner.append(index)
            row = (
                s.reference,
                day,
                s.office,
                s.importer_id or "",
                s.declarant_id,
                s.exporter_name.strip().upper(),  # the node keeps no exporter id
                "",
                item.hs_code[:6],
                item.origin,
                s.country_of_export,
                s.type,  # process type: import or export
                "pre-arrival" if s.pre_arrival else "",  # the exporting side's data was matched
                "",
                "",  # payment is chosen after lodgement: unknown when scoring
                s.transport_mode,
                item.duty_kind,
                item.preference,
                float(item.net_mass_kg),
                float(item.value_national),
                float(item.duty_rate),
            )
            for name, value in zip(SCORING_COLUMNS, row, strict=True):
                columns[name].append(value)
    return owner, columns


def _matches(p: RiskProfile, s: Subject, item: SubjectItem) -> bool:
    if p.hs_prefix and not item.hs_code.startswith(p.hs_prefix):
        return False
    if p.origin and item.origin != p.origin:
        return False
    if p.importer_id and s.importer_id != p.importer_id:
        return False
    if p.office and s.office != p.office:
        return False
    if p.min_value_per_kg is not None or p.max_value_per_kg is not None:
        per_kg = item.value_national / item.net_mass_kg
        if p.min_value_per_kg is not None and per_kg < p.min_value_per_kg:
            return False
        if p.max_value_per_kg is not None and per_kg > p.max_value_per_kg:
            return False
    return True


# Built once: read by every declaration's and movement's selection.
_ACTIVE_PROFILES = select(RiskProfile).where(RiskProfile.active)


def active_profiles(session: Session) -> list[RiskProfile]:
    return list(session.scalars(_ACTIVE_PROFILES))


def weighs_value(profiles: Iterable[RiskProfile]) -> bool:
    """Whether any of `profiles` reads an item's value (per kg): when none does, a caller may
    skip converting the values to the national currency."""
    return any(p.min_value_per_kg is not None or p.max_value_per_kg is not None for p in profiles)


def rule_hits(profiles: list[RiskProfile], subject: Subject) -> list[tuple[str, str]]:
    hits = []
    for p in profiles:
        if any(_matches(p, subject, item) for item in subject.items):
            hits.append((p.lane, f"profile {p.name}: {p.reason}"))
    return hits


@dataclass
class Selectivity:
    """Lives as long as the process, so the score window follows the stream."""

    targets: Targets
    scorer: Scorer = field(default_factory=NoModel)
    window: ScoreWindow = field(default_factory=ScoreWindow)
    rng: random.Random = field(default_factory=random.Random)
    # Scores the current model gave before this process started, read once on first use, so
    # that thresholds hold from the first declaration instead of after a warm-up.
    past_scores: Callable[[Session], Iterable[float]] | None = None

    def assess(self, session: Session, subjects: list[Subject]) -> list[Assessment]:
        if self.past_scores is not None:
            for past in self.past_scores(session):
                self.window.add(past)
            self.past_scores = None
        profiles = active_profiles(session)
        opinions = self._opinions(subjects)
        out = []
        for index, subject in enumerate(subjects):
            opinion = opinions[index] if opinions is not None else None
            score = opinion.score if opinion is not None else None
            chosen: Selection = select_lane(
                rule_hits(profiles, subject), score, self.window, self.targets, self.rng
            )
            reasons = chosen.reasons + (opinion.reasons if opinion is not None else ())
            out.append(Assessment(chosen.lane, score, reasons, chosen.random))
        return out

    def by_rules(
        self, session: Session, subject: Subject, profiles: list[RiskProfile] | None = None
    ) -> Assessment:
        """The lane of a subject unlike the ones the model learned from (a transit
        declaration): the rule profiles (the active ones, unless the caller read them
        already: `profiles`) and the random picks, no score."""
        if profiles is None:
            profiles = active_profiles(session)
        hits = rule_hits(profiles, subject)
        chosen = select_lane(hits, None, self.window, self.targets, self.rng)
        return Assessment(chosen.lane, None, chosen.reasons, chosen.random)

    def _opinions(self, subjects: list[Subject]) -> list[Opinion] | None:
        if isinstance(self.scorer, Explaining):
            return self.scorer.opinions(subjects)
        scores = self.scorer.score(subjects)
        return None if scores is None else [Opinion(score) for score in scores]


LANES = ("yellow", "red", "blue")
CRITERIA = ("hs_prefix", "origin", "importer_id", "office", "min_value_per_kg", "max_value_per_kg")
PROFILE = "risk_profile"  # the audit trail's entity type


def create_profile(session: Session, **values: Any) -> RiskProfile:
    errors = []
    if values.get("lane") not in LANES:
        message = Text("lane must be one of {lanes}", lanes=", ".join(LANES))
        errors.append(FieldError("lane", "unknown_lane", message))
    if not values.get("name"):
        errors.append(FieldError("name", "required", Text("a profile needs a name")))
    if not values.get("reason"):
        errors.append(FieldError("reason", "required", Text("say why the profile exists")))
    if values.get("origin") and not is_country(values["origin"]):
        message = Text("not an ISO 3166 alpha-2 code")
        errors.append(FieldError("origin", "unknown_country", message))
    prefix = values.get("hs_prefix")
    if prefix and not (prefix.isdigit() and 2 <= len(prefix) <= 8):
        errors.append(FieldError("hs_prefix", "format", Text("an HS prefix is 2 to 8 digits")))
    if not any(values.get(c) is not None for c in CRITERIA):
        message = Text("a profile needs at least one criterion")
        errors.append(FieldError("criteria", "required", message))
    if errors:
        raise InvalidInput(errors)
    if session.scalar(select(RiskProfile.id).where(RiskProfile.name == values["name"])):
        raise Conflict(Text("a risk profile named {name!r} exists", name=values["name"]))
    profile = RiskProfile(**values)
    session.add(profile)
    session.flush()
    return profile


def list_profiles(session: Session) -> list[RiskProfile]:
    return list(session.scalars(select(RiskProfile).order_by(RiskProfile.name)))


def add_profile(
    session: Session, values: Mapping[str, Any], *, by: str, now: datetime
) -> RiskProfile:
    """`create_profile`, put on the audit trail under the name of who wrote it."""
    profile = create_profile(session, **values)
    criteria = {c: str(values[c]) for c in CRITERIA if values.get(c) is not None}
    audit.record(
        session, at=now, actor=by, action="risk.profile_created", entity_type=PROFILE,
        entity_id=profile.name, detail={"lane": profile.lane, "criteria": criteria},
    )  # fmt: skip
    return profile


def expire_profile(session: Session, profile_id: int, *, by: str, now: datetime) -> RiskProfile:
    """Stop using a profile for lanes; it stays on record (declarations name it in their
    reasons). Expiring an expired profile changes nothing."""
    profile = session.get(RiskProfile, profile_id, with_for_update=True)
    if profile is None:
        raise NotFound(Text("no risk profile {profile_id}", profile_id=profile_id))
    if profile.active:
        profile.active = False
        audit.record(
            session, at=now, actor=by, action="risk.profile_expired", entity_type=PROFILE,
            entity_id=profile.name, from_status="active", to_status="expired",
        )  # fmt: skip
        session.flush()
    return profile
