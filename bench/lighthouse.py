"""Lighthouse (12.2.3, from npm, on Debian's Chromium) on the portals' main pages: the
accessibility and best-practices scores of each, signed in as the role that works there, on a
node seeded with a few declarations and served by `onewindow serve`.

    .venv/bin/python bench/lighthouse.py

Installs Lighthouse into bench/node_modules (`npm ci`, from bench/package-lock.json) when it
is missing. Prints progress to stderr and one JSON object last: each page's scores and the
lowest of each category.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from api import free_port, start  # bench/api.py: start a server, wait for it

from onewindow import domains
from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.generator import declaration
from onewindow.kit import auth
from onewindow.kit.clock import FixedClock
from onewindow.kit.config import settings_class
from onewindow.kit.node import Node
from onewindow.risk import Selectivity, Targets
from onewindow.risk.lanes import lanes
from onewindow.risk.service import create_profile
from onewindow.tariff import import_rates, import_schedule

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
DATA = resources.files("onewindow") / "data"
LIGHTHOUSE = HERE / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
CATEGORIES = ("accessibility", "best-practices")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed(database: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Sample reference data, 30 declarations (laptops red), a user of each role;
    a declaration of the trader's and a red one for the officer."""
    node = Node.open(
        settings_class()(database_url=f"sqlite:///{database}"),
        FixedClock(datetime.now(UTC)),
    )
    lanes(node).selectivity = Selectivity(Targets(), rng=random.Random(1))
    with node.transaction() as s:
        import_schedule(s, (DATA / "sample_tariff.csv").read_text())
        import_rates(s, (DATA / "sample_rates.csv").read_text())
        create_profile(s, name="laptops", lane="red", reason="undervalued", hs_prefix="8471")
    rng = random.Random(7)
    with node.transaction() as s:
        docs = [declaration(rng, node.clock.now().date()) for _ in range(30)]
        service.lodge(s, auth.SYSTEM, docs, context(node))
        trader = auth.Principal("lh", auth.Role.TRADER, "0101234567")
        numbers = {
            "trader": service.search(s, trader, limit=1)[0].number,
            "officer": service.search(s, auth.SYSTEM, channel="red", limit=1)[0].number,
        }
        tokens = {
            role.value: auth.create_user(
                s, f"lh-{role.value}", role, "0101234567" if role is auth.Role.TRADER else None
            )
            for role in auth.Role
        }
    node.engine.dispose()
    return tokens, numbers


def audit(url: str, token: str | None, out: Path) -> dict[str, float]:
    args = [
        str(LIGHTHOUSE),
        url,
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        f"--output-path={out}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--quiet",
    ]
    if token:
        args.append("--extra-headers=" + json.dumps({"Cookie": f"ow_session={token}"}))
    env = os.environ | {"CHROME_PATH": "/usr/bin/chromium"}
    subprocess.run(args, env=env, check=True, timeout=300)
    report = json.loads(out.read_text())
    final = report.get("finalDisplayedUrl") or report.get("finalUrl", "")
    if "/sign-in" in final and "/sign-in" not in url:
        raise RuntimeError(f"{url} sent Lighthouse to sign in: the cookie was not taken")
    return {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}


def main() -> None:
    domains.install()
    if not LIGHTHOUSE.exists():
        say("installing Lighthouse into bench/node_modules (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    work = Path(tempfile.mkdtemp(prefix="ow-lighthouse-"))
    database = work / "node.db"
    tokens, numbers = seed(database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {"ONEWINDOW_DATABASE_URL": f"sqlite:///{database}"}
    server = start(
        [str(BIN / "onewindow"), "serve", "--port", str(port)], env, f"{base}/api/v1/health"
    )
    pages = [
        ("/sign-in", None),
        ("/", "trader"),
        ("/declarations", "trader"),
        ("/declarations/new", "trader"),
        (f"/declarations/{numbers['trader']}", "trader"),
        ("/queue", "officer"),
        (f"/declarations/{numbers['officer']}", "officer"),
        ("/certificates", "issuing_authority"),
        ("/certificates/new", "issuing_authority"),
        ("/risk/models", "supervisor"),
        ("/risk/profiles", "supervisor"),
        ("/ledger", "supervisor"),
        ("/exchange/messages", "supervisor"),
        ("/users", "administrator"),
        ("/analytics", "analyst"),
    ]
    results: dict[str, dict[str, float]] = {}
    try:
        for n, (path, role) in enumerate(pages, 1):
            say(f"[{n}/{len(pages)}] {path} as {role or 'nobody'}")
            token = tokens[role] if role else None
            results[f"{path} ({role or 'signed out'})"] = audit(
                base + path, token, work / f"{n}.json"
            )
    finally:
        server.terminate()
        server.wait(30)
    lowest = {c: min(r[c] for r in results.values()) for c in CATEGORIES}
    print(json.dumps({"lighthouse": "12.2.3", "pages": results, "lowest": lowest}))


if __name__ == "__main__":
    main()
