"""A trained model on disk: a versioned directory that refuses to load when it is not intact.

    DIR/metadata.json     format marker and version, model version, data range, settings,
                          library versions, internal validation metrics, sha256 of every file
    DIR/classifier.txt    LightGBM model text: illicit probability
    DIR/regressor.txt     LightGBM model text: log revenue if illicit (absent when not learned)
    DIR/stats.json        feature statistics (features.FeatureStats.to_dict)

Writing goes to a sibling temporary directory that is renamed into place, so a reader never
sees half an artifact. Loading checks the marker, the format version and every checksum before
parsing anything, and names the file at fault.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import lightgbm as lgb
import orjson

from onewindow.kit.errors import FieldError, InvalidInput, Text
from onewindow.risk.features import FEATURE_NAMES, FeatureStats
from onewindow.risk.learning import RiskModel, Settings

FORMAT = "onewindow-risk-model"
FORMAT_VERSION = 1
METADATA = "metadata.json"
CLASSIFIER = "classifier.txt"
REGRESSOR = "regressor.txt"
STATS = "stats.json"


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("lightgbm", "scikit-learn", "pandas", "numpy", "onewindow"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def save(
    model: RiskModel, directory: Path, *, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write `model` to `directory` (replacing an earlier artifact) and return its metadata."""
    if directory.exists() and any(directory.iterdir()) and not (directory / METADATA).exists():
        raise InvalidInput(
            [FieldError(str(directory), "not_empty", "exists and is not a model artifact")]
        )
    blobs: dict[str, bytes] = {
        CLASSIFIER: model.classifier.model_to_string().encode(),
        STATS: orjson.dumps(model.stats.to_dict()),
    }
    if model.regressor is not None:
        blobs[REGRESSOR] = model.regressor.model_to_string().encode()
    sums = {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()}
    created = datetime.now(UTC)
    metadata: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "version": f"{created:%Y%m%dT%H%M%SZ}-{sums[CLASSIFIER][:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "settings": _settings_dict(model.settings),
        "features": list(FEATURE_NAMES),
        "libraries": library_versions(),
        **model.info,
        **(extra or {}),
        "files": sums,
    }
    blobs[METADATA] = orjson.dumps(metadata, option=orjson.OPT_INDENT_2)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a model is meant to be read by the node
    try:
        for name, blob in blobs.items():
            (staging / name).write_bytes(blob)
        if directory.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
            os.replace(directory, retired / "artifact")
            os.replace(staging, directory)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return metadata


def read_metadata(directory: Path) -> dict[str, Any]:
    where = str(directory)
    if not directory.is_dir():
        raise _bad(where, "not_found", Text("no such model directory"))
    path = directory / METADATA
    if not path.is_file():
        message = Text("no {file}: not a OneWindow risk model", file=METADATA)
        raise _bad(where, "not_an_artifact", message)
    try:
        metadata = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise _bad(str(path), "corrupted", Text("not valid JSON ({error})", error=exc)) from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        message = Text("format marker is not {format!r}", format=FORMAT)
        raise _bad(str(path), "not_an_artifact", message)
    found = metadata.get("format_version")
    if found != FORMAT_VERSION:
        raise _bad(
            str(path),
            "unsupported_version",
            Text(
                "format version {found!r}; this OneWindow reads version {version}",
                found=found,
                version=FORMAT_VERSION,
            ),
        )
    if metadata.get("features") != list(FEATURE_NAMES):
        raise _bad(str(path), "incompatible", Text("trained with a different feature set"))
    return metadata


def load(directory: Path) -> RiskModel:
    metadata = read_metadata(directory)
    files = metadata.get("files")
    if not isinstance(files, dict) or CLASSIFIER not in files or STATS not in files:
        raise _bad(str(directory / METADATA), "corrupted", Text("the file list is missing"))
    blobs: dict[str, bytes] = {}
    for name, expected in files.items():
        path = directory / name
        if name not in (CLASSIFIER, REGRESSOR, STATS):
            raise _bad(str(path), "corrupted", Text("unexpected file in the file list"))
        try:
            blob = path.read_bytes()
        except OSError as exc:
            message = Text("cannot be read ({reason})", reason=exc.strerror)
            raise _bad(str(path), "corrupted", message) from exc
        if hashlib.sha256(blob).hexdigest() != expected:
            message = Text("content differs from its recorded sha256")
            raise _bad(str(path), "checksum_mismatch", message)
        blobs[name] = blob
    try:
        stats = FeatureStats.from_dict(orjson.loads(blobs[STATS]))
        classifier = lgb.Booster(model_str=blobs[CLASSIFIER].decode())
        regressor = lgb.Booster(model_str=blobs[REGRESSOR].decode()) if REGRESSOR in blobs else None
        settings = Settings(**metadata["settings"])
    except (KeyError, TypeError, ValueError, lgb.basic.LightGBMError) as exc:
        message = Text("cannot be parsed ({error})", error=exc)
        raise _bad(str(directory), "corrupted", message) from exc
    return RiskModel(stats, classifier, regressor, settings, metadata)


def _settings_dict(settings: Settings) -> dict[str, Any]:
    return dict(settings.__dict__)


def _bad(path: str, code: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError(path, code, message)])
