"""Domains depend downward only, and nobody dodges a cycle with a function-local import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "onewindow"
DOMAINS = ("declarations", "tariff", "origin", "exchange", "ledger", "risk")
# What each domain must not import (DESIGN.md: declarations may use tariff, origin, risk;
# origin uses exchange and ledger; exchange and ledger know nothing of the others).
FORBIDDEN = {
    "tariff": {"declarations", "origin", "risk", "exchange", "ledger"},
    "risk": {"declarations", "origin", "exchange", "ledger"},
    "origin": {"declarations", "risk"},
    "exchange": {"declarations", "tariff", "origin", "risk", "ledger"},
    "ledger": {"declarations", "tariff", "origin", "risk", "exchange"},
    "declarations": set(),
}
PLATFORM = (
    "config",
    "db",
    "errors",
    "auth",
    "audit",
    "money",
    "clock",
    "codes",
    "keys",
    "tls",
    "fields",
    "api_edge",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m.split(".")[1] for m in found if m.startswith("onewindow.") and m.count(".") >= 1}


@pytest.mark.parametrize("domain", DOMAINS)
def test_domains_depend_downward_only(domain: str) -> None:
    for path in (SRC / domain).rglob("*.py"):
        if path.name in ("cli.py", "api.py"):
            continue  # the edges may compose several domains' services
        bad = _imports(path) & FORBIDDEN[domain]
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


@pytest.mark.parametrize("module", PLATFORM)
def test_platform_pieces_know_no_domain(module: str) -> None:
    path = SRC / f"{module}.py"
    if path.exists():
        assert not _imports(path) & set(DOMAINS)


def test_no_function_local_imports() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        offenders.append(f"{path.relative_to(SRC)}:{inner.lineno}")
    assert not offenders, offenders


def test_files_stay_small() -> None:
    large = [
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if len(p.read_text().splitlines()) > 500
    ]
    assert not large
