"""`onewindow risk`: train, evaluate and simulate the learned risk model from files.

Progress goes to stderr; with --json, stdout carries exactly one JSON document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onewindow.cli.output import console, emit_json, err_console, handled
from onewindow.errors import FieldError, InvalidInput
from onewindow.risk import artifact
from onewindow.risk.evaluate import report, rounded
from onewindow.risk.frame import require_labels
from onewindow.risk.kcs import REVENUE_NOTE, read_kcs
from onewindow.risk.model import train
from onewindow.risk.simulate import simulate

app = typer.Typer(help="Learned risk model: train, evaluate, simulate.", no_args_is_help=True)

# Format name -> reader of one file into the canonical frame (risk/frame.py). The node adds
# its own formats (e.g. "native") by putting a reader here.
READERS: dict[str, Callable[[Path], pd.DataFrame]] = {"kcs": read_kcs}
REVENUE_NOTES: dict[str, str] = {"kcs": REVENUE_NOTE}

DataOption = typer.Option(..., "--data", help="Declarations file; repeat for several.")
FormatOption = typer.Option("kcs", "--format", help="Input format (kcs).")
JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")
ThreadsOption = typer.Option(1, "--threads", min=0, help="LightGBM threads (0: all cores).")


def load_frames(paths: list[Path], fmt: str) -> pd.DataFrame:
    reader = READERS.get(fmt)
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise InvalidInput([FieldError("--format", "unknown_format", f"{fmt!r}; known: {known}")])
    frames = [reader(path) for path in paths]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


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
    out: Path = typer.Option(..., "--out", help="Directory to write the model artifact to."),
    threads: int = ThreadsOption,
    json_output: bool = JsonOption,
) -> None:
    """Train on labelled declarations; settings are chosen on a time-ordered internal holdout."""
    with handled(json_output):
        started = time.perf_counter()
        frame = load_frames(data, fmt)
        with _stage("training") as step:
            model = train(frame, progress=step, source=data[0].name, threads=threads)
        seconds = time.perf_counter() - started
        extra: dict[str, Any] = {
            "sources": [p.name for p in data],
            "data_format": fmt,
            "revenue_definition": REVENUE_NOTES.get(fmt, "revenue column of the input"),
            "training_seconds": round(seconds, 2),
        }
        metadata = artifact.save(model, out, extra=extra)
        chosen = metadata["internal_validation"]["chosen"]
        summary = {
            "model": str(out),
            "version": metadata["version"],
            "rows": metadata["rows"],
            "labelled": metadata["labelled"],
            "date_range": metadata["date_range"],
            "settings": metadata["settings"],
            "internal_validation": chosen,
            "training_seconds": round(seconds, 2),
            "revenue_definition": extra["revenue_definition"],
        }
        if json_output:
            emit_json(rounded(summary))
            return
        console.print(f"model [bold]{metadata['version']}[/] written to {out}")
        console.print(
            f"{metadata['rows']} rows ({metadata['labelled']} labelled), "
            f"{metadata['date_range'][0]} to {metadata['date_range'][1]}, {seconds:.1f} s"
        )
        console.print(f"settings: {metadata['settings']}")
        if chosen:
            console.print(_top_table(chosen["top"], "internal validation (latest 20 % of days)"))


@app.command("evaluate")
def evaluate_command(
    model_dir: Path = typer.Option(..., "--model", help="Model artifact directory."),
    data: list[Path] = DataOption,
    fmt: str = FormatOption,
    revenue_weight: float = typer.Option(
        0.0, "--revenue-weight", min=0.0, max=1.0, help="0 precision-first, 1 revenue-first."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Precision, recall and revenue share among the top 1/2/5/10 % on labelled data."""
    with handled(json_output):
        model = artifact.load(model_dir)
        frame = load_frames(data, fmt)
        require_labels(frame, source=data[0].name)
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
            revenue_definition=REVENUE_NOTES.get(fmt, "revenue column of the input"),
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
        require_labels(frame, source=data[0].name)
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
        result["revenue_definition"] = REVENUE_NOTES.get(fmt, "revenue column of the input")
        result = rounded(result)
        if json_output:
            emit_json(result)
            return
        table = Table(
            "week",
            "rows",
            "inspected",
            "illicit found",
            "precision",
            "norm. prec.",
            "revenue",
            "norm. rev.",
            title="weekly selection",
        )
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


def _top_table(top: dict[str, Any], title: str) -> Table:
    table = Table("top", "k", "precision", "recall", "revenue", title=title)
    for n, row in top.items():
        table.add_row(
            f"{n} %", str(row["k"]), f"{row['precision']:.4f}", f"{row['recall']:.4f}",
            f"{row['revenue']:.4f}",
        )  # fmt: skip
    return table
