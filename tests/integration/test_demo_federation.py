"""The README's main command, end to end: four nodes as real processes on loopback, a Form D
from TH used in VN and reported back, an ACDD from VN to SG, three ACTS movements from TH
through MY to SG. Checked through each node's CLI;
the sign-ins it prints open the portal of a node served again from the same folder."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
from tests.integration.conftest import NodeProcess

from onewindow.cli.demo import DEMO_PASSWORD
from onewindow.kit.auth import Role

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


def test_demo_runs_the_scenario_across_four_node_processes(tmp_path: Path) -> None:
    directory = tmp_path / "federation"
    base_port = free_block(4)
    result = run("demo", "--dir", str(directory), "--no-serve", "--count", "10",
                 "--base-port", str(base_port))  # fmt: skip
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
    # transit: written off, held for an officer (seals broken), under enquiry
    departed = at("TH", "transit", "list")
    assert isinstance(departed, list)
    assert [m["status"] for m in reversed(departed)] == ["discharged", "discrepancies", "enquiry"]
    first = departed[-1]
    assert first["countries"] == ["TH", "MY", "SG"] and first["exposure"].keys() == {
        "TH",
        "MY",
        "SG",
    }
    expected = at("SG", "transit", "list")
    assert isinstance(expected, list)
    assert [m["status"] for m in reversed(expected)] == ["discharged", "unloaded", "enquiry"]
    assert "off_route" in result.stdout and "door_open" in result.stdout

    # a user of every role on each node, with the portal's address and the demo password
    sign_ins = _sign_ins(result.stdout)
    for n, country in enumerate(("TH", "VN", "SG", "MY")):
        url = f"https://127.0.0.1:{base_port + n}"
        assert {role for _, role in sign_ins[f"{country}: {url}/sign-in"]} == set(Role)
    # and one of them signs in, over the real socket, to the VN node served again
    ca = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    url = f"https://127.0.0.1:{base_port + 1}"
    officer = next(name for name, role in sign_ins[f"VN: {url}/sign-in"] if role == "officer")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_")}
    vn = NodeProcess([str(BIN), "serve", "--config", str(directory / "VN" / "node.json")],
                     env, url, tmp_path / "vn-again.log", cwd=tmp_path,
                     country="VN", verify=ca)  # fmt: skip
    try:
        vn.start()
        with httpx.Client(base_url=url, verify=ca, timeout=60) as client:
            form = client.get("/sign-in")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert form.status_code == 200 and token is not None
            data = {"csrf_token": token.group(1), "username": officer, "password": DEMO_PASSWORD}
            signed = client.post("/sign-in", data=data)
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/"
        assert "ow_session=" in signed.headers["set-cookie"]
    finally:
        vn.stop()


def _sign_ins(stdout: str) -> dict[str, list[tuple[str, str]]]:
    """The (username, role) rows printed with the demo password, by title ("VN: URL")."""
    found: dict[str, list[tuple[str, str]]] = {}
    rows: list[tuple[str, str]] = []
    for line in stdout.splitlines():
        if title := re.match(r"([A-Z]{2}: https?://\S+/sign-in)\s*$", line):
            rows = found.setdefault(title.group(1), [])
        cells = [c.strip() for c in re.split(r"[│|]", line)[1:-1]]
        if len(cells) == 4 and cells[1] == DEMO_PASSWORD:
            rows.append((cells[0], cells[2]))
    return found
