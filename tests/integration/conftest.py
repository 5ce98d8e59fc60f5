"""Node processes for the integration tests: one way to start them, wait for them and stop them.

On a loaded machine a node can take a minute to start, so readiness is polled with a generous
bound (ONEWINDOW_TEST_STARTUP_SECONDS, 180 s by default). Whatever happens, a process a test
started is stopped: `NodeProcess.start()` stops it itself if it does not come up, fixtures stop
theirs in a `finally`, and a last fixture of the session stops any left over.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent / "onewindow"
STARTUP_SECONDS = float(os.environ.get("ONEWINDOW_TEST_STARTUP_SECONDS", "180"))

_started: list[NodeProcess] = []  # every process of this test session, for the last sweep


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(n: int) -> list[int]:
    """`n` distinct free ports: held open together, so none is handed out twice."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


class NodeDidNotStart(RuntimeError):
    """The process exited, or did not answer as ready in time; it has been stopped."""


@dataclass
class NodeProcess:
    """A node (`onewindow serve` or a launcher) run as a process, its output in `log`."""

    args: list[str]
    env: dict[str, str]
    url: str
    log: Path
    cwd: Path | None = None
    country: str | None = None  # if set, /health must name it (ports are reused)
    verify: ssl.SSLContext | bool = True  # over TLS: the federation CA
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = STARTUP_SECONDS) -> NodeProcess:
        """Start the process and wait until it answers; if it never does, stop it and raise."""
        self.launch()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def launch(self) -> None:
        with self.log.open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                self.args, env=self.env, cwd=self.cwd, stdout=log, stderr=log
            )
        _started.append(self)

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                raise NodeDidNotStart(f"{self.name} exited: {self.tail()}")
            if self.ready():
                return
            if time.monotonic() > deadline:
                raise NodeDidNotStart(f"{self.name} not ready after {timeout:.0f} s: {self.tail()}")
            time.sleep(0.1)

    def ready(self) -> bool:
        try:
            health = httpx.get(self.url + "/api/v1/health", timeout=5, verify=self.verify)
        except httpx.TransportError:
            return False
        if health.status_code != 200:
            return False
        return self.country is None or health.json().get("country") == self.country

    @property
    def name(self) -> str:
        return self.country or self.url

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        """Ask it to stop; kill it if it does not."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            self.process.wait()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a CLI command against this node's settings."""
        return subprocess.run(
            [str(BIN), *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture(scope="session", autouse=True)
def _stop_left_over_nodes() -> Iterator[None]:
    """The last safety net: no node process outlives the test session."""
    yield
    for node in _started:
        node.stop()


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[NodeProcess]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_")} | {
        "ONEWINDOW_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}",
        "ONEWINDOW_COUNTRY": "VN",
        "ONEWINDOW_PORT": str(port),
        "ONEWINDOW_RANDOM_SHARE": "0",  # no random lane picks: the flow is deterministic
    }
    node = NodeProcess(
        [str(BIN), "serve"], env, f"http://127.0.0.1:{port}", tmp_path / "serve.log",
        cwd=tmp_path, country="VN",
    )  # fmt: skip
    try:
        yield node.start()
    finally:
        node.stop()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    """Poll `check`; the bound is generous because a loaded machine is slow, not broken."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
