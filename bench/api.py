"""The lodging endpoint under load from wrk (a separate process), against a bare FastAPI
endpoint that only parses the same body, in the same run. Both servers: one uvicorn process.

    .venv/bin/python bench/api.py [--seconds 15] [--connections 16]

Prints progress to stderr and one JSON object last. Needs `wrk` (Debian package).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
DATA = resources.files("onewindow") / "data"
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.body = [==[{body}]==]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            httpx.get(health, timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{args} did not start")


def wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/api.py needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="ow-api-bench-"))
    env = os.environ | {"ONEWINDOW_DATABASE_URL": f"sqlite:///{work / 'node.db'}"}

    def run(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "onewindow"), *a], env=env, check=True, capture_output=True, text=True
        )

    run("tariff", "import", str(DATA / "sample_tariff.csv"))
    run("rates", "import", str(DATA / "sample_rates.csv"))
    token = json.loads(
        run("user", "add", "bench", "--role", "trader", "--party", "0101234567", "--json").stdout
    )["token"]
    document = json.loads((DATA / "sample_declaration.json").read_text())
    export = dict(
        document,
        type="EX",
        country_of_export="VN",
        country_of_destination="SG",
        exporter={"id": "0101234567", "name": "Saigon Logistics", "country": "VN"},
        declarant={"id": "0101234567", "name": "Saigon Logistics"},
        transport={"mode": "1", "departure_date": "2026-11-20"},
        items=[{k: v for k, v in document["items"][0].items() if k != "preference"}],
    )
    scripts = {}
    for name, body in (("import", document), ("export", export)):
        scripts[name] = work / f"{name}.lua"
        scripts[name].write_text(LUA.format(token=token, body=json.dumps(body)))

    node_port, bare_port = free_port(), free_port()
    node = start(
        [str(BIN / "onewindow"), "serve", "--port", str(node_port)],
        env,
        f"http://127.0.0.1:{node_port}/api/v1/health",
    )
    bare = start(
        [
            str(BIN / "uvicorn"),
            "bare_app:app",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
            "--app-dir",
            str(Path(__file__).parent),
        ],
        env,
        f"http://127.0.0.1:{bare_port}/docs",
    )
    try:
        print("bare endpoint...", file=sys.stderr)
        base = wrk(
            f"http://127.0.0.1:{bare_port}/bare", scripts["import"], args.seconds, args.connections
        )
        print("lodging endpoint...", file=sys.stderr)
        lodged = wrk(
            f"http://127.0.0.1:{node_port}/api/v1/declarations",
            scripts["import"],
            args.seconds,
            args.connections,
        )
        print("green exports, cleared at lodging, one connection...", file=sys.stderr)
        green = wrk(
            f"http://127.0.0.1:{node_port}/api/v1/declarations",
            scripts["export"],
            max(5, args.seconds // 3),
            1,
        )
    finally:
        node.terminate()
        bare.terminate()
    print(
        json.dumps(
            {
                "connections": args.connections,
                "seconds": args.seconds,
                "lodged_per_s": round(lodged["per_s"], 1),
                "bare_per_s": round(base["per_s"], 1),
                "ratio": round(lodged["per_s"] / base["per_s"], 3),
                "p50_ms": lodged["p50_ms"],
                "p99_ms": lodged["p99_ms"],
                "errors": lodged["errors"],
                "bare_p50_ms": base["p50_ms"],
                "bare_p99_ms": base["p99_ms"],
                "green_cleared_p50_ms": green["p50_ms"],
                "green_cleared_p99_ms": green["p99_ms"],
            }
        )
    )


if __name__ == "__main__":
    main()
