"""The README's main command, end to end: three nodes as real processes on loopback, a Form D
from TH used in VN and reported back, an ACDD from VN to SG. Checked through each node's CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "onewindow"


def free_block(size: int) -> int:
    """A first port with `size` free ports after it (good enough on a quiet loopback)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + size >= 65535:
            continue
        try:
            sockets = [socket.socket() for _ in range(size)]
            for n, s in enumerate(sockets):
                s.bind(("127.0.0.1", first + n))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free block of ports")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=240,
                          env=env, check=False)  # fmt: skip


def test_demo_runs_the_scenario_across_three_node_processes(tmp_path: Path) -> None:
    directory = tmp_path / "federation"
    result = run("demo", "--dir", str(directory), "--no-serve", "--count", "10",
                 "--base-port", str(free_block(3)))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "preference granted" in result.stdout
    assert "TH shows TH-2026-000001 as utilised" in result.stdout

    def at(country: str, *args: str) -> object:
        env = os.environ | {"ONEWINDOW_CONFIG": str(directory / country / "node.json")}
        out = run(*args, "--json", env=env)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    issued = at("TH", "origin", "list")
    assert isinstance(issued, list)
    assert [(c["reference"], c["status"], c["source"]) for c in issued] == [
        ("TH-2026-000001", "utilised", "issued")
    ]
    received = at("VN", "origin", "list")
    assert isinstance(received, list) and received[0]["items"][0]["used"] == "100"
    pre_arrivals = at("SG", "declaration", "pre-arrivals")
    assert isinstance(pre_arrivals, list) and pre_arrivals[0]["from"] == "VN"
