"""`onewindow risk`: train, evaluate and simulate the learned risk model, from files or from
the node's own declarations; register, activate and roll back the model the node scores with.

Progress goes to stderr; with --json, stdout carries exactly one JSON document.
"""

from __future__ import annotations

import getpass
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onewindow.kit.cli import console, emit_json, err_console, handled
from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.kit.node import Node
from onewindow.risk import artifact, registry, sources
from onewindow.risk.evaluate import report, rounded
from onewindow.risk.frame import require_labels
from onewindow.risk.learning import train
from onewindow.risk.models import RegisteredModel
from onewindow.risk.schemas import ModelRead
from onewindow.risk.simulate import simulate

app = typer.Typer(
    help="Risk engine: train, evaluate, simulate; the node's models.", no_args_is_help=True
)

DataOption = typer.Option([], "--data", help="Declarations file; repeat for several.")
FormatOption = typer.Option("kcs", "--format", help="Input format: kcs or native.")
FromDbOption = typer.Option(
    False, "--from-db", help="This node's own declarations and inspection findings (native)."
)
JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")
ThreadsOption = typer.Option(1, "--threads", min=0, help="LightGBM threads (0: all cores).")
SinceOption = typer.Option(None, "--since", formats=["%Y-%m-%d"], help="From this day on.")
UntilOption = typer.Option(None, "--until", formats=["%Y-%m-%d"], help="Before this day.")
StoreOption = typer.Option(
    None, "--models-dir", help="The node's model store (default: var/models beside the database)."
)


def load_frames(
    paths: list[Path], fmt: str, since: datetime | None = None, until: datetime | None = None
) -> pd.DataFrame:
    """The declarations of the files (or this node), dated on or after `since`, before `until`."""
    frame = _read(paths, fmt)
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= frame["date"] >= pd.Timestamp(since)
    if until is not None:
        keep &= frame["date"] < pd.Timestamp(until)
    if not keep.any():
        period = FieldError("--since/--until", "empty", "no declarations in the period")
        raise InvalidInput([period])
    return frame if keep.all() else frame[keep].reset_index(drop=True)


def _read(paths: list[Path], fmt: str) -> pd.DataFrame:
    """Files in format `fmt`; none: this node's own data (`native`, with --from-db)."""
    found = sources.source(fmt)
    if not paths and found.read_node is not None:
        with Node.open().transaction() as session:
            return found.read_node(session)
    if not paths:
        raise InvalidInput(
            [FieldError("--data", "required", "give --data FILE, or --from-db for this node")]
        )
    reader = found.read_file
    frames = [reader(path) for path in paths]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _source(paths: list[Path], fmt: str) -> tuple[str, list[str]]:
    names = [p.name for p in paths] or ["node database"]
    return (names[0] if paths else fmt), names


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


@contextmanager
def _stage(message: str) -> Iterator[Callable[[str], None]]:
    with err_console.status(message) as status:

        def step(text: str) -> None:
            status.update(f"{message}: {text}")

        yield step


@app.command("train")
def train_command(
    data: list[Path] = DataOption,
    fmt: str = FormatOption,
    from_db: bool = FromDbOption,
    out: Path | None = typer.Option(None, "--out", help="Directory to write the artifact to."),
    register: bool = typer.Option(False, "--register", help="Copy to the model store, register."),
    activate: bool = typer.Option(False, "--activate", help="Register and score with it now."),
    store: Path | None = StoreOption,
    until: datetime | None = UntilOption,
    threads: int = ThreadsOption,
    json_output: bool = JsonOption,
) -> None:
    """Train on labelled declarations; settings are chosen on a time-ordered internal holdout."""
    with handled(json_output):
        fmt = "native" if from_db else fmt
        if out is None and not (register or activate):
            raise InvalidInput([FieldError("--out", "required", "give --out DIR or --register")])
        started = time.perf_counter()
        frame = load_frames(data, fmt, until=until)
        source, names = _source(data, fmt)
        with _stage("training") as step:
            model = train(frame, progress=step, source=source, threads=threads)
        summary = _save(model, out, fmt, names, time.perf_counter() - started)
        if register or activate:
            summary |= _register(Path(summary["model"]), store, activate)
            if out is None:
                shutil.rmtree(Path(summary["model"]).parent, ignore_errors=True)
                summary["model"] = summary["registered"]
        _print_trained(summary, json_output)


def _save(model: Any, out: Path | None, fmt: str, names: list[str], seconds: float) -> Any:
    extra: dict[str, Any] = {
        "sources": names,
        "data_format": fmt,
        "revenue_definition": sources.revenue_note(fmt),
        "training_seconds": round(seconds, 2),
    }
    # Without --out the artifact only passes through on its way into the model store.
    target = out if out is not None else Path(tempfile.mkdtemp(prefix="onewindow-model-")) / "m"
    metadata = artifact.save(model, target, extra=extra)
    return {
        "model": str(target),
        "version": metadata["version"],
        "rows": metadata["rows"],
        "labelled": metadata["labelled"],
        "date_range": metadata["date_range"],
        "settings": metadata["settings"],
        "internal_validation": metadata["internal_validation"]["chosen"],
        "training_seconds": round(seconds, 2),
        "revenue_definition": extra["revenue_definition"],
    }


def _register(directory: Path, store: Path | None, activate: bool) -> dict[str, Any]:
    node = Node.open()
    with node.transaction() as session:
        where = store if store is not None else registry.default_store(node.settings)
        row = registry.register(session, directory, where, by=_operator(), now=node.clock.now())
        if activate:
            registry.activate(session, row.version, by=_operator(), now=node.clock.now())
        return {"registered": row.path, "active": row.active}


def _print_trained(summary: dict[str, Any], json_output: bool) -> None:
    if json_output:
        emit_json(rounded(summary))
        return
    console.print(f"model [bold]{summary['version']}[/] written to {summary['model']}")
    start, end = summary["date_range"]
    console.print(
        f"{summary['rows']} rows ({summary['labelled']} labelled), {start} to {end}, "
        f"{summary['training_seconds']:.1f} s"
    )
    settings = ", ".join(f"{k} {v}" for k, v in summary["settings"].items())
    console.print(f"settings: {settings}")
    if summary["internal_validation"]:
        title = "internal validation (latest 20 % of days)"
        table = _top_table(summary["internal_validation"]["top"], title)
        console.print(table)
    if "registered" in summary:
        state = "active" if summary["active"] else "registered, not active"
        console.print(f"{state}: {summary['registered']}")


@app.command("evaluate")
def evaluate_command(
    model_dir: Path = typer.Option(..., "--model", help="Model artifact directory."),
    data: list[Path] = DataOption,
    fmt: str = FormatOption,
    from_db: bool = FromDbOption,
    revenue_weight: float = typer.Option(
        0.0, "--revenue-weight", min=0.0, max=1.0, help="0 precision-first, 1 revenue-first."
    ),
    since: datetime | None = SinceOption,
    json_output: bool = JsonOption,
) -> None:
    """Precision, recall and revenue share among the top 1/2/5/10 % on labelled data."""
    with handled(json_output):
        fmt = "native" if from_db else fmt
        model = artifact.load(model_dir)
        frame = load_frames(data, fmt, since=since)
        require_labels(frame, source=_source(data, fmt)[0])
        frame = frame[frame["label"].notna()].reset_index(drop=True)
        scores = model.score(frame)
        label = frame["label"].to_numpy(dtype=float)
        revenue = frame["revenue"].to_numpy(dtype=float)
        revenue_first = report(label, revenue, scores.priority(1.0))
        doc = report(
            label,
            revenue,
            scores.priority(revenue_weight),
            revenue_weight=revenue_weight,
            revenue_first=revenue_first["top"],
            model_version=model.info.get("version"),
            revenue_definition=sources.revenue_note(fmt),
        )
        doc = rounded(doc)
        if json_output:
            emit_json(doc)
            return
        console.print(f"{doc['rows']} declarations, AUC {doc['auc']}, model {doc['model_version']}")
        console.print(_top_table(doc["top"], f"ranking with revenue weight {revenue_weight}"))
        console.print(_top_table(doc["revenue_first"], "revenue-first ranking (weight 1)"))
        console.print(f"[dim]{doc['revenue_definition']}[/]")


@app.command("simulate")
def simulate_command(
    data: list[Path] = DataOption,
    fmt: str = FormatOption,
    inspection_rate: float = typer.Option(
        0.1, "--inspection-rate", min=0.001, max=1.0, help="Share of each week inspected."
    ),
    exploration: float = typer.Option(
        0.1, "--exploration", min=0.0, max=1.0, help="Share of inspections drawn at random."
    ),
    revenue_weight: float = typer.Option(0.0, "--revenue-weight", min=0.0, max=1.0),
    seed: int = typer.Option(0, "--seed"),
    threads: int = ThreadsOption,
    json_output: bool = JsonOption,
) -> None:
    """Weekly batches in date order; only inspected declarations are labelled; retrain weekly."""
    with handled(json_output):
        frame = load_frames(data, fmt)
        require_labels(frame, source=_source(data, fmt)[0])
        columns = (
            TextColumn("simulating weeks"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("weeks", total=None)

            def on_week(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = simulate(
                frame,
                inspection_rate=inspection_rate,
                exploration=exploration,
                revenue_weight=revenue_weight,
                seed=seed,
                threads=threads,
                on_week=on_week,
            )
        result["revenue_definition"] = sources.revenue_note(fmt)
        result = rounded(result)
        if json_output:
            emit_json(result)
            return
        table = Table(
            "week", "rows", "inspected", "illicit found", "precision", "norm. prec.", "revenue",
            "norm. rev.", title="weekly selection",
        )  # fmt: skip
        for row in result["per_week"]:
            table.add_row(
                row["week"], str(row["rows"]), str(row["inspected"]), str(row["illicit_found"]),
                f"{row['precision']:.3f}", f"{row['norm_precision']:.3f}",
                f"{row['revenue']:.3f}", f"{row['norm_revenue']:.3f}",
            )  # fmt: skip
        console.print(table)
        avg = result["average"]
        console.print(
            f"average over {result['weeks']} weeks: precision {avg['precision']:.3f} "
            f"(normalised {avg['norm_precision']:.3f}), revenue {avg['revenue']:.3f} "
            f"(normalised {avg['norm_revenue']:.3f}); model AUC on whole weeks "
            f"{result['average_auc']}"
        )
        console.print(f"[dim]{result['revenue_definition']}[/]")


@app.command("retrain")
def retrain_command(
    activate: bool = typer.Option(False, "--activate", help="Score with the new model now."),
    store: Path | None = StoreOption,
    threads: int = ThreadsOption,
    json_output: bool = JsonOption,
) -> None:
    """Train on this node's own declarations and inspection findings, and register the model."""
    train_command(
        data=[], fmt="native", from_db=True, out=None, register=True, activate=activate,
        store=store, until=None, threads=threads, json_output=json_output,
    )  # fmt: skip


@app.command("models")
def models_command(json_output: bool = JsonOption) -> None:
    """The registered models, newest first; the active one is marked."""
    with handled(json_output):
        with Node.open().transaction() as session:
            rows = [_model_dict(m) for m in registry.list_models(session)]
        if json_output:
            emit_json(rounded(rows))
            return
        if not rows:
            console.print("no risk models registered (`onewindow risk train --register`)")
            return
        table = Table(title="risk models (precision on the internal validation)")
        # The version is what `risk activate` takes: always shown whole.
        table.add_column("version", no_wrap=True, min_width=max(len(m["version"]) for m in rows))
        for name in ("active", "data", "rows", "prec@5%", "prec@10%", "activated"):
            table.add_column(name)
        for m in rows:
            top = (m["metrics"].get("internal_validation") or {}).get("top") or {}
            table.add_row(
                m["version"], "yes" if m["active"] else "", f"{m['data_from']} to {m['data_to']}",
                str(m["rows"]), _precision(top, "5"), _precision(top, "10"),
                (m["activated_at"] or "")[:10],
            )  # fmt: skip
        console.print(table)


@app.command("activate")
def activate_command(version: str, json_output: bool = JsonOption) -> None:
    """Score every lodged declaration with this registered model (checked before use)."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            row = registry.activate(session, version, by=_operator(), now=node.clock.now())
            done = _model_dict(row)
        emit_json(done) if json_output else console.print(f"active: {version}")


@app.command("rollback")
def rollback_command(json_output: bool = JsonOption) -> None:
    """Go back to the model that was active before the current one."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            row = registry.rollback(session, by=_operator(), now=node.clock.now())
            done = _model_dict(row)
        emit_json(done) if json_output else console.print(f"active again: {done['version']}")


def _model_dict(m: RegisteredModel) -> dict[str, Any]:
    return ModelRead.of(m).model_dump(mode="json") | {"path": m.path}


def _precision(top: dict[str, Any], n: str) -> str:
    return f"{top[n]['precision']:.3f}" if n in top else "-"


def _top_table(top: dict[str, Any], title: str) -> Table:
    table = Table("top", "k", "precision", "recall", "revenue", title=title)
    for n, row in top.items():
        table.add_row(
            f"{n} %", str(row["k"]), f"{row['precision']:.4f}", f"{row['recall']:.4f}",
            f"{row['revenue']:.4f}",
        )  # fmt: skip
    return table
