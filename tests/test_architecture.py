"""The floors of the house, from each domain's declared dependencies (docs/architecture.md).

kit: imports nothing of OneWindow above it. Shared services and domains: each imports the
kit, itself, and only the domains its `domain.py` declares in `uses` (the `logged` glue
counts as using the exchange and the ledger). Composition roots: imported by nothing in
src/. Every package is an installed domain, the kit or a root, so a new domain cannot go
unchecked. And nobody dodges a cycle with a function-local import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from onewindow import domains

SRC = Path(__file__).parents[1] / "src" / "onewindow"
DOMAINS = {d.name: d for d in domains.DOMAINS}
ROOTS = {"app", "domains", "cli", "migrations"}  # the app factory, the list, the CLI entry
GLUE = {"logged": {"exchange", "ledger"}}  # shared-services glue: what it stands on
KIT = "kit"


def _unit(path: Path) -> str:
    """The package (or top-level module) a file of src/onewindow belongs to."""
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, unit) for each OneWindow unit the file imports."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] != "onewindow":
                continue
            if len(parts) == 1:
                for alias in node.names:
                    yield node.lineno, alias.name
            else:
                yield node.lineno, parts[1]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "onewindow" and len(parts) > 1:
                    yield node.lineno, parts[1]


def _allowed(unit: str) -> set[str]:
    if unit == KIT:
        return {KIT}
    if unit in GLUE:
        return {KIT, unit} | GLUE[unit]
    uses = set(DOMAINS[unit].uses)
    glue = {name for name, needs in GLUE.items() if needs <= uses}
    return {KIT, unit} | uses | glue


def _files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if _unit(p) not in ROOTS | {"__init__"})


def test_every_package_is_the_kit_a_domain_a_root_or_glue() -> None:
    units = {_unit(p) for p in SRC.rglob("*.py")} - {"__init__"}
    unknown = units - ROOTS - GLUE.keys() - DOMAINS.keys() - {KIT}
    assert not unknown, f"{sorted(unknown)}: add each to onewindow.domains.DOMAINS"


def _violations(path: Path, unit: str) -> list[str]:
    allowed = _allowed(unit)
    return [f"line {line}: {used}" for line, used in _imports(path) if used not in allowed]


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_declared_dependencies(path: Path) -> None:
    unit = _unit(path)
    bad = _violations(path, unit)
    assert not bad, f"{path.relative_to(SRC)} imports {bad}; it may use {sorted(_allowed(unit))}"


def test_nothing_in_src_imports_a_composition_root() -> None:
    bad = [
        f"{p.relative_to(SRC)}:{line} imports {unit}"
        for p in _files()
        for line, unit in _imports(p)
        if unit in ROOTS
    ]
    assert not bad


def test_domains_are_listed_after_those_they_use() -> None:
    seen: set[str] = set()
    for each in domains.DOMAINS:
        unknown = set(each.uses) - DOMAINS.keys()
        assert not unknown, f"{each.name} uses {sorted(unknown)}, which are not domains"
        later = set(each.uses) - seen
        assert not later, f"{each.name} is listed before {sorted(later)}, which it uses"
        seen.add(each.name)


def test_a_domain_importing_one_it_did_not_declare_fails(tmp_path: Path) -> None:
    """The check above is real: tariff may not use declarations."""
    rogue = tmp_path / "rogue.py"
    rogue.write_text("from onewindow.kit import db\nfrom onewindow.declarations import service\n")
    assert _violations(rogue, "tariff") == ["line 2: declarations"]
    assert _violations(rogue, "declarations") == []


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


def _one_letter_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def test_names_in_a_package_are_told_apart() -> None:
    """No `model.py` beside `models.py`, no `schemas.py` beside a `schemas/` folder."""
    confusing = []
    for package in [SRC, *(p for p in SRC.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        modules = sorted(p.stem for p in package.glob("*.py"))
        folders = {p.name for p in package.iterdir() if p.is_dir()}
        confusing += [
            f"{package.relative_to(SRC)}: {a} / {b}"
            for i, a in enumerate(modules)
            for b in modules[i + 1 :]
            if _one_letter_apart(a, b)
        ]
        confusing += [f"{package.relative_to(SRC)}: {m}.py / {m}/" for m in modules if m in folders]
    assert not confusing, confusing


def test_tests_mirror_the_source_tree() -> None:
    """tests/<package>/ for a package's tests; tests/integration/ for several processes."""
    tests = Path(__file__).parent
    folders = {p.name for p in tests.iterdir() if p.is_dir() and p.name != "__pycache__"}
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    assert folders - {"integration"} <= packages, sorted(folders - packages - {"integration"})
