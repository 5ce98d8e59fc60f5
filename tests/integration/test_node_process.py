"""The helper every integration test starts nodes with, and `serve`'s word that it is up."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from tests.integration.conftest import BIN, NodeDidNotStart, NodeProcess, free_port


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_")} | {
        "ONEWINDOW_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}",
        "ONEWINDOW_PORT": str(port),
    }


def test_a_node_that_exits_at_start_up_raises_and_leaves_nothing(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, port) | {"ONEWINDOW_COUNTRY": "XX"}
    node = NodeProcess([str(BIN), "serve"], env, f"http://127.0.0.1:{port}", tmp_path / "log")
    with pytest.raises(NodeDidNotStart, match="ONEWINDOW_COUNTRY"):
        node.start()
    assert node.process is not None and node.process.returncode == 2


def test_a_node_that_never_gets_ready_is_stopped(tmp_path: Path) -> None:
    """Up, but not the node the test waits for (another country answers): after the bound,
    the process is stopped before the error is raised."""
    port = free_port()
    env = _env(tmp_path, port) | {"ONEWINDOW_COUNTRY": "VN"}
    node = NodeProcess(
        [str(BIN), "serve", "--no-deliver"], env, f"http://127.0.0.1:{port}", tmp_path / "log",
        country="TH",
    )  # fmt: skip
    with pytest.raises(NodeDidNotStart, match="not ready"):
        node.start(timeout=20)
    assert node.process is not None and node.process.poll() is not None
    with socket.socket() as probe:  # its port is free again
        probe.bind(("127.0.0.1", port))


def test_serve_says_serving_only_once_it_listens(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, port)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = subprocess.run([str(BIN), "serve", "--no-deliver"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 1
    assert "serving" not in done.stdout
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
    process = subprocess.Popen(
        [str(BIN), "serve", "--no-deliver"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "serving" in line:
                break
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # listening now
    finally:
        process.terminate()
        process.wait(30)
        if process.stdout is not None:
            process.stdout.close()
