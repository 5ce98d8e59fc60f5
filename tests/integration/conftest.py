from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent / "onewindow"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NodeProcess:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"node exited with {process.returncode}")
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("node did not come up")


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[NodeProcess]:
    port = free_port()
    env = os.environ | {
        "ONEWINDOW_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}",
        "ONEWINDOW_COUNTRY": "VN",
        "ONEWINDOW_PORT": str(port),
        "ONEWINDOW_RANDOM_SHARE": "0",  # no random lane picks: the flow is deterministic
    }
    process = subprocess.Popen(
        [str(BIN), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield NodeProcess(url, env, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
