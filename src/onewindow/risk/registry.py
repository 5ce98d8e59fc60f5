"""The model registry: the artifacts a node knows, the one it scores with, and the way back.

Registering copies an artifact into the node's model store (DIR/VERSION) and records it;
activating makes it the model every lodged declaration is scored with; rollback returns to the
model that was active before the current one was activated (repeatedly, like a stack). Every
artifact is loaded and checked (markers, versions, checksums) before it becomes active, so a
corrupted or foreign one is refused with the reason instead of failing at lodgement.

This module does not import LightGBM: the node asks it for the active model at startup, and a
command that never scores must not pay seconds for that import (see `load_scorer`).
"""

from __future__ import annotations

import importlib
import logging
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit import audit
from onewindow.kit.config import ROOT, Settings
from onewindow.kit.errors import Conflict, InvalidInput, NotFound, Text
from onewindow.risk.models import RegisteredModel
from onewindow.risk.service import Opinion, Subject

log = logging.getLogger("onewindow.risk")
ENTITY = "risk_model"


def load_scorer(path: Path) -> Any:
    """The artifact at `path` as a scorer (scoring.ModelScorer); InvalidInput when it is not
    an intact OneWindow model."""
    # importlib: the scorer pulls in LightGBM and pandas, seconds of start-up that only a node
    # with an active model, or a command that registers or activates one, should pay.
    scoring = importlib.import_module("onewindow.risk.scoring")
    return scoring.ModelScorer.load(path)


def default_store(settings: Settings) -> Path:
    """Where the node keeps its models: beside its SQLite database (var/models by default),
    else beside its configuration file, else var/models under the working directory."""
    url = settings.database_url
    if url.startswith("sqlite:///") and url.split("///", 1)[1] not in ("", ":memory:"):
        return Path(url.split("///", 1)[1]).resolve().parent / "models"
    if settings.config_file is not None:
        return settings.config_file.parent / "models"
    return ROOT / "var" / "models"


def list_models(session: Session) -> list[RegisteredModel]:
    stmt = select(RegisteredModel).order_by(
        RegisteredModel.registered_at.desc(), RegisteredModel.id.desc()
    )
    return list(session.scalars(stmt))


def get_model(session: Session, version: str, *, lock: bool = False) -> RegisteredModel:
    stmt = select(RegisteredModel).where(RegisteredModel.version == version)
    found = session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise NotFound(
            Text(
                "no registered risk model {version!r} (see `onewindow risk models`)",
                version=version,
            )
        )
    return found


def active_model(session: Session, *, lock: bool = False) -> RegisteredModel | None:
    stmt = select(RegisteredModel).where(RegisteredModel.active)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def register(
    session: Session, source: Path, store: Path, *, by: str, now: datetime
) -> RegisteredModel:
    """Check the artifact at `source`, copy it to STORE/VERSION and record it (inactive)."""
    info = load_scorer(source).model.info
    version = str(info["version"])
    if session.scalar(select(RegisteredModel.id).where(RegisteredModel.version == version)):
        raise Conflict(f"risk model {version} is already registered")
    path = _copy(source, store / version)
    chosen = (info.get("internal_validation") or {}).get("chosen") or {}
    dates = info.get("date_range") or [None, None]
    row = RegisteredModel(
        version=version,
        path=str(path),
        created_at=datetime.fromisoformat(str(info["created_at"])),
        registered_at=now,
        registered_by=by,
        data_from=_day(dates[0]),
        data_to=_day(dates[1]),
        rows=int(info.get("rows", 0)),
        labelled=int(info.get("labelled", 0)),
        data_format=str(info.get("data_format", "unknown"))[:40],
        metrics={
            "illicit_rate": info.get("illicit_rate"),
            "internal_validation": {k: chosen.get(k) for k in ("objective", "auc", "top")}
            if chosen
            else None,
            "settings": info.get("settings"),
        },
        active=False,
    )
    session.add(row)
    session.flush()
    _audit(session, row, "registered", by, now, {"path": row.path})
    log.info("risk.model_registered version=%s", version)
    return row


def activate(session: Session, version: str, *, by: str, now: datetime) -> RegisteredModel:
    """Make `version` the model that scores; the one active until now becomes its rollback."""
    target = get_model(session, version, lock=True)
    current = active_model(session, lock=True)
    _check(target)  # also when it is active already: that is how one checks it is intact
    if current is not None and current.id == target.id:
        return target
    _switch(session, current, target, by, now)
    target.previous_version = current.version if current is not None else None
    _audit(session, target, "activated", by, now, {"previous": target.previous_version})
    return target


def rollback(session: Session, *, by: str, now: datetime) -> RegisteredModel:
    """Go back to the model that was active before the current one was activated."""
    current = active_model(session, lock=True)
    if current is None:
        raise Conflict(Text("no risk model is active, so there is nothing to roll back"))
    if current.previous_version is None:
        raise Conflict(
            Text(
                "no model was active before {version}; nothing to roll back to",
                version=current.version,
            )
        )
    target = get_model(session, current.previous_version, lock=True)
    _check(target)
    _switch(session, current, target, by, now)
    _audit(session, target, "rolled_back", by, now, {"from": current.version})
    return target


class ActiveModel:
    """The registry's active model as the node's scorer, loaded on first use.

    Loading waits for the first declaration to score, so that commands which only read (and
    the API's start) do not pay for LightGBM. If the artifact was damaged after activation the
    node keeps clearing goods on rule profiles and random picks, and says so in its log.
    """

    def __init__(self, version: str, path: Path) -> None:
        self.version = version
        self.path = path
        self.error: str | None = None
        self._scorer: Any = None

    def load(self) -> Any:
        if self._scorer is None and self.error is None:
            try:
                self._scorer = load_scorer(self.path)
            except InvalidInput as exc:
                self.error = exc.detail
                log.error("risk.model_unavailable version=%s reason=%s", self.version, exc.detail)
        return self._scorer

    def score(self, subjects: list[Subject]) -> list[float] | None:
        scorer = self.load()
        return None if scorer is None else scorer.score(subjects)

    def opinions(self, subjects: list[Subject]) -> list[Opinion] | None:
        scorer = self.load()
        return None if scorer is None else scorer.opinions(subjects)


def _check(model: RegisteredModel) -> None:
    loaded = load_scorer(Path(model.path))
    if loaded.version != model.version:
        raise Conflict(
            Text(
                "the artifact at {path} is model {found}, not {version}",
                path=model.path,
                found=loaded.version,
                version=model.version,
            )
        )


def _switch(
    session: Session,
    current: RegisteredModel | None,
    target: RegisteredModel,
    by: str,
    now: datetime,
) -> None:
    if current is not None:
        current.active = False
        # Written first: the one-active index would refuse two active rows even for a moment.
        session.flush()
    target.active = True
    target.activated_at = now
    target.activated_by = by
    session.flush()
    log.info("risk.model_activated version=%s by=%s", target.version, by)


def _copy(source: Path, destination: Path) -> Path:
    """Copy an artifact directory; a reader never sees a half-copied model."""
    if destination.exists():
        raise Conflict(f"{destination} already exists in the model store")
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        staging.chmod(0o755)  # mkdtemp makes it private; the node's processes must read it
        staging.rename(destination)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return destination.resolve()


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _audit(
    session: Session,
    model: RegisteredModel,
    action: str,
    by: str,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    audit.record(
        session,
        at=now,
        actor=by,
        action=f"risk.model_{action}",
        entity_type=ENTITY,
        entity_id=model.version,
        detail=detail,
    )
