"""`mkdocs serve` rebuilds when a record changes: the reader sees the edit without a restart."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "site"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def _wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_serve_rebuilds_after_a_record_changes(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    port = _free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}",
                               "-f", str(project / "mkdocs.yml")], cwd=project, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/kb/papers/base2020/"
        assert _wait_for(lambda: "基础方法" in (_get(url) or ""), 60), "the server never served the paper page"
        record = project / "papers" / "base2020.yaml"
        record.write_text(record.read_text(encoding="utf-8").replace("基础方法", "修改后的方法"), encoding="utf-8")
        assert _wait_for(lambda: "修改后的方法" in (_get(url) or ""), 30), "the page did not change after the edit"
    finally:
        server.terminate()
        server.wait(timeout=10)
